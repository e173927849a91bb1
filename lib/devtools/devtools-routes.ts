import { readFile } from 'node:fs/promises';
import { type Context, Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { DEFAULT_APP_ID } from '../inbox/app-scope.js';
import type { InboxReceiver } from '../inbox/inbound-event.js';
import type { Job, Store } from '../store/store.js';
import type { AttachmentThumbnails } from './attachment-thumbnails.js';
import { createAuthThrottle, throttleClient } from './auth-throttle.js';
import { chatSettingsRoutes, type DevtoolsChatsByApp } from './chat-settings-routes.js';
import {
  DEVTOOLS_COOKIE,
  devtoolsAuth,
  nodeRemoteAddress,
  type RemoteAddressResolver,
  rejectCrossSite,
  secretsEqual,
  tooManyAttempts,
} from './devtools-auth.js';
import { readFilter, readInteger } from './devtools-query.js';
import type { DevtoolsReplies } from './devtools-replies.js';
import { type DevtoolsStreamsOptions, devtoolsStreams } from './devtools-streams.js';
import { createPlayground, PlaygroundRequestError } from './playground.js';
import { mintSessionCookie } from './session-cookie.js';
import { type DevtoolsSpend, spendRoutes } from './spend-routes.js';
import type { Tracker } from './tracker.js';
import { isVendorFile, readVendorFile } from './ui-vendor.js';

/** SSE timing and limits (heartbeat, longest chat stream, chat streams open) are passed on to `devtoolsStreams`. */
export interface DevtoolsRoutesOptions
  extends Pick<DevtoolsStreamsOptions, 'heartbeatMs' | 'chatStreamMaxMs' | 'maxChatStreams'> {
  tracker: Tracker;
  replies: DevtoolsReplies;
  /** Previews of images users sent, served at /api/traces/:id/attachments/:key. */
  thumbnails?: AttachmentThumbnails | undefined;
  /** The inbox the playground feeds; without one POST /api/chat answers 503. */
  inbox?: InboxReceiver;
  /**
   * The ids of the Feishu apps served, the default (or first) first: the playground answers as the
   * one a message names (`app`). Default: the one default app.
   */
  apps?: readonly string[];
  store: Pick<Store, 'listJobs' | 'retryJob'>;
  /** The same snapshot GET /health serves. */
  healthSnapshot: () => unknown;
  /** DEVTOOLS_TOKEN; without one only loopback requests get in. */
  token: string | undefined;
  /**
   * Whether the server listens on a loopback address only; the loopback pass exists only then
   * (see `devtoolsAuth`). Read per request, since the bound address is known once listening.
   * Default: never.
   */
  boundToLoopback?: () => boolean;
  now?: () => number;
  /** Peer address of a request; tests inject one because `app.request()` has no socket. */
  remoteAddress?: RemoteAddressResolver;
  /** Where index.html, app.js and app.css live (lib/devtools/ui under tsx, dist/lib/devtools/ui when built). */
  uiDirectory?: URL;
  /** Longest playground message (MAX_INPUT_CHARS). */
  maxChatChars?: number;
  /**
   * Whether a handler answers messages (the manager agent, or a test's stand-in). When none does,
   * the playground says so at once instead of queueing a message nobody will answer.
   */
  canAnswer?: () => boolean;
  /** What the playground answers when nothing can answer. */
  agentOffMessage?: string;
  /** Per-chat settings and memberships for the Chats tab; without them its API answers 404. */
  chats?: DevtoolsChatsByApp | undefined;
  /** The spend ledger for the Spend tab; without it its API answers 404. */
  spend?: DevtoolsSpend | undefined;
  /** Login cookie lifetime; the server checks the expiry signed into the cookie. */
  sessionMaxAgeSeconds?: number;
  /**
   * Wrong tokens (Bearer, cookie or login) one client address may present per minute; beyond it
   * every credential from that address answers 429 until the minute is over.
   */
  maxTokenFailuresPerMinute?: number;
  /** Client addresses the throttle remembers at most. */
  maxThrottledClients?: number;
  /**
   * Aborted when the process starts draining: open SSE streams end at once (a browser tab left
   * open must not hold the server open) and new ones are refused with 503.
   */
  shutdownSignal?: AbortSignal;
}

const JAVASCRIPT = 'text/javascript; charset=utf-8';
/** The UI's files (lib/devtools/ui) and the libraries it imports (ui-vendor.ts), by name. */
const ASSETS: Readonly<Record<string, string>> = {
  'app.js': JAVASCRIPT,
  'api.js': JAVASCRIPT,
  'dom.js': JAVASCRIPT,
  'describe-event.js': JAVASCRIPT,
  'health-view.js': JAVASCRIPT,
  'markdown.js': JAVASCRIPT,
  'playground.js': JAVASCRIPT,
  'chats-view.js': JAVASCRIPT,
  'spend-view.js': JAVASCRIPT,
  'app.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
  'marked.esm.js': JAVASCRIPT,
  'purify.es.mjs': JAVASCRIPT,
};

/** The playground's answer when no model is configured. */
export const AGENT_OFF_MESSAGE =
  'The agent is off: set MODEL and OPENAI_API_KEY (see README.md, Configuration), then restart the bot.';

/**
 * The devtools HTTP surface, mounted at /devtools: the UI, its static assets, and the JSON + SSE
 * API under /devtools/api. Every route sits behind `devtoolsAuth`; POSTs also behind
 * `rejectCrossSite`.
 *
 * @example
 * routes.push({ path: '/devtools', app: devtoolsRoutes({ tracker, replies, inbox, store, healthSnapshot, token }) });
 */
export function devtoolsRoutes({
  tracker,
  thumbnails,
  replies,
  inbox,
  apps = [DEFAULT_APP_ID],
  store,
  healthSnapshot,
  token,
  boundToLoopback,
  now = Date.now,
  remoteAddress = nodeRemoteAddress,
  uiDirectory = new URL('./ui/', import.meta.url),
  heartbeatMs,
  chatStreamMaxMs,
  maxChatStreams,
  maxChatChars = 8_000,
  canAnswer = () => true,
  agentOffMessage = AGENT_OFF_MESSAGE,
  sessionMaxAgeSeconds = 12 * 3_600,
  maxTokenFailuresPerMinute = 20,
  maxThrottledClients = 10_000,
  shutdownSignal,
  chats,
  spend,
}: DevtoolsRoutesOptions): Hono {
  const app = new Hono();
  const playground = inbox ? createPlayground({ inbox, maxChars: maxChatChars, apps, now }) : undefined;
  const assetCache = new Map<string, string>();

  async function asset(name: string): Promise<string | undefined> {
    const cached = assetCache.get(name);
    if (cached !== undefined) return cached;
    try {
      const text = isVendorFile(name) ? await readVendorFile(name) : await readFile(new URL(name, uiDirectory), 'utf8');
      if (text === undefined) return undefined;
      assetCache.set(name, text);
      return text;
    } catch {
      return undefined;
    }
  }

  const throttle = createAuthThrottle({
    maxFailures: maxTokenFailuresPerMinute,
    windowMs: 60_000,
    maxClients: maxThrottledClients,
    now,
  });
  app.use(
    '*',
    devtoolsAuth({
      token,
      remoteAddress,
      boundToLoopback,
      throttle,
      now,
      isPublic: (c) => c.req.method === 'POST' && c.req.path.endsWith('/api/login'),
    }),
  );
  app.use('*', rejectCrossSite());
  app.use('/api/*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
  });

  // ── UI ────────────────────────────────────────────────────────────────────
  const page = async (c: Context) => {
    const html = await asset('index.html');
    if (html === undefined) return c.json({ error: 'ui_missing', message: 'devtools UI files not found' }, 500);
    c.header('Cache-Control', 'no-cache');
    return c.html(html);
  };
  app.get('/', page);
  app.get('/index.html', page);
  app.get('/assets/:name', async (c) => {
    const name = c.req.param('name');
    const type = ASSETS[name];
    const body = type ? await asset(name) : undefined;
    if (!type || body === undefined) return c.json({ error: 'not_found' }, 404);
    c.header('Content-Type', type);
    c.header('Cache-Control', 'no-cache');
    c.header('X-Content-Type-Options', 'nosniff');
    return c.body(body);
  });

  // ── session ───────────────────────────────────────────────────────────────
  app.post('/api/login', async (c) => {
    const client = throttleClient(remoteAddress(c));
    const wait = throttle.retryAfterSeconds(client);
    if (wait > 0) return tooManyAttempts(c, wait);
    const form = (c.req.header('content-type') ?? '').includes('application/x-www-form-urlencoded');
    let candidate: unknown;
    try {
      candidate = form ? (await c.req.parseBody()).token : ((await c.req.json()) as { token?: unknown })?.token;
    } catch {
      return c.json({ error: 'invalid_body', message: 'Send {"token":"…"}' }, 400);
    }
    if (token === undefined || typeof candidate !== 'string' || !secretsEqual(candidate, token)) {
      throttle.recordFailure(client);
      return c.json({ error: 'unauthorized', message: 'Wrong token' }, 401);
    }
    setCookie(c, DEVTOOLS_COOKIE, mintSessionCookie(token, now() + sessionMaxAgeSeconds * 1_000), {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/devtools',
      maxAge: sessionMaxAgeSeconds,
      secure: new URL(c.req.url).protocol === 'https:',
    });
    return form ? c.redirect('/devtools', 303) : c.json({ ok: true });
  });
  app.post('/api/logout', (c) => {
    deleteCookie(c, DEVTOOLS_COOKIE, { path: '/devtools' });
    return c.json({ ok: true });
  });

  // ── read API ──────────────────────────────────────────────────────────────
  app.get('/api/events', (c) => {
    const filter = readFilter(c);
    if (typeof filter === 'string') return c.json({ error: 'invalid_query', message: filter }, 400);
    const after = readInteger(c.req.query('after'));
    const before = readInteger(c.req.query('before'));
    const limit = readInteger(c.req.query('limit'));
    return c.json(tracker.events({ ...filter, after, before, limit }));
  });

  app.get('/api/traces', (c) => {
    const filter = readFilter(c);
    if (typeof filter === 'string') return c.json({ error: 'invalid_query', message: filter }, 400);
    return c.json({ traces: tracker.traces({ ...filter, limit: readInteger(c.req.query('limit')) }) });
  });

  app.get('/api/traces/:id', async (c) => {
    const trace = await tracker.trace(c.req.param('id'));
    return trace ? c.json(trace) : c.json({ error: 'not_found', message: 'No such trace (it may have aged out)' }, 404);
  });

  app.get('/api/traces/:id/attachments/:key', (c) => {
    const preview = thumbnails?.get(c.req.param('id'), c.req.param('key'));
    if (preview === undefined) {
      return c.json({ error: 'not_found', message: 'No preview of that image (it may have aged out)' }, 404);
    }
    return c.body(new Uint8Array(preview.bytes), 200, {
      'content-type': preview.mediaType,
      // A user's picture: never kept by a shared cache.
      'cache-control': 'private, no-store',
    });
  });

  app.get('/api/stats', async (c) => c.json(await tracker.stats()));
  app.get('/api/health', async (c) => c.json((await healthSnapshot()) ?? null));

  app.get('/api/dead-letters', async (c) => {
    const limit = Math.min(readInteger(c.req.query('limit')) ?? 50, 200);
    const jobs = await store.listJobs({ status: 'dead', limit: Math.max(1, limit) });
    return c.json({ jobs: jobs.map(deadLetterView) });
  });

  app.post('/api/dead-letters/:id/retry', async (c) => {
    const retried = await store.retryJob(c.req.param('id'), now());
    return retried
      ? c.json({ retried: true })
      : c.json({ error: 'not_dead', message: 'No dead-lettered job with this id' }, 404);
  });

  // ── playground ────────────────────────────────────────────────────────────
  if (chats !== undefined) chatSettingsRoutes(app, chats);
  if (spend !== undefined) spendRoutes(app, spend);

  // `apps`: whom the playground may talk to (the UI's selector), the default (or first) first.
  app.get('/api/playground', (c) =>
    c.json(canAnswer() ? { answering: true, apps } : { answering: false, message: agentOffMessage, apps }),
  );

  app.post('/api/chat', async (c) => {
    if (!playground) return c.json({ error: 'inbox_unavailable', message: 'The inbox is not running' }, 503);
    // Queued, the message would wait for a process with a model: say so now instead.
    if (!canAnswer()) return c.json({ error: 'agent_off', message: agentOffMessage }, 503);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: 'invalid_body', message: 'Body must be JSON like {"text":"hello"}' }, 400);
    }
    try {
      const result = await playground.send(body);
      switch (result.status) {
        case 'accepted':
          return c.json({ traceId: result.jobId });
        case 'duplicate':
          return c.json({ error: 'duplicate', message: `Already received (${result.key})` }, 409);
        case 'ignored':
          return c.json({ error: 'ignored', message: result.reason }, 422);
        case 'unavailable':
          return c.json({ error: 'unavailable', message: 'The store is unavailable; try again' }, 503);
      }
    } catch (error) {
      if (PlaygroundRequestError.isInstance(error)) return c.json({ error: error.code, message: error.message }, 400);
      throw error;
    }
  });

  // ── SSE: a playground answer, and the live feed ─────────────────────────────
  app.route(
    '/',
    devtoolsStreams({ tracker, replies, now, heartbeatMs, chatStreamMaxMs, maxChatStreams, shutdownSignal }),
  );

  // `/devtools/` (a typed or bookmarked trailing slash) lands on the UI rather than a 404.
  app.get('/*', (c) =>
    c.req.path.endsWith('/devtools/') ? c.redirect('/devtools', 301) : c.json({ error: 'not_found' }, 404),
  );

  return app;
}

/** What the dead-letter list shows: enough to recognise the message, not the whole payload. */
function deadLetterView(job: Job) {
  return {
    id: job.id,
    lane: job.lane,
    kind: job.kind,
    attempts: job.attempts,
    lastError: job.lastError ? job.lastError.slice(0, 1_000) : null,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    preview: messagePreview(job.payload),
  };
}

function messagePreview(payload: unknown): string | null {
  const neutral = (payload as { message?: { text?: unknown } } | null)?.message;
  if (typeof neutral?.text === 'string') return neutral.text.slice(0, 200);
  const message = (payload as { event?: { message?: { content?: unknown } } } | null)?.event?.message;
  if (typeof message?.content !== 'string') return null;
  try {
    const content = JSON.parse(message.content) as { text?: unknown };
    return typeof content.text === 'string' ? content.text.slice(0, 200) : null;
  } catch {
    return null;
  }
}
