import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { APP_ID_PATTERN } from '../feishu/feishu-apps.js';
import { bodyLimit } from '../http/body-limit.js';
import { appIdField, appScoped } from '../inbox/app-scope.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import { type Store, StoreUnavailableError } from '../store/store.js';
import { secretMatcher } from '../util/secret-matcher.js';
import { type ProactivePayload, proactiveJob, proactivePayload } from './proactive-job.js';

export interface NotifyRoutesOptions {
  /** NOTIFY_TOKEN: the bearer token callers must send (at least 32 characters, checked by the config). */
  token: string;
  store: Store;
  log: Logger;
  /** Gets `job.queued` for an accepted request. */
  bus?: EventBus;
  /** ALLOWED_CHAT_IDS: when not empty, only these chats may be posted into (by the app posting when `app` is left out). */
  allowedChatIds?: readonly string[];
  /**
   * With several Feishu apps in one process: the ids a request may name in `app` (the bot that
   * posts), each with the chats it may post into (empty: any). Left out: only the default app posts.
   */
  apps?: ReadonlyMap<string, readonly string[]>;
  /** NOTIFY_BODY_LIMIT_BYTES. */
  bodyLimitBytes?: number;
  /** Called after a job is enqueued (the dispatcher's `wake`). */
  onEnqueued?: (job: { id: string; kind: string }) => void;
  now?: () => number;
}

const notifyRequest = z.strictObject({
  chatId: z.string().min(1).max(128),
  /** `message` posts the text; `run` lets the manager answer it as a request. */
  action: z.enum(['message', 'run']).default('message'),
  text: z.string().min(1).max(10_000),
  chatType: z.enum(['p2p', 'group']).default('group'),
  /** Post into this topic (its root message), instead of the chat. */
  rootMessageId: z.string().min(1).max(128).optional(),
  threadId: z.string().min(1).max(128).optional(),
  /** The bot that posts, by its FEISHU_APPS_FILE id; left out: the default (or first) app. */
  app: z.string().regex(APP_ID_PATTERN).optional(),
});

/** Idempotency keys: printable ASCII, as the IETF Idempotency-Key header draft allows. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/**
 * `POST /api/notify`: other systems (alerting, CI) post a message into a chat through the bot, or
 * start a run the manager answers there. Bearer token (NOTIFY_TOKEN, compared in constant time),
 * a required `Idempotency-Key` header, a JSON body of at most NOTIFY_BODY_LIMIT_BYTES.
 *
 * The work is a durable `proactive` job whose id is derived from the key, so the store itself
 * decides "first or replay": a replay (same key, same body) is answered with the first answer and
 * `idempotent-replayed: true`, and nothing is sent again; the same key with another body is 409.
 * Keys are remembered as long as finished jobs are kept (JOB_RETENTION_HOURS).
 *
 * @example
 * routes.push({ path: '/api', app: notifyRoutes({ token: config.notify.token, store, log, onEnqueued: (job) => dispatcher.wake(job.kind) }) });
 */
export function notifyRoutes({
  token,
  store,
  log,
  bus,
  allowedChatIds = [],
  apps = new Map(),
  bodyLimitBytes = 16 * 1024,
  onEnqueued,
  now = Date.now,
}: NotifyRoutesOptions): Hono {
  const tokenMatches = secretMatcher(token);
  const app = new Hono();
  app.post(
    '/notify',
    async (c, next) => {
      const header = c.req.header('authorization') ?? '';
      const given = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
      if (!tokenMatches(given)) return c.json({ error: 'unauthorized' }, 401);
      return next();
    },
    bodyLimit({ maxSize: bodyLimitBytes, onError: (c) => c.json({ error: 'payload_too_large' }, 413) }),
    async (c) => {
      const key = c.req.header('idempotency-key');
      if (key === undefined || !IDEMPOTENCY_KEY.test(key)) {
        return c.json(
          { error: 'idempotency_key_required', message: 'send an Idempotency-Key header (1-200 printable characters)' },
          400,
        );
      }
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return c.json({ error: 'invalid_json' }, 400);
      }
      const parsed = notifyRequest.safeParse(body);
      if (!parsed.success) {
        const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(body)'))];
        return c.json({ error: 'invalid_request', fields }, 400);
      }
      const request = parsed.data;
      const appChats = request.app === undefined ? allowedChatIds : apps.get(request.app);
      if (appChats === undefined) {
        return c.json({ error: 'unknown_app', message: 'no Feishu app with this id is served here' }, 400);
      }
      if (appChats.length > 0 && !appChats.includes(request.chatId)) {
        return c.json({ error: 'chat_not_allowed', message: "the chat is not among the app's allowed chats" }, 403);
      }
      const requestHash = createHash('sha256').update(JSON.stringify(request)).digest('hex');
      // Keys are per posting app, and the app in the job id labels its /metrics series and trace.
      const id = appScoped(request.app, `notify-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`);
      const payload: ProactivePayload = {
        origin: 'notify',
        action: request.action,
        text: request.text,
        target: {
          ...appIdField(request.app),
          chatId: request.chatId,
          chatType: request.chatType,
          ...(request.rootMessageId === undefined ? {} : { rootMessageId: request.rootMessageId }),
          ...(request.threadId === undefined ? {} : { threadId: request.threadId }),
        },
        requestHash,
      };
      const answer = { id, status: 'accepted' as const };
      try {
        const job = proactiveJob(id, payload);
        if (await store.enqueue(job, now())) {
          bus?.emit({ type: 'job.queued', traceId: id, jobId: id, lane: job.lane, kind: job.kind });
          onEnqueued?.(job);
          log.info({ jobId: id, action: request.action, chatId: request.chatId, app: request.app }, 'notify accepted');
          return c.json(answer, 202);
        }
        const first = await store.getJob(id);
        const firstPayload = proactivePayload.safeParse(first?.payload);
        if (!firstPayload.success || firstPayload.data.requestHash !== requestHash) {
          return c.json({ error: 'idempotency_key_reused', message: 'this key was used for another request' }, 409);
        }
        c.header('idempotent-replayed', 'true');
        return c.json(answer, 202);
      } catch (error) {
        if (StoreUnavailableError.isInstance(error)) return c.json({ error: 'store_unavailable' }, 503);
        throw error;
      }
    },
  );
  return app;
}
