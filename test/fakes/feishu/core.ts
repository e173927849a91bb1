import type { AddressInfo } from 'node:net';
import { type HttpBindings, type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { sleep } from '../../../lib/util/sleep.js';
import { attachViews } from '../attach-views.js';
import { createRouter } from '../path-router.js';
import { createProbeWaiter } from '../probe-waiter.js';
import { createFaultBook, type FaultInjection, type InjectedFault, injectedReply } from './faults.js';
import { CORE_CODES, fail, type Reply } from './reply.js';
import { createTenantTokens, type TenantTokens } from './tenant-tokens.js';
import { createUserTokens, type UserTokens } from './user-tokens.js';
import { HISTORY_LIMIT, hex, isRecord, parseJson, pushBounded } from './util.js';

/**
 * The core of the fake Feishu Open API: a real loopback HTTP server, the route table the API
 * areas register on, tenant-token auth, fault injection, latency, the fake clock, the call log and
 * `waitFor`. It knows no Feishu API beyond auth; every API lives in an area file beside it.
 *
 * ## Adding an API area
 *
 * 1. Create `test/fakes/feishu/<area>.ts` (kebab-case, one area per file, e.g. `drive-files.ts`)
 *    exporting `defineFeishuArea({ name, codes?, install(core) })`. In `install`, register each
 *    endpoint with `core.route({ api, method, path, handle })` and return the area's test helpers
 *    (views), if any, e.g. `{ driveFiles: () => [...] }`.
 * 2. In the same file, add the area's names to the shared types by module augmentation, so no
 *    central list changes:
 *    `declare module './core.js' { interface FeishuApis { 'drive.file.list': true }
 *     interface FakeFeishu { driveFiles(): FakeDriveFile[] } interface FakeFeishuOptions { … } }`
 * 3. Register it with one line in `test/fakes/feishu/areas.ts`; export its public types from
 *    `test/fakes/fake-feishu.ts` if tests need them. Put its tests beside it (`<area>.test.ts`).
 *
 * State several areas read (messages, cards) lives in a store module used through
 * `core.use(factory)`: one instance per fake, cleared by `core.onReset`.
 *
 * **Request and response shapes come from the node SDK's `.d.ts` types
 * (`node_modules/@larksuiteoapi/node-sdk`) and Feishu's documentation, never from our own code**:
 * a fake written from the code under test only proves the code agrees with itself. Name each
 * documented error code in the area's `codes` so tests never hard-code numbers; where the docs
 * give none, the fake picks one and says so.
 */

// ───────────────────────────── types the areas extend ─────────────────────────────

/**
 * The stable API names (`RecordedCall.api`, `inject({ api })`, `callsTo(api)`). Each area adds
 * its own by augmenting this interface; the values are unused.
 */
// biome-ignore lint/suspicious/noEmptyInterface: declaration merging point for the API areas.
export interface FeishuApis {}

export type FeishuApiName = keyof FeishuApis | 'unknown';

/** One app (bot) of the fake tenant: its credentials and its bot's identity. */
export interface FakeApp {
  appId: string;
  appSecret: string;
  botOpenId: string;
  botName: string;
}

/** Options of `startFakeFeishu`; areas add their own by augmentation. */
export interface FakeFeishuOptions {
  /**
   * More apps of the same tenant (several bots in one process): each gets its own tenant tokens
   * and bot identity (bot/v3/info answers the bot of the token's app); unset fields are random.
   */
  otherApps?: readonly Partial<FakeApp>[];
  /** Default: `cli_` + 16 random hex digits (random so the SDK's process-wide token cache never mixes fakes). */
  appId?: string;
  appSecret?: string;
  botOpenId?: string;
  botName?: string;
  tenantKey?: string;
  /** `expire` returned with tokens, seconds (default 7200). The SDK caches for expire − 180 s. */
  tokenExpireSeconds?: number;
  /** HTTP status for 99991661/99991663 answers (default 400). */
  authErrorStatus?: number;
  /** Ring size of `calls` (default 10 000). */
  maxRecordedCalls?: number;
  /** Latency added to every answer (default 0). */
  latencyMs?: number;
  /** The fake's clock in epoch ms (default `Date.now`); tests freeze it to make rate limits deterministic. */
  clock?: () => number;
}

export interface RecordedCall {
  /** The app whose tenant token the call bore (its app_id); undefined without one or with a user's token. */
  app: string | undefined;
  /**
   * The person and app whose user access token the call bore (set once the call is answered);
   * undefined with a tenant token, none, or a user token that is unknown or expired.
   */
  user?: { openId: string; app: string } | undefined;
  method: string;
  /** Path without query string, e.g. `/open-apis/im/v1/messages/om_1/reply`. */
  path: string;
  api: FeishuApiName;
  query: Record<string, string>;
  /** Parsed JSON body (undefined when none or not JSON). */
  body: unknown;
  /** Lower-cased request headers. */
  headers: Record<string, string>;
  /** Fake clock (epoch ms) when the request arrived. */
  at: number;
  status: number;
  /** Feishu `code` in the answer (undefined for non-JSON answers such as dropped connections). */
  code: number | undefined;
  /** True when the answer came from `inject()`. */
  injected: boolean;
  /** The client closed the request before it was answered (a cancelled request). */
  clientClosed: boolean;
}

export interface RateLimitViolation {
  /** The card (CardKit limit) or chat (send limit) whose limit was exceeded. */
  cardId?: string;
  chatId?: string;
  api: FeishuApiName;
  at: number;
}

export interface WaitForOptions {
  timeoutMs?: number;
  /** Shown in the timeout error. */
  description?: string;
}

/** The members of `FakeFeishu` the core provides itself. */
export interface FakeFeishuBase {
  /** Base URL to use as FEISHU_DOMAIN, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly appId: string;
  readonly appSecret: string;
  readonly botOpenId: string;
  readonly botName: string;
  readonly tenantKey: string;
  /** Every app of the tenant: the first is the one above, then `otherApps`. */
  readonly apps: readonly FakeApp[];
  /** `FEISHU_APP_ID`, `FEISHU_APP_SECRET`, `FEISHU_DOMAIN` pointing at this fake (merge into a config env). */
  env(): { FEISHU_APP_ID: string; FEISHU_APP_SECRET: string; FEISHU_DOMAIN: string };
  /** Every call in arrival order (bounded ring). */
  readonly calls: readonly RecordedCall[];
  callsTo(api: FeishuApiName): RecordedCall[];
  clearCalls(): void;
  inject(fault: FaultInjection): InjectedFault;
  setLatency(ms: number): void;
  /** Clears calls, faults, latency, tokens, the clock offset and every area's state (messages, cards, reactions…). */
  reset(): void;
  /** Every token issued so far stops working (99991663); new ones can be fetched. */
  invalidateTokens(): void;
  /** A user access token for `openId`: requests bearing it are served as that user (`FeishuRequest.caller`). */
  issueUserToken(openId: string): string;
  /** Tokens issued so far, oldest first. */
  issuedTokens(): string[];
  /** Moves the fake's clock forward (token expiry, streaming timeout, uuid window). */
  advanceClock(ms: number): void;
  now(): number;
  rateLimitViolations(): RateLimitViolation[];
  /** Resolves with the probe's first truthy result; re-checked after every call and every 25 ms. */
  waitFor<T>(probe: () => T | undefined | null | false, options?: WaitForOptions): Promise<T>;
  close(): Promise<void>;
}

/** The handle tests hold: the core's members, and each area's views, which the areas add by augmentation. */
export interface FakeFeishu extends FakeFeishuBase {}

// ───────────────────────────── what an area gets ─────────────────────────────

export interface FeishuRequest {
  /** Path parameters by the names in the route's template, URL-decoded. */
  params: Record<string, string>;
  query: Record<string, string>;
  /** The JSON body when it is an object, else `{}`. */
  body: Record<string, unknown>;
  /** The body as sent (uploads: parse multipart with `new Response(rawBody, { headers }).formData()`). */
  rawBody: Uint8Array;
  /** Lower-cased request headers. */
  headers: Record<string, string>;
  /** Whose token the request bears: an app's tenant token (which app, when known), or a user's access token. */
  caller: { kind: 'tenant'; app?: FakeApp } | { kind: 'user'; openId: string; app: FakeApp | undefined };
}

export interface FeishuRoute {
  api: FeishuApiName;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path as Feishu documents it, parameters as `:name`, e.g. `/open-apis/im/v1/messages/:message_id/reply`. */
  path: string;
  /** `false` only for endpoints that issue tokens: they need none, and `inject({ api: '*' })` leaves them alone. */
  auth?: boolean;
  /** `'raw'` accepts a body that is not JSON (uploads); by default such a body answers 9499. */
  body?: 'json' | 'raw';
  /** A string reply body is sent as text/plain, a Uint8Array as bytes (set `content-type`), anything else as JSON. */
  handle(request: FeishuRequest): Reply | Promise<Reply>;
}

/** What `install` receives: the fake's identity, clock and registration points. */
export interface FeishuCore {
  /** Every option passed to `startFakeFeishu`, the areas' own included. */
  readonly options: FakeFeishuOptions;
  readonly appId: string;
  readonly appSecret: string;
  readonly botOpenId: string;
  readonly botName: string;
  readonly tenantKey: string;
  /** Every app of the tenant, the first being `appId` above. */
  readonly apps: readonly FakeApp[];
  readonly tenantTokens: TenantTokens;
  /** User access tokens the fake accepts (see `issueUserToken`). */
  readonly userTokens: UserTokens;
  now(): number;
  /** Wakes pending `waitFor` probes. The core calls it after every request; call it after changes made outside one. */
  notify(): void;
  route(route: FeishuRoute): void;
  /** Runs on `fake.reset()`: forget the area's state. */
  onReset(clear: () => void): void;
  recordViolation(violation: RateLimitViolation): void;
  /** One instance per fake of shared state (a store several areas read), created on first use. */
  use<T>(factory: (core: FeishuCore) => T): T;
}

export interface FeishuArea<Codes extends Readonly<Record<string, number>> = Readonly<Record<string, number>>> {
  /** Shown in registration errors. */
  readonly name: string;
  /** The Feishu codes this area answers with; they become part of `FEISHU_CODES`. */
  readonly codes?: Codes;
  /** Registers the area's routes and returns its views (methods tests call on the fake). */
  install(core: FeishuCore): Partial<FakeFeishu>;
}

/**
 * Declares an API area; `const` keeps the code values literal in `FEISHU_CODES`.
 *
 * @example
 * export const botInfoArea = defineFeishuArea({
 *   name: 'bot-info',
 *   install(core) {
 *     core.route({ api: 'bot.info', method: 'GET', path: '/open-apis/bot/v3/info', handle: () => botInfo(core) });
 *     return {};
 *   },
 * });
 */
export function defineFeishuArea<const Codes extends Readonly<Record<string, number>> = Record<never, number>>(
  area: FeishuArea<Codes>,
): FeishuArea<Codes> {
  return area;
}

/** The union of every area's codes with the core's; throws when two define the same name. */
export function mergeCodes(areas: readonly FeishuArea[]): Record<string, number> {
  const codes: Record<string, number> = { ...CORE_CODES };
  for (const area of areas) {
    for (const [name, value] of Object.entries(area.codes ?? {})) {
      if (name in codes) throw new Error(`fake-feishu: code name ${name} of area ${area.name} is already defined`);
      codes[name] = value;
    }
  }
  return codes;
}

// ───────────────────────────── the server ─────────────────────────────

/**
 * Starts the core with the given areas installed. `startFakeFeishu` passes every registered area;
 * a test of the core itself can pass its own.
 *
 * @example
 * const fake = await startFeishuServer([botInfoArea, authArea], { botName: 'Helper' });
 */
export async function startFeishuServer(
  areas: readonly FeishuArea[],
  options: FakeFeishuOptions = {},
): Promise<FakeFeishu> {
  const {
    appId = `cli_${hex(8)}`,
    appSecret = hex(16),
    botOpenId = `ou_${hex(16)}`,
    botName = 'Test Bot',
    tenantKey = hex(8),
    tokenExpireSeconds = 7200,
    authErrorStatus = 400,
    maxRecordedCalls = 10_000,
    latencyMs: initialLatencyMs = 0,
    clock = Date.now,
    otherApps = [],
  } = options;
  const apps: FakeApp[] = [
    { appId, appSecret, botOpenId, botName },
    ...otherApps.map((app, index) => ({
      appId: app.appId ?? `cli_${hex(8)}`,
      appSecret: app.appSecret ?? hex(16),
      botOpenId: app.botOpenId ?? `ou_${hex(16)}`,
      botName: app.botName ?? `Test Bot ${index + 2}`,
    })),
  ];

  let clockOffset = 0;
  let latencyMs = initialLatencyMs;
  let calls: RecordedCall[] = [];
  let violations: RateLimitViolation[] = [];
  const now = (): number => clock() + clockOffset;
  const waiter = createProbeWaiter({ pollMs: 25 });
  const faults = createFaultBook();
  const tenantTokens = createTenantTokens({ now, expireSeconds: tokenExpireSeconds, authErrorStatus });
  const userTokens = createUserTokens({ now });
  const router = createRouter<FeishuRoute>();
  const apiNames = new Set<FeishuApiName>();
  const resets: Array<() => void> = [];
  const shared = new Map<(core: FeishuCore) => unknown, unknown>();

  const core: FeishuCore = {
    options,
    appId,
    appSecret,
    botOpenId,
    botName,
    tenantKey,
    apps,
    tenantTokens,
    userTokens,
    now,
    notify: () => waiter.notify(),
    route(route) {
      if (apiNames.has(route.api)) throw new Error(`fake-feishu: API name ${route.api} is registered twice`);
      apiNames.add(route.api);
      router.add(route);
    },
    onReset(clear) {
      resets.push(clear);
    },
    recordViolation(violation) {
      pushBounded(violations, violation, HISTORY_LIMIT);
    },
    use<T>(factory: (core: FeishuCore) => T): T {
      if (!shared.has(factory)) shared.set(factory, factory(core));
      return shared.get(factory) as T;
    },
  };

  const app = new Hono<{ Bindings: HttpBindings }>();
  app.all('*', async (c) => {
    const url = new URL(c.req.url);
    const method = c.req.method.toUpperCase();
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams.entries());
    const headers: Record<string, string> = {};
    c.req.raw.headers.forEach((value, key) => {
      headers[key.toLowerCase()] = value;
    });
    const rawBody =
      method === 'GET' || method === 'HEAD' ? new Uint8Array() : new Uint8Array(await c.req.arrayBuffer());
    const text = Buffer.from(rawBody).toString('utf8');
    const parsedBody = text === '' ? { ok: true as const, value: undefined } : parseJson(text);
    const body: unknown = parsedBody.ok ? parsedBody.value : undefined;

    const matched = router.match(method, path);
    const route = matched?.route;
    const api: FeishuApiName = route?.api ?? 'unknown';
    const call: RecordedCall = {
      app: tenantTokens.appOf(headers.authorization),
      method,
      path,
      api,
      query,
      body,
      headers,
      at: now(),
      status: 0,
      code: undefined,
      injected: false,
      clientClosed: false,
    };
    pushBounded(calls, call, maxRecordedCalls);
    const outgoing = c.env.outgoing;
    outgoing.once('close', () => {
      if (!outgoing.writableFinished) {
        call.clientClosed = true;
        waiter.notify();
      }
    });

    const fault = faults.take(api, route?.auth === false, { method, path, query, body });
    const delay = latencyMs + (fault?.latencyMs ?? 0);
    if (delay > 0) await sleep(delay);

    if (fault?.dropConnection) {
      call.injected = true;
      c.env.incoming.socket.destroy();
      waiter.notify();
      return new Response(null, { status: 500 });
    }
    let reply = fault ? injectedReply(fault) : undefined;
    if (reply) {
      call.injected = true;
    } else if (!matched) {
      reply = fail(404, `fake-feishu: no route for ${method} ${path}`, 404);
    } else if (!parsedBody.ok && matched.route.body !== 'raw') {
      reply = fail(CORE_CODES.badRequest, 'Bad Request: body is not valid JSON');
    } else {
      const { route: target, params } = matched;
      const holder = userTokens.holderOf((headers.authorization ?? '').replace(/^Bearer\s+/i, ''));
      const app = apps.find((candidate) => candidate.appId === call.app);
      // A user token acts through the app it was issued to (none named: the first app).
      const userApp =
        holder === undefined ? undefined : (apps.find((candidate) => candidate.appId === holder.appId) ?? apps[0]);
      if (holder !== undefined && userApp !== undefined) call.user = { openId: holder.openId, app: userApp.appId };
      const caller =
        holder === undefined
          ? { kind: 'tenant' as const, ...(app === undefined ? {} : { app }) }
          : { kind: 'user' as const, openId: holder.openId, app: userApp };
      reply =
        (target.auth === false || caller.kind === 'user' ? undefined : tenantTokens.check(headers.authorization)) ??
        (await target.handle({ params, query, body: isRecord(body) ? body : {}, rawBody, headers, caller }));
      if (fault?.headers) reply = { ...reply, headers: { ...reply.headers, ...fault.headers } };
    }
    call.status = reply.status;
    call.code = isRecord(reply.body) && typeof reply.body.code === 'number' ? reply.body.code : undefined;
    waiter.notify();
    return toResponse(reply);
  });

  const views = areas.map((area) => ({ area, view: area.install(core) }));

  const { server, port } = await new Promise<{ server: ServerType; port: number }>((resolve, reject) => {
    const created = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolve({ server: created, port: info.port }),
    );
    created.once('error', reject);
  });
  const url = `http://127.0.0.1:${port}`;

  const fake: FakeFeishuBase = {
    url,
    appId,
    appSecret,
    botOpenId,
    botName,
    tenantKey,
    apps,
    env: () => ({ FEISHU_APP_ID: appId, FEISHU_APP_SECRET: appSecret, FEISHU_DOMAIN: url }),
    get calls() {
      return calls;
    },
    callsTo: (api) => calls.filter((call) => call.api === api),
    clearCalls: () => {
      calls = [];
    },
    inject: (fault) => faults.inject(fault),
    setLatency(ms) {
      latencyMs = ms;
    },
    reset() {
      calls = [];
      violations = [];
      faults.clear();
      tenantTokens.clear();
      userTokens.clear();
      latencyMs = initialLatencyMs;
      clockOffset = 0;
      for (const clear of resets) clear();
    },
    invalidateTokens: () => tenantTokens.invalidate(),
    issueUserToken: (openId) => userTokens.issue(openId),
    issuedTokens: () => tenantTokens.issued(),
    advanceClock(ms) {
      clockOffset += ms;
      waiter.notify();
    },
    now,
    rateLimitViolations: () => [...violations],
    waitFor<T>(
      probe: () => T | undefined | null | false,
      { timeoutMs = 5000, description = 'condition' }: WaitForOptions = {},
    ) {
      return waiter.waitFor(probe, timeoutMs, () => {
        const recent = calls
          .slice(-10)
          .map((call) => `${call.method} ${call.path} → ${call.status}/${String(call.code)}`)
          .join('\n  ');
        return new Error(
          `fake-feishu: timed out after ${timeoutMs} ms waiting for ${description}. Last calls:\n  ${recent}`,
        );
      });
    },
    close() {
      waiter.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        // The SDK's axios keeps connections alive; close them so close() returns promptly.
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
    },
  };
  await attachViews(
    fake,
    views.map(({ area, view }) => ({ owner: `fake-feishu: area ${area.name}`, view })),
  );
  // Every area's augmentation of FakeFeishu is now on the object (an area returns the views it declares).
  return fake as FakeFeishu;
}

function toResponse(reply: Reply): Response {
  const headers: Record<string, string> = { 'x-tt-logid': hex(16), ...reply.headers };
  if (typeof reply.body === 'string') {
    return new Response(reply.body, {
      status: reply.status,
      headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
    });
  }
  if (reply.body instanceof ReadableStream) {
    return new Response(reply.body as ReadableStream<Uint8Array>, {
      status: reply.status,
      headers: { 'content-type': 'application/octet-stream', ...headers },
    });
  }
  if (reply.body instanceof Uint8Array) {
    return new Response(reply.body, {
      status: reply.status,
      headers: { 'content-type': 'application/octet-stream', ...headers },
    });
  }
  return new Response(JSON.stringify(reply.body), {
    status: reply.status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}
