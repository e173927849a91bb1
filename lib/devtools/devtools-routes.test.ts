import type { Hono } from 'hono';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixture } from '../../test/support/attachment-fixtures.js';
import { createApp } from '../app.js';
import { createMetrics } from '../health/metrics.js';
import type { AcceptResult, InboundEvent } from '../inbox/inbound-event.js';
import { createEventBus, type EventBus } from '../observe/event-bus.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { sleep } from '../util/sleep.js';
import { withTimeout } from '../util/with-timeout.js';
import { type AttachmentThumbnails, createAttachmentThumbnails } from './attachment-thumbnails.js';
import { DEVTOOLS_COOKIE } from './devtools-auth.js';
import { createDevtoolsReplies, type DevtoolsReplies } from './devtools-replies.js';
import { AGENT_OFF_MESSAGE, devtoolsRoutes } from './devtools-routes.js';
import type { EventPage } from './event-ring.js';
import { readMetricTotals } from './metric-totals.js';
import { mintSessionCookie } from './session-cookie.js';
import { devtoolsSpendOf } from './spend-routes.js';
import type { Trace, TraceSummary } from './trace-reducer.js';
import { createTracker, type Tracker } from './tracker.js';
import type { TrackerStats } from './tracker-stats.js';

const TOKEN = 'devtools-token-for-tests-0123456789';
const REMOTE = '203.0.113.7';
const XSS = '<img src=x onerror=window.__xss=1>';

interface Harness {
  app: Hono;
  bus: EventBus;
  tracker: Tracker;
  replies: DevtoolsReplies;
  store: Store;
  accepted: InboundEvent[];
  setRemote(address: string | undefined): void;
  /** The routes' clock: tests move it. */
  clock: { now: number };
}

const open: Harness[] = [];

/** Response JSON typed as the route documents it. */
async function json<T>(response: Response | Promise<Response>): Promise<T> {
  return (await (await response).json()) as T;
}
type TraceList = { traces: TraceSummary[] };

async function harness({
  token = TOKEN as string | undefined,
  withInbox = true,
  shutdownSignal = undefined as AbortSignal | undefined,
  canAnswer = undefined as (() => boolean) | undefined,
  boundToLoopback = true,
  maxChatStreams = undefined as number | undefined,
  thumbnails = undefined as AttachmentThumbnails | undefined,
  apps = undefined as readonly string[] | undefined,
} = {}): Promise<Harness> {
  const clock = { now: Date.now() };
  const bus = createEventBus();
  const store = await openStore('sqlite::memory:');
  const metrics = createMetrics({ instanceId: 'devtools-test', collectDefault: false });
  metrics.attach(bus);
  const tracker = createTracker({ bus, store, ringSize: 500, totals: () => readMetricTotals(metrics.registry) });
  const replies = createDevtoolsReplies({ bus });
  const accepted: InboundEvent[] = [];
  let remote: string | undefined = REMOTE;
  const inbox = {
    async accept(event: InboundEvent): Promise<AcceptResult> {
      accepted.push(event);
      const jobId = `message:job-${accepted.length}`;
      bus.emit({
        type: 'event.received',
        traceId: jobId,
        source: event.source,
        eventType: event.eventType,
        eventId: event.eventId,
      });
      return { status: 'accepted', jobId };
    },
  };
  const routes = devtoolsRoutes({
    tracker,
    thumbnails,
    replies,
    inbox: withInbox ? inbox : undefined,
    ...(apps === undefined ? {} : { apps }),
    store,
    healthSnapshot: () => ({ status: 'healthy', agents: {} }),
    token,
    boundToLoopback: () => boundToLoopback,
    now: () => clock.now,
    remoteAddress: () => remote,
    heartbeatMs: 50,
    maxChatStreams,
    shutdownSignal,
    spend: devtoolsSpendOf({ store, timeZone: 'UTC', membership: { list: async () => [] } }),
    canAnswer,
  });
  const app = createApp({
    log: pino({ level: 'silent' }),
    routes: [{ path: '/devtools', app: routes, browser: true }],
  });
  const result = {
    app,
    bus,
    tracker,
    replies,
    store,
    accepted,
    setRemote: (address: string | undefined) => (remote = address),
    clock,
  };
  open.push(result);
  return result;
}

afterEach(async () => {
  for (const { tracker, store } of open.splice(0)) {
    await tracker.close();
    await store.close();
  }
});

