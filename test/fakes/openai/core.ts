import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { errorMessage } from '../../../lib/util/error-message.js';
import { attachViews } from '../attach-views.js';
import { createRouter } from '../path-router.js';
import { createProbeWaiter } from '../probe-waiter.js';
import { createExchange, type Exchange, type FakeRecordedRequest, FakeRequestAbortedError } from './exchange.js';
import { createScriptBook, type FakeFaultOptions, type FakeRateLimit, type ScriptBook } from './script-book.js';
import type { FakeErrorSpec, FakeStep, FakeStepFunction } from './steps.js';

/**
 * The core of the fake OpenAI-compatible server: a real loopback HTTP server, the API key check,
 * body reading (413 above `maxBodyBytes`), request recording, in-flight tracking with aborts,
 * `close()`, and the per-model script book (`script`, `alwaysFail`, rate limits) every endpoint
 * shares. The endpoints themselves (`chat-completions.ts`, `models.ts`, …) are one file each.
 *
 * ## Adding an endpoint
 *
 * 1. Create `test/fakes/openai/<endpoint>.ts` exporting `defineOpenAIEndpoint({ name, install(core) })`;
 *    in `install`, `core.route({ method, path: '/v1/audio/transcriptions', handle(exchange, rawBody) })`.
 *    A handler writes one answer through the exchange (`sendJson`, `fail`, `startStream` +
 *    `writeEvent`, `disconnect`), calls `exchange.finish(outcome)`, and consults
 *    `core.scripts` for the model (`activeFault`, `nextStep`, `rateLimitHeaders`, `consumeQuota`).
 * 2. If tests need new helpers on the fake, declare them on `FakeOpenAI` by augmentation in the
 *    same file (`declare module './core.js' { interface FakeOpenAI { … } }`) and return them from
 *    `install`.
 * 3. Register it with one line in `test/fakes/openai/endpoints.ts`; put its tests beside it.
 *
 * **Request and response shapes come from OpenAI's API reference and what the real
 * `@ai-sdk/openai` provider sends and parses (node_modules/@ai-sdk/openai), never from our own code.**
 */

export interface FakeOpenAIOptions {
  /** Default `sk-fake-openai-test-key`. */
  apiKey?: string;
  /** Known model ids (`script`/`alwaysFail` add theirs). Default: gpt-test, gpt-test-fallback, gpt-test-mini. */
  models?: string[];
  /** Accept any model id instead of answering 404 `model_not_found` for unknown ones. */
  acceptAnyModel?: boolean;
  /** Used when no script step is queued. Default: echo the last user message as `echo: <text>`. */
  defaultResponder?: FakeStepFunction;
  /** Default chunk size for text steps (default 4). */
  defaultChunkSize?: number;
  /** Bound on `requests` (oldest dropped first). Default 10 000. */
  maxRecordedRequests?: number;
  /** Largest accepted request body in bytes (413 above). Default 10 MiB. */
  maxBodyBytes?: number;
  /** Starting rate-limit figures for every model. */
  rateLimit?: Partial<FakeRateLimit>;
}

/** The members of `FakeOpenAI` the core provides itself. */
export interface FakeOpenAIBase {
  /** `http://127.0.0.1:<port>/v1` */
  readonly baseURL: string;
  readonly apiKey: string;
  readonly port: number;
  /** Every request, oldest first (bounded by `maxRecordedRequests`). */
  readonly requests: readonly FakeRecordedRequest[];
  /** Requests still being worked on (streams in progress, hangs, delays). */
  readonly inFlight: number;
  requestsFor(model: string): FakeRecordedRequest[];
  /** Queue responses for a model (`'*'` = any model without its own queue), consumed in order. */
  script(model: string, ...steps: FakeStep[]): void;
  /** Steps still queued for a model (`'*'` for the shared queue). */
  pending(model: string): number;
  /** Fail every request for `model` (`'*'` = all models) before any script is consulted. */
  alwaysFail(model: string, error: FakeErrorSpec, options?: FakeFaultOptions): void;
  clearFaults(model?: string): void;
  setDefaultResponder(responder: FakeStepFunction | undefined): void;
  addModel(...models: string[]): void;
  /** Override rate-limit figures for one model (`'*'` = the default for all). */
  setRateLimit(model: string, rateLimit: Partial<FakeRateLimit>): void;
  /** Resolves once `count` requests (optionally for one model) have arrived. */
  waitForRequests(count: number, options?: { model?: string; timeoutMs?: number }): Promise<FakeRecordedRequest[]>;
  /** Resolves once nothing is in flight. */
  waitForIdle(timeoutMs?: number): Promise<void>;
  /** Forget scripts, faults, rate limits and recorded requests (keeps the server and models). */
  reset(): void;
  /** Stops the server, ends hanging and in-flight streams, destroys every socket. Idempotent. */
  close(): Promise<void>;
}