async function deadJob(store: Store, id: string): Promise<void> {
  await store.enqueue({
    id,
    lane: `lane-${id}`,
    kind: 'answer',
    payload: { event: { message: { content: JSON.stringify({ text: 'the lost question' }) } } },
  });
  // Earlier retried jobs are older and claimed first; they are test jobs too, so they die again.
  for (let attempt = 0; attempt < 20; attempt++) {
    const job = await store.claimNextJob({ owner: 'test', leaseMs: 10_000 });
    if (!job) break;
    await store.failJob(job.id, 'test', { error: 'model exploded', dead: true });
    if (job.id === id) return;
  }
  throw new Error('could not dead-letter the job');
}

/** What the inbox reports when the playground hands it a message: the trace a chat stream may follow. */
function playgroundMessage(h: Harness, traceId: string): string {
  h.bus.emit({
    type: 'event.received',
    traceId,
    source: 'devtools',
    eventType: 'im.message.receive_v1',
    eventId: traceId,
  });
  return traceId;
}

/** Reads an SSE body until `done(text)` holds, then cancels it. */
async function readStream(response: Response, done: (text: string) => boolean, timeoutMs = 5_000): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) throw new Error('no body');
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + timeoutMs;
  try {
    while (!done(text)) {
      if (Date.now() > deadline) throw new Error(`stream did not deliver in time; got: ${text}`);
      const chunk = await withTimeout(reader.read(), timeoutMs, () => new Error(`stream timed out; got: ${text}`));
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return text;
}

type RouteCase = { method: 'GET' | 'POST'; path: string; body?: unknown; sse?: boolean };

/** Every devtools route, ready to be called once (the harness prepares what each needs). */
async function everyRoute(h: Harness): Promise<RouteCase[]> {
  playgroundMessage(h, 'trace-1');
  h.bus.emit({
    type: 'message.received',
    traceId: 'trace-1',
    chatId: 'oc_1',
    chatType: 'p2p',
    userId: 'ou_1',
    text: 'hi',
  });
  await deadJob(h.store, `dead-${Math.random()}`);
  const [dead] = await h.store.listJobs({ status: 'dead', limit: 1 });
  return [
    { method: 'GET', path: '/devtools' },
    { method: 'GET', path: '/devtools/assets/app.js' },
    { method: 'GET', path: '/devtools/assets/app.css' },
    { method: 'GET', path: '/devtools/assets/markdown.js' },
    { method: 'GET', path: '/devtools/assets/marked.esm.js' },
    { method: 'GET', path: '/devtools/assets/purify.es.mjs' },
    { method: 'GET', path: '/devtools/api/playground' },
    { method: 'GET', path: '/devtools/api/events' },
    { method: 'GET', path: '/devtools/api/traces' },
    { method: 'GET', path: '/devtools/api/traces/trace-1' },
    { method: 'GET', path: '/devtools/api/stats' },
    { method: 'GET', path: '/devtools/api/health' },
    { method: 'GET', path: '/devtools/api/stream', sse: true },
    { method: 'GET', path: '/devtools/api/dead-letters' },
    { method: 'GET', path: '/devtools/api/spend' },
    { method: 'POST', path: `/devtools/api/dead-letters/${encodeURIComponent(dead?.id ?? '')}/retry`, body: {} },
    { method: 'POST', path: '/devtools/api/chat', body: { text: 'hello' } },
    { method: 'GET', path: '/devtools/api/chat/trace-1/stream', sse: true },
    { method: 'POST', path: '/devtools/api/logout', body: {} },
  ];
}

async function call(h: Harness, route: RouteCase, headers: Record<string, string> = {}): Promise<number> {
  const response = await h.app.request(route.path, {
    method: route.method,
    headers: { ...(route.body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: route.body === undefined ? undefined : JSON.stringify(route.body),
  });
  await response.body?.cancel().catch(() => {});
  return response.status;
}

describe('devtools access control', () => {
  it('answers 401 on every route to a non-loopback caller without credentials, 200 with the Bearer token', async () => {
    const h = await harness();
    for (const route of await everyRoute(h)) {
      expect([route.path, await call(h, route)]).toEqual([route.path, 401]);
    }
    for (const route of await everyRoute(h)) {
      expect([route.path, await call(h, route, { authorization: `Bearer ${TOKEN}` })]).toEqual([route.path, 200]);
    }
  });

  it('serves a preview of an image a user sent only with credentials, never cached by others', async () => {
    const thumbnails = createAttachmentThumbnails();
    await thumbnails.add('message:om_1', 'img_1', fixture('screenshot.png'));
    const h = await harness({ thumbnails });
    const path = '/devtools/api/traces/message%3Aom_1/attachments/img_1';
    expect((await h.app.request(path)).status).toBe(401);
    const preview = await h.app.request(path, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(preview.status).toBe(200);
    expect(preview.headers.get('content-type')).toBe('image/jpeg');
    expect(preview.headers.get('cache-control')).toContain('no-store');
    expect(Buffer.from(await preview.arrayBuffer()).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const missing = await h.app.request('/devtools/api/traces/message%3Aom_1/attachments/img_2', {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(missing.status).toBe(404);
  });

  it('answers 401 to a wrong token, in the header or the cookie', async () => {
    const h = await harness();
    let client = 0;
    for (const route of await everyRoute(h)) {
      // Three wrong credentials per address: well inside the throttle's allowance.
      h.setRemote(`198.51.100.${++client}`);
      expect(await call(h, route, { authorization: `Bearer ${TOKEN}x` })).toBe(401);
      const forged = mintSessionCookie('a-different-token-of-at-least-32-chars', h.clock.now + 60_000);
      expect(await call(h, route, { cookie: `${DEVTOOLS_COOKIE}=${forged}` })).toBe(401);
      // The raw token is not a valid cookie: only the login endpoint mints one.
      expect(await call(h, route, { cookie: `${DEVTOOLS_COOKIE}=${TOKEN}` })).toBe(401);
    }
  });

  it('answers 401 to every non-loopback request when no token is configured, even with a guess', async () => {
    const h = await harness({ token: undefined });
    for (const route of await everyRoute(h)) {
      expect(await call(h, route)).toBe(401);
      expect(await call(h, route, { authorization: 'Bearer undefined' })).toBe(401);
    }
    const login = await h.app.request('/devtools/api/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: '' }),
    });
    expect(login.status).toBe(401);
  });

  it('lets loopback callers in without a token, but not through a reverse proxy', async () => {
    const h = await harness({ token: undefined });
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
      h.setRemote(address);
      for (const route of await everyRoute(h))
        expect([address, route.path, await call(h, route)]).toEqual([address, route.path, 200]);
    }
    h.setRemote('127.0.0.1');
    expect(await call(h, { method: 'GET', path: '/devtools/api/stats' }, { 'x-forwarded-for': '127.0.0.1' })).toBe(401);
    h.setRemote(undefined);
    expect(await call(h, { method: 'GET', path: '/devtools/api/stats' })).toBe(401);
    h.setRemote('127.0.0.2');
    expect(await call(h, { method: 'GET', path: '/devtools/api/stats' })).toBe(401);
    // DNS rebinding: a foreign page resolved to 127.0.0.1 still names its own host.
    h.setRemote('127.0.0.1');
    expect(await call(h, { method: 'GET', path: '/devtools/api/stats' }, { host: 'attacker.example:3000' })).toBe(401);
    expect(await call(h, { method: 'GET', path: '/devtools/api/stats' }, { host: 'localhost:3000' })).toBe(200);
    expect(await call(h, { method: 'GET', path: '/devtools/api/stats' }, { host: '[::1]:3000' })).toBe(200);
  });

  it('gives loopback callers no pass while the server listens beyond loopback: the token decides', async () => {
    const h = await harness({ boundToLoopback: false });
    h.setRemote('127.0.0.1');
    for (const route of await everyRoute(h)) {
      expect([route.path, await call(h, route, { host: 'localhost:3000' })]).toEqual([route.path, 401]);
    }
    for (const route of await everyRoute(h)) {
      const status = await call(h, route, { host: 'localhost:3000', authorization: `Bearer ${TOKEN}` });
      expect([route.path, status]).toEqual([route.path, 200]);
    }
  });

  it('throttles wrong tokens per client address: the guesser gets 429, the owner elsewhere still gets in', async () => {
    const h = await harness();
    const stats = { method: 'GET', path: '/devtools/api/stats' } as const;
    const login = (token: string) =>
      h.app.request('/devtools/api/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token }),
      });
    h.setRemote('203.0.113.66');
    for (let attempt = 0; attempt < 10; attempt++) {
      expect(await call(h, stats, { authorization: `Bearer guess-${attempt}` })).toBe(401);
      expect(await call(h, stats, { cookie: `${DEVTOOLS_COOKIE}=v1.99999999999999.guess${attempt}` })).toBe(401);
    }
    // 20 failures this minute: every credential from this address is refused, even the right one,
    // so a correct guess cannot be told apart from a wrong one.
    expect(await call(h, stats, { authorization: `Bearer ${TOKEN}` })).toBe(429);
    const refusedLogin = await login(TOKEN);
    expect(refusedLogin.status).toBe(429);
    expect(Number(refusedLogin.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refusedLogin.headers.get('set-cookie')).toBeNull();

    // The owner, from another address, with the Bearer token and through the login form.
    h.setRemote('198.51.100.9');
    expect(await call(h, stats, { authorization: `Bearer ${TOKEN}` })).toBe(200);
    expect((await login(TOKEN)).status).toBe(200);
    // An IPv6 guesser cannot escape by hopping addresses inside its /64.
    for (let attempt = 0; attempt < 20; attempt++) {
      h.setRemote(`2001:db8:1:2::${(attempt + 1).toString(16)}`);
      expect(await call(h, stats, { authorization: `Bearer guess-${attempt}` })).toBe(401);
    }
    h.setRemote('2001:db8:1:2:ffff::1');
    expect(await call(h, stats, { authorization: `Bearer ${TOKEN}` })).toBe(429);

    // A minute later the guesser's address may try again.
    h.clock.now += 60_000;
    h.setRemote('203.0.113.66');
    expect(await call(h, stats, { authorization: `Bearer ${TOKEN}` })).toBe(200);
  });

  it('checks the expiry signed into the session cookie, whatever the browser keeps', async () => {
    const h = await harness();
    const login = await h.app.request('/devtools/api/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: TOKEN }),
    });
    const setCookie = login.headers.get('set-cookie') ?? '';
    expect(setCookie).toContain('Max-Age=43200');
    const cookie = setCookie.split(';')[0] ?? '';
    const stats = { method: 'GET', path: '/devtools/api/stats' } as const;
    h.clock.now += 12 * 3_600_000 - 1_000;
    expect(await call(h, stats, { cookie })).toBe(200);
    h.clock.now += 2_000;
    const expired = await h.app.request('/devtools/api/stats', { headers: { cookie } });
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { message: string }).message).toMatch(/expired/);
    // An expiry edited by hand breaks the signature.
    const [version, , mac] = cookie.slice(`${DEVTOOLS_COOKIE}=`.length).split('.');
    const extended = `${DEVTOOLS_COOKIE}=${version}.${h.clock.now + 3_600_000}.${mac}`;
    expect(await call(h, stats, { cookie: extended })).toBe(401);
    // A genuine but expired cookie is not a guess: a tab left open does not lock its owner out.
    for (let poll = 0; poll < 30; poll++) expect(await call(h, stats, { cookie })).toBe(401);
    expect(await call(h, stats, { authorization: `Bearer ${TOKEN}` })).toBe(200);
  });

  it('logs in with the token and sets an HttpOnly SameSite=Strict cookie that then grants access', async () => {
    const h = await harness();
    const wrong = await h.app.request('/devtools/api/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'nope' }),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const login = await h.app.request('/devtools/api/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://localhost' },
      body: JSON.stringify({ token: TOKEN }),
    });
    expect(login.status).toBe(200);
    const setCookie = login.headers.get('set-cookie') ?? '';
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/devtools');
    expect(setCookie).not.toContain(TOKEN);
    const cookie = setCookie.split(';')[0] ?? '';
    for (const route of await everyRoute(h)) {
      expect([route.path, await call(h, route, { cookie })]).toEqual([route.path, 200]);
    }

    const form = await h.app.request('/devtools/api/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: TOKEN }).toString(),
    });
    expect(form.status).toBe(303);
    expect(form.headers.get('location')).toBe('/devtools');
  });

  it('slows token guessing: wrong logins beyond the limit answer 429, even with the right token', async () => {
    const h = await harness();
    const login = (token: string) =>
      h.app.request('/devtools/api/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token }),
      });
    for (let attempt = 0; attempt < 20; attempt++) expect((await login(`guess-${attempt}`)).status).toBe(401);
    const limited = await login(TOKEN);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('shows a browser a script-free login form with the 401', async () => {
    const h = await harness();
    const response = await h.app.request('/devtools', { headers: { accept: 'text/html' } });
    expect(response.status).toBe(401);
    const html = await response.text();
    expect(html).toContain('action="/devtools/api/login"');
    expect(html).not.toContain('<script');
  });

  it('rejects cross-site POSTs even with valid credentials', async () => {
    const h = await harness();
    const auth = { authorization: `Bearer ${TOKEN}` };
    const post = (headers: Record<string, string>) =>
      h.app.request('/devtools/api/chat', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth, ...headers },
        body: JSON.stringify({ text: 'hi' }),
      });
    expect((await post({ origin: 'https://evil.example' })).status).toBe(403);
    expect((await post({ origin: 'null' })).status).toBe(403);
    expect((await post({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await post({ 'sec-fetch-site': 'same-site' })).status).toBe(403);
    expect(h.accepted).toHaveLength(0);
    expect((await post({ origin: 'http://localhost', 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect(h.accepted).toHaveLength(1);

    const login = await h.app.request('/devtools/api/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify({ token: TOKEN }),
    });
    expect(login.status).toBe(403);
  });
});

describe('devtools API', () => {
  const loopback = async (options?: Parameters<typeof harness>[0]) => {
    const h = await harness(options);
    h.setRemote('127.0.0.1');
    return h;
  };
  beforeEach(() => {});

  it('serves the UI and its assets under the app CSP', async () => {
    const h = await loopback();
    const page = await h.app.request('/devtools');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('/devtools/assets/app.js');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script
    expect(html).not.toMatch(/\sstyle=/); // no inline style
    // Every UI module the page loads is served, and none of them writes markup into the page
    // (Markdown goes through DOMPurify, which hands back nodes).
    const modules = [
      'app.js',
      'api.js',
      'dom.js',
      'describe-event.js',
      'health-view.js',
      'markdown.js',
      'playground.js',
      'chats-view.js',
      'spend-view.js',
    ];
    for (const name of modules) {
      const script = await h.app.request(`/devtools/assets/${name}`);
      expect(script.status, name).toBe(200);
      expect(script.headers.get('content-type')).toContain('javascript');
      expect(await script.text(), name).not.toMatch(/\.(inner|outer)HTML\s*=|insertAdjacentHTML|document\.write/);
    }
    const imported = [
      ...(await (await h.app.request('/devtools/assets/app.js')).text()).matchAll(/from '\.\/([\w.-]+)'/g),
    ];
    expect(imported.map(([, name]) => name).every((name) => modules.includes(name as string))).toBe(true);
    expect((await h.app.request('/devtools/assets/..%2Fdevtools-auth.ts')).status).toBe(404);
    expect((await h.app.request('/devtools/assets/index.html')).status).toBe(404);
    const slash = await h.app.request('/devtools/');
    expect([slash.status, slash.headers.get('location')]).toEqual([301, '/devtools']);
  });

  it('serves the Markdown libraries the UI imports, as the packages ship them, without their source maps', async () => {
    const h = await loopback();
    for (const [name, exported] of [
      ['marked.esm.js', /export\s*\{[^}]*\bmarked\b/],
      ['purify.es.mjs', /export\s*\{\s*purify_default as default\s*\}/],
    ] as const) {
      const response = await h.app.request(`/devtools/assets/${name}`);
      expect(response.status, name).toBe(200);
      expect(response.headers.get('content-type')).toContain('javascript');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const source = await response.text();
      expect(source).toMatch(exported);
      expect(source).not.toContain('sourceMappingURL');
      // A module the browser can load on its own: it imports nothing.
      expect(source).not.toMatch(/^\s*import\s/m);
    }
    const markdown = await (await h.app.request('/devtools/assets/markdown.js')).text();
    expect(markdown).toContain("from './marked.esm.js'");
    expect(markdown).toContain("from './purify.es.mjs'");
    expect(markdown).not.toMatch(/\.(inner|outer)HTML\s*=|insertAdjacentHTML|document\.write/);
    expect((await h.app.request('/devtools/assets/marked.esm.js.map')).status).toBe(404);
  });

  it('says at once that the agent is off when nothing answers, without queueing the message', async () => {
    const off = await loopback({ canAnswer: () => false });
    expect(await json(off.app.request('/devtools/api/playground'))).toEqual({
      answering: false,
      message: AGENT_OFF_MESSAGE,
      apps: ['default'],
    });
    expect(AGENT_OFF_MESSAGE).toMatch(/^The agent is off: set MODEL and OPENAI_API_KEY \(see /);
    const response = await off.app.request('/devtools/api/chat', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'anyone there?' }),
    });
    expect(response.status).toBe(503);
    expect(await json(response)).toEqual({ error: 'agent_off', message: AGENT_OFF_MESSAGE });
    expect(off.accepted).toEqual([]);

    let answering = false;
    const later = await loopback({ canAnswer: () => answering });
    answering = true;
    expect(await json(later.app.request('/devtools/api/playground'))).toEqual({ answering: true, apps: ['default'] });
    const accepted = await later.app.request('/devtools/api/chat', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'anyone there?' }),
    });
    expect(accepted.status).toBe(200);
    expect(later.accepted).toHaveLength(1);
  });

  it('lists and filters events and traces, one trace in full, and stats', async () => {
    const h = await loopback();
    h.bus.emit({
      type: 'message.received',
      traceId: 't-a',
      chatId: 'oc_a',
      chatType: 'group',
      userId: 'ou_a',
      text: 'alpha',
    });
    h.bus.emit({
      type: 'tool.call',
      traceId: 't-a',
      agent: 'manager',
      tool: 'search',
      input: '{}',
      output: 'ok',
      latencyMs: 3,
    });
    h.bus.emit({
      type: 'message.received',
      traceId: 't-b',
      chatId: 'oc_b',
      chatType: 'p2p',
      userId: 'ou_b',
      text: 'beta',
    });
    h.bus.emit({
      type: 'job.finished',
      traceId: 't-b',
      jobId: 't-b',
      outcome: 'dead',
      durationMs: 5,
      error: 'gave up',
    });

    const events = await json<EventPage>(h.app.request('/devtools/api/events?type=tool.call'));
    expect(events.events.map((event: { type: string }) => event.type)).toEqual(['tool.call']);
    const paged = await json<EventPage>(h.app.request('/devtools/api/events?limit=2'));
    expect(paged.events).toHaveLength(2);
    expect(paged.hasMore).toBe(true);
    const older = await json<EventPage>(h.app.request(`/devtools/api/events?before=${paged.events[1]?.seq}`));
    expect(older.events.map((event: { seq: number }) => event.seq)).toEqual([2, 1]);

    const dead = await json<TraceList>(h.app.request('/devtools/api/traces?status=dead'));
    expect(dead.traces.map((trace: { id: string }) => trace.id)).toEqual(['t-b']);
    const byTool = await json<TraceList>(h.app.request('/devtools/api/traces?tool=search&q=ALPHA'));
    expect(byTool.traces.map((trace: { id: string }) => trace.id)).toEqual(['t-a']);
    expect((await h.app.request('/devtools/api/traces?status=bogus')).status).toBe(400);

    const trace = await json<Trace>(h.app.request('/devtools/api/traces/t-a'));
    expect(trace.events.map((event: { type: string }) => event.type)).toEqual(['message.received', 'tool.call']);
    expect((await h.app.request('/devtools/api/traces/missing')).status).toBe(404);

    const stats = await json<TrackerStats>(h.app.request('/devtools/api/stats'));
    expect(stats.toolCalls).toBe(1);
    expect(stats.traces.byStatus.dead).toBe(1);
    expect(await (await h.app.request('/devtools/api/health')).json()).toEqual({ status: 'healthy', agents: {} });
  });

  it('returns chat text with markup as JSON data, never as HTML', async () => {
    const h = await loopback();
    const posted = await h.app.request('/devtools/api/chat', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: XSS, sessionId: 's1' }),
    });
    expect(posted.status).toBe(200);
    const { traceId } = await json<{ traceId: string }>(posted);
    const accepted = h.accepted[0];
    if (!accepted) throw new Error('nothing reached the inbox');
    expect(accepted.message?.parts).toEqual([{ type: 'text', text: XSS }]);
    h.bus.emit({
      type: 'message.received',
      traceId,
      chatId: 'oc_devtools_s1',
      chatType: 'p2p',
      userId: 'ou_devtools_s1',
      text: XSS,
    });

    const response = await h.app.request(`/devtools/api/traces/${encodeURIComponent(traceId)}`);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const trace = await json<Trace>(response);
    expect(trace.textPreview).toBe(XSS);
    expect(trace.events.find((event) => event.type === 'message.received')?.text).toBe(XSS);

    // What the bot sent comes back the same way: data, with the trace.
    const answer = `You wrote ${XSS}`;
    h.bus.emit({ type: 'reply.finished', traceId, mode: 'devtools', length: answer.length, cards: 0, text: answer });
    const answered = await json<Trace>(h.app.request(`/devtools/api/traces/${encodeURIComponent(traceId)}`));
    expect(answered.sent).toEqual({ text: answer, cards: [] });
    expect(answered.replyPreview).toBe(answer);
  });

  it('validates playground requests and says when the inbox is missing', async () => {
    const h = await loopback();
    const post = (body: string) =>
      h.app.request('/devtools/api/chat', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect((await post('{not json')).status).toBe(400);
    const empty = await post(JSON.stringify({ text: '  ' }));
    expect(empty.status).toBe(400);
    expect((await json<{ error: string }>(empty)).error).toBe('empty_text');
    expect(h.accepted).toHaveLength(0);

    // An app is one the process serves; left out, the default one answers as before.
    const unknown = await post(JSON.stringify({ text: 'hi', app: 'gamma' }));
    expect(unknown.status).toBe(400);
    expect((await json<{ error: string }>(unknown)).error).toBe('unknown_app');
    expect(h.accepted).toHaveLength(0);
    expect((await post(JSON.stringify({ text: 'hi' }))).status).toBe(200);
    expect(h.accepted[0]?.appId).toBeUndefined();

    const without = await loopback({ withInbox: false });
    const response = await without.app.request('/devtools/api/chat', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hi' }),
    });
    expect(response.status).toBe(503);
  });

  it('lists the apps the playground answers as, and addresses a message to the one it names', async () => {
    const h = await loopback({ apps: ['alpha', 'beta'] });
    expect(await json(h.app.request('/devtools/api/playground'))).toEqual({ answering: true, apps: ['alpha', 'beta'] });
    const post = (body: unknown) =>
      h.app.request('/devtools/api/chat', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post({ text: 'hi', app: 'beta' })).status).toBe(200);
    expect((await post({ text: 'hi' })).status).toBe(200);
    // Naming no app is the first app, under its own keys as when it is picked.
    expect(h.accepted.map((event) => event.appId)).toEqual(['beta', 'alpha']);
    const refused = await post({ text: 'hi', app: 'default' });
    expect(refused.status).toBe(400);
    expect(await json(refused)).toEqual({
      error: 'unknown_app',
      message: '"app" must be one of the apps served: alpha, beta',
    });
    expect(h.accepted).toHaveLength(2);
  });

  it('lists dead letters with a preview and retries one', async () => {
    const h = await loopback();
    await deadJob(h.store, 'message:lost');
    const list = await json<{ jobs: unknown[] }>(h.app.request('/devtools/api/dead-letters'));
    expect(list.jobs).toEqual([
      expect.objectContaining({ id: 'message:lost', preview: 'the lost question', lastError: 'model exploded' }),
    ]);
    const retry = await h.app.request(`/devtools/api/dead-letters/${encodeURIComponent('message:lost')}/retry`, {
      method: 'POST',
    });
    expect(retry.status).toBe(200);
    expect((await h.store.getJob('message:lost'))?.status).toBe('pending');
    const again = await h.app.request(`/devtools/api/dead-letters/${encodeURIComponent('message:lost')}/retry`, {
      method: 'POST',
    });
    expect(again.status).toBe(404);
  });

  it('streams live events over SSE, with catch-up after a sequence number and heartbeats', async () => {
    const h = await loopback();
    h.bus.emit({ type: 'message.ignored', traceId: 'old', reason: 'before connecting' });
    const response = await h.app.request('/devtools/api/stream?after=0');
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    setTimeout(() => h.bus.emit({ type: 'message.ignored', traceId: 'new', reason: XSS }), 20);
    const text = await readStream(
      response,
      (body) => body.includes('"traceId":"new"') && body.includes('event: heartbeat'),
    );
    expect(text).toContain('event: hello');
    expect(text).toContain('before connecting');
    expect(text).toMatch(/event: bot-event\ndata: .*"traceId":"new".*\nid: 2/);
    // The subscription goes away with the client.
    await sleep(20);
    expect((await h.tracker.stats()).subscribers).toBe(0);
  });

  it('resumes a reconnecting EventSource after its Last-Event-ID', async () => {
    const h = await loopback();
    for (const reason of ['one', 'two', 'three']) h.bus.emit({ type: 'message.ignored', traceId: 't', reason });
    const response = await h.app.request('/devtools/api/stream?after=0', { headers: { 'last-event-id': '2' } });
    const text = await readStream(response, (body) => body.includes('id: 3'));
    expect(text).toContain('"reason":"three"');
    expect(text).not.toContain('"reason":"one"');
    expect(text).not.toContain('"reason":"two"');
  });

  it('streams a playground answer as start, updates and finish', async () => {
    const h = await loopback();
    const response = await h.app.request(`/devtools/api/chat/${playgroundMessage(h, 'job-9')}/stream`);
    const sink = h.replies.sinkFor('job-9');
    setTimeout(async () => {
      await sink.start();
      sink.update('Hel');
      sink.update('Hello');
      await sink.finish('Hello there', 'gpt-test');
    }, 20);
    const text = await readStream(response, (body) => body.includes('event: finish'));
    expect(text).toContain('event: start');
    expect(text).toContain('"text":"Hello there"');
    expect(text).toContain('"detail":"gpt-test"');
  });

  it('ends open streams and refuses new ones once shutdown starts', async () => {
    const shutdown = new AbortController();
    const h = await loopback({ shutdownSignal: shutdown.signal });
    const live = await h.app.request('/devtools/api/stream');
    const chat = await h.app.request(`/devtools/api/chat/${playgroundMessage(h, 'job-slow')}/stream`);
    setTimeout(() => shutdown.abort(), 20);
    const [liveText, chatText] = await Promise.all([
      readStream(live, () => false, 3_000).catch((error: Error) => error.message),
      readStream(chat, () => false, 3_000).catch((error: Error) => error.message),
    ]);
    // Both bodies ended on their own (no "timed out" error), well before the timeout.
    expect(liveText).toContain('event: hello');
    expect(liveText).not.toContain('timed out');
    expect(chatText).not.toContain('timed out');
    expect((await h.app.request('/devtools/api/stream')).status).toBe(503);
    expect((await h.app.request('/devtools/api/chat/x/stream')).status).toBe(503);
  });

  it('ends a playground stream with a notice when the trace finished without an answer', async () => {
    const h = await loopback();
    const response = await h.app.request(`/devtools/api/chat/${playgroundMessage(h, 'job-ignored')}/stream`);
    setTimeout(() => {
      h.bus.emit({ type: 'message.ignored', traceId: 'job-ignored', reason: 'rate limited' });
      h.bus.emit({
        type: 'job.finished',
        traceId: 'job-ignored',
        jobId: 'job-ignored',
        outcome: 'done',
        durationMs: 1,
      });
    }, 20);
    const text = await readStream(response, (body) => body.includes('event: fail'));
    expect(text).toContain('Not answered: rate limited');
  });

  it('answers 404 for a trace the playground did not start, and creates nothing for it', async () => {
    const h = await loopback();
    for (const traceId of ['message:om_someone_else', 'trace-guess', 'x'.repeat(200)]) {
      const response = await h.app.request(`/devtools/api/chat/${encodeURIComponent(traceId)}/stream`);
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: 'not_found' });
    }
    // A Feishu message's trace is no playground answer either.
    h.bus.emit({
      type: 'event.received',
      traceId: 'feishu-1',
      source: 'webhook',
      eventType: 'im.message.receive_v1',
      eventId: 'f',
    });
    expect((await h.app.request('/devtools/api/chat/feishu-1/stream')).status).toBe(404);
    expect(h.replies.get('trace-guess')).toBeNull();

    // The trace POST /api/chat hands back is followed.
    const sent = await h.app.request('/devtools/api/chat', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hello' }),
    });
    const { traceId } = (await sent.json()) as { traceId: string };
    const response = await h.app.request(`/devtools/api/chat/${encodeURIComponent(traceId)}/stream`);
    expect(response.status).toBe(200);
    setTimeout(() => void h.replies.sinkFor(traceId).finish('hi back'), 20);
    expect(await readStream(response, (body) => body.includes('event: finish'))).toContain('hi back');
  });

  it('caps the chat streams open at once over all traces, and frees a slot when one closes', async () => {
    const h = await loopback({ maxChatStreams: 3 });
    const traces = ['a', 'b', 'c', 'd'].map((id) => playgroundMessage(h, id));
    const open: Response[] = [];
    for (const traceId of traces.slice(0, 3)) {
      const response = await h.app.request(`/devtools/api/chat/${traceId}/stream`);
      expect(response.status).toBe(200);
      open.push(response);
    }
    const refused = await h.app.request('/devtools/api/chat/d/stream');
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: 'too_many_streams' });
    // The same trace twice counts twice: the cap is on streams, not traces.
    expect((await h.app.request('/devtools/api/chat/a/stream')).status).toBe(503);

    // One answer finishes: its stream ends and its slot is free again.
    await h.replies.sinkFor('a').finish('done');
    await readStream(open[0] as Response, (body) => body.includes('event: finish'));
    await sleep(20);
    const next = await h.app.request('/devtools/api/chat/d/stream');
    expect(next.status).toBe(200);
    for (const response of [...open.slice(1), next]) await response.body?.cancel();
  });
});