/** The handle tests hold: the core's members, and any endpoint's helpers, added by augmentation. */
export interface FakeOpenAI extends FakeOpenAIBase {}

export interface OpenAIRoute {
  method: 'GET' | 'POST' | 'DELETE';
  /** The path under the server root, e.g. `/v1/chat/completions` (parameters as `:name`). */
  path: string;
  /**
   * Answers through the exchange and finishes it. A FakeRequestAbortedError thrown out of it ends
   * the request quietly; any other error answers 500 (or cuts a started stream), since it is a test bug.
   */
  handle(exchange: Exchange, request: { rawBody: Buffer; params: Record<string, string> }): void | Promise<void>;
}

/** What `install` receives. */
export interface OpenAICore {
  readonly options: FakeOpenAIOptions;
  readonly scripts: ScriptBook;
  route(route: OpenAIRoute): void;
  /** Wakes `waitForRequests`; call after filling in a record's model. */
  notify(): void;
}

export interface OpenAIEndpoint {
  /** Shown in registration errors. */
  readonly name: string;
  /** Registers the endpoint's routes and returns its helpers on the fake, if any. */
  install(core: OpenAICore): Partial<FakeOpenAI>;
}

/**
 * Declares an endpoint module.
 *
 * @example
 * export const modelsEndpoint = defineOpenAIEndpoint({ name: 'models', install(core) { core.route(…); return {}; } });
 */
export function defineOpenAIEndpoint(endpoint: OpenAIEndpoint): OpenAIEndpoint {
  return endpoint;
}

const DEFAULT_MODELS = ['gpt-test', 'gpt-test-fallback', 'gpt-test-mini'];

/**
 * Starts the core with the given endpoints on 127.0.0.1 and an ephemeral port.
 *
 * @example
 * const fake = await startOpenAIServer([modelsEndpoint], { apiKey: 'sk-x' });
 */
export async function startOpenAIServer(
  endpoints: readonly OpenAIEndpoint[],
  options: FakeOpenAIOptions = {},
): Promise<FakeOpenAI> {
  const {
    apiKey = 'sk-fake-openai-test-key',
    models = DEFAULT_MODELS,
    maxRecordedRequests = 10_000,
    maxBodyBytes = 10 * 1024 * 1024,
  } = options;

  const scripts = createScriptBook({
    models,
    rateLimit: options.rateLimit,
    defaultResponder: options.defaultResponder,
  });
  const router = createRouter<OpenAIRoute>();
  const requests: FakeRecordedRequest[] = [];
  const active = new Set<Exchange>();
  const sockets = new Set<Socket>();
  const waiter = createProbeWaiter();
  let sequence = 0;
  let closed = false;

  const core: OpenAICore = {
    options,
    scripts,
    route: (route) => router.add(route),
    notify: () => waiter.notify(),
  };
  const views = endpoints.map((endpoint) => ({ endpoint, view: endpoint.install(core) }));

  const record = (entry: Omit<FakeRecordedRequest, 'id'>): FakeRecordedRequest => {
    sequence += 1;
    const recorded: FakeRecordedRequest = { id: sequence, ...entry };
    requests.push(recorded);
    if (requests.length > maxRecordedRequests) requests.splice(0, requests.length - maxRecordedRequests);
    waiter.notify();
    return recorded;
  };

  const readBody = (incoming: IncomingMessage) =>
    new Promise<Buffer | 'too-large'>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      incoming.on('data', (data: Buffer) => {
        size += data.length;
        if (size > maxBodyBytes) tooLarge = true;
        else chunks.push(data);
      });
      incoming.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks)));
      incoming.on('error', reject);
      // A client that goes away mid-upload emits no 'end'; without this the handler would wait forever.
      incoming.on('close', () => {
        if (!incoming.complete) reject(new Error('fake-openai: client closed before the request body ended'));
      });
    });

  const handle = async (incoming: IncomingMessage, response: ServerResponse) => {
    const method = incoming.method ?? 'GET';
    const path = new URL(incoming.url ?? '/', 'http://127.0.0.1').pathname.replace(/\/+$/, '');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(incoming.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const raw = await readBody(incoming);
    const exchange = createExchange({
      record: record({
        method,
        path,
        model: '',
        messages: [],
        tools: undefined,
        stream: false,
        headers,
        body: undefined,
        at: Date.now(),
        status: undefined,
        outcome: 'pending',
        endedAt: undefined,
      }),
      response,
      socket: incoming.socket,
      onFinish: () => {
        active.delete(exchange);
        waiter.notify();
      },
    });
    active.add(exchange);
    // Covers the client aborting (AbortSignal, timeout) and the fake destroying the socket.
    response.on('close', () => {
      if (!response.writableFinished) exchange.abort(new FakeRequestAbortedError('client-closed'));
      exchange.finish('client-closed');
    });

    if (headers.authorization !== `Bearer ${apiKey}`) {
      exchange.fail(
        401,
        'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
        'invalid_request_error',
        'invalid_api_key',
      );
      return;
    }
    const matched = router.match(method, path);
    if (matched === undefined) {
      exchange.fail(404, `Invalid URL (${method} ${path})`, 'invalid_request_error', null);
      return;
    }
    if (raw === 'too-large') {
      exchange.fail(413, 'Request body too large.', 'invalid_request_error', 'request_too_large');
      return;
    }
    try {
      await matched.route.handle(exchange, { rawBody: raw, params: matched.params });
    } catch (error) {
      if (error instanceof FakeRequestAbortedError) {
        exchange.finish(error.reason);
        return;
      }
      // A broken step function is a test bug: answer 500 so it shows up, and keep the message.
      if (!response.headersSent) {
        exchange.fail(500, `fake-openai step failed: ${errorMessage(error)}`, 'server_error', null);
      } else {
        incoming.socket.destroy();
        exchange.finish('error');
      }
    }
  };

  const server: Server = createServer((incoming, response) => {
    handle(incoming, response).catch(() => {
      // handle() answers every failure itself; this only guards against a destroyed socket mid-write.
      response.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  const fake: FakeOpenAIBase = {
    baseURL: `http://127.0.0.1:${port}/v1`,
    apiKey,
    port,
    get requests() {
      return requests;
    },
    get inFlight() {
      return active.size;
    },
    requestsFor: (model) => requests.filter((entry) => entry.model === model),
    script: (model, ...steps) => scripts.script(model, ...steps),
    pending: (model) => scripts.pending(model),
    alwaysFail: (model, error, faultOptions) => scripts.alwaysFail(model, error, faultOptions),
    clearFaults: (model) => scripts.clearFaults(model),
    setDefaultResponder: (responder) => scripts.setDefaultResponder(responder),
    addModel: (...ids) => scripts.addModel(...ids),
    setRateLimit: (model, rateLimit) => scripts.setRateLimit(model, rateLimit),
    waitForRequests(count, { model, timeoutMs = 5_000 } = {}) {
      const matching = () => (model === undefined ? requests : requests.filter((entry) => entry.model === model));
      return waiter.waitFor(
        () => (matching().length >= count ? matching() : undefined),
        timeoutMs,
        () =>
          new Error(
            `fake-openai: expected ${count} request(s)${model === undefined ? '' : ` for ${model}`}, saw ${matching().length}`,
          ),
      );
    },
    async waitForIdle(timeoutMs = 5_000) {
      await waiter.waitFor(
        () => active.size === 0,
        timeoutMs,
        () => new Error(`fake-openai: ${active.size} request(s) still in flight after ${timeoutMs} ms`),
      );
    },
    reset() {
      scripts.reset();
      requests.length = 0;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const exchange of [...active]) {
        exchange.abort(new FakeRequestAbortedError('server-closed'));
        exchange.finish('server-closed');
      }
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await stopped;
    },
  };
  await attachViews(
    fake,
    views.map(({ endpoint, view }) => ({ owner: `fake-openai: endpoint ${endpoint.name}`, view })),
  );
  // Every endpoint's augmentation of FakeOpenAI is now on the object (an endpoint returns the helpers it declares).
  return fake as FakeOpenAI;
}
