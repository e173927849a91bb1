/**
 * A fake OpenAI-compatible Chat Completions server for tests.
 *
 * It speaks the wire format the real `@ai-sdk/openai` chat model parses (JSON and SSE, usage in
 * the last chunk with `stream_options.include_usage`, tool-call deltas split across chunks,
 * OpenAI-shaped error bodies, `retry-after` headers) over a real loopback socket, so agent tests
 * exercise the real provider, retry logic and abort handling instead of a mock.
 *
 * @example
 * const fake = await startFakeOpenAI();
 * fake.script('gpt-test', { text: 'Hello there', chunkSize: 3 }, { error: { status: 429, retryAfterMs: 50 } });
 * const model = createOpenAI({ baseURL: fake.baseURL, apiKey: fake.apiKey }).chat('gpt-test');
 * const { text } = await generateText({ model, prompt: 'hi' });
 * await fake.close();
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Token usage as OpenAI reports it. */
export interface FakeUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

export type FakeFinishReason = 'stop' | 'length' | 'content_filter';

/** Answer with text; streamed in `chunkSize`-character chunks when the request streams. */
export interface FakeTextStep {
  text: string;
  /** Characters per SSE chunk (default 4). */
  chunkSize?: number;
  /** Delay between chunks (default 0). */
  chunkDelayMs?: number;
  /** Delay before the first content chunk (streaming: headers and the role chunk go out first). */
  firstTokenDelayMs?: number;
  /** Default: estimated from the request and the text (about 4 characters a token). */
  usage?: FakeUsage;
  finishReason?: FakeFinishReason;
  /** Destroy the socket after this many content chunks (0 = before any content; JSON: before the response). */
  disconnectAfterChunks?: number;
  /** Stop sending after this many content chunks and keep the connection open until the client goes away or `close()`. */
  stallAfterChunks?: number;
}

export interface FakeToolCall {
  name: string;
  /** An object is JSON-encoded; a string is sent verbatim (so tests can send malformed arguments). */
  arguments: Record<string, unknown> | string;
  /** Default: `call_<n>`. */
  id?: string;
}

/** Answer with tool calls (finish_reason `tool_calls`); arguments are streamed in `chunkSize` pieces. */
export interface FakeToolCallsStep {
  toolCalls: FakeToolCall[];
  /** Optional assistant text sent before the tool calls. */
  text?: string;
  chunkSize?: number;
  chunkDelayMs?: number;
  firstTokenDelayMs?: number;
  usage?: FakeUsage;
}

export interface FakeErrorSpec {
  status: number;
  /** Sent as `retry-after` (seconds; fractions allowed, the AI SDK parses with parseFloat). */
  retryAfterSeconds?: number;
  /** Sent as `retry-after-ms`; the AI SDK prefers it over `retry-after`. */
  retryAfterMs?: number;
  /** OpenAI error code, e.g. `rate_limit_exceeded`, `context_length_exceeded`, `content_filter`. */
  code?: string;
  /** OpenAI error type; defaults by status. */
  type?: string;
  message?: string;
}

/** Answer with an OpenAI-shaped error. */
export interface FakeErrorStep {
  error: FakeErrorSpec;
  /**
   * Streaming requests only: answer 200 and send the error as an SSE `data: {"error":…}` frame
   * (what OpenAI does when a stream fails), after streaming `textBefore` if given.
   */
  inStream?: boolean;
  textBefore?: string;
}

/** Accept the request and never answer until the client gives up or the fake closes. */
export interface FakeHangStep {
  hang: true;
}

export type FakeStaticStep = FakeTextStep | FakeToolCallsStep | FakeErrorStep | FakeHangStep;

/** What a function step and the default responder see. */
export interface FakeChatRequest {
  model: string;
  messages: FakeMessage[];
  tools: unknown[] | undefined;
  stream: boolean;
  body: Record<string, unknown>;
  headers: Record<string, string>;
  /** Text of the last `user` message ('' when there is none). */
  lastUserText: string;
}

export type FakeStepFunction = (request: FakeChatRequest) => FakeStep | Promise<FakeStep>;
export type FakeStep = FakeStaticStep | FakeStepFunction;

/** A chat message as received (OpenAI wire shape, loosely typed). */
export interface FakeMessage {
  role: string;
  content?: unknown;
  tool_calls?: Array<{ id: string; type: string; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
  [key: string]: unknown;
}

export type FakeRequestOutcome =
  | 'pending'
  | 'ok'
  | 'error'
  | 'hang'
  | 'disconnected'
  | 'stalled'
  | 'client-closed'
  | 'server-closed';

export interface FakeRecordedRequest {
  /** Sequence number, 1-based, over the fake's lifetime. */
  id: number;
  method: string;
  path: string;
  model: string;
  messages: FakeMessage[];
  tools: unknown[] | undefined;
  stream: boolean;
  /** Lower-cased request headers. */
  headers: Record<string, string>;
  body: Record<string, unknown> | undefined;
  /** `Date.now()` when the request (with its body) had arrived. */
  at: number;
  /** HTTP status sent, `undefined` while no status line was written (hang, disconnect before headers). */
  status: number | undefined;
  outcome: FakeRequestOutcome;
  /** `Date.now()` when the fake stopped working on it. */
  endedAt: number | undefined;
}

export interface FakeRateLimit {
  limitRequests: number;
  limitTokens: number;
  remainingRequests: number;
  remainingTokens: number;
  /** Sent as `x-ratelimit-reset-requests` / `-tokens` (OpenAI duration strings such as `1s`, `6m0s`). */
  resetRequests: string;
  resetTokens: string;
}

export interface FakeFaultOptions {
  /** Fail until this moment (`Date` or epoch milliseconds); default: until `clearFaults`. */
  until?: number | Date;
  /** Fail only this many requests. */
  times?: number;
}

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

export interface FakeOpenAI {
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

const DEFAULT_MODELS = ['gpt-test', 'gpt-test-fallback', 'gpt-test-mini'];
const ANY_MODEL = '*';

const DEFAULT_RATE_LIMIT: FakeRateLimit = {
  limitRequests: 10_000,
  limitTokens: 2_000_000,
  remainingRequests: 10_000,
  remainingTokens: 2_000_000,
  resetRequests: '6ms',
  resetTokens: '0s',
};

interface Fault {
  error: FakeErrorSpec;
  until: number | undefined;
  remaining: number | undefined;
}

interface RequestContext {
  record: FakeRecordedRequest;
  response: ServerResponse;
  socket: Socket;
  abort: AbortController;
  /** Settles when the last SSE write has been handed to the socket. */
  lastWrite: Promise<void>;
}

class FakeRequestAbortedError extends Error {
  constructor(readonly reason: 'client-closed' | 'server-closed') {
    super(reason);
  }
}

function defaultEchoResponder(request: FakeChatRequest): FakeStep {
  return { text: `echo: ${request.lastUserText}` };
}

function textOfContent(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) =>
        typeof part === 'object' && part !== null && 'text' in part && typeof part.text === 'string' ? part.text : '',
      )
      .join('');
  }
  return '';
}

/** Deterministic, roughly OpenAI-sized: about four characters per token. */
function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function splitIntoChunks(text: string, size: number): string[] {
  const characters = Array.from(text); // never split a surrogate pair (Chinese text, emoji)
  const chunks: string[] = [];
  for (let index = 0; index < characters.length; index += size) {
    chunks.push(characters.slice(index, index + size).join(''));
  }
  return chunks;
}

function defaultErrorBody(spec: FakeErrorSpec, model: string): { message: string; type: string; code: string | null } {
  switch (spec.status) {
    case 429:
      return {
        message: `Rate limit reached for ${model} on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.`,
        type: 'requests',
        code: 'rate_limit_exceeded',
      };
    case 401:
      return {
        message:
          'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      };
    case 404:
      return {
        message: `The model \`${model}\` does not exist or you do not have access to it.`,
        type: 'invalid_request_error',
        code: 'model_not_found',
      };
    case 400:
      if (spec.code === 'context_length_exceeded') {
        return {
          message:
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens. Please reduce the length of the messages.",
          type: 'invalid_request_error',
          code: 'context_length_exceeded',
        };
      }
      if (spec.code === 'content_filter') {
        return {
          message:
            'The response was filtered due to the prompt triggering content management policy. Please modify your prompt and retry.',
          type: 'invalid_request_error',
          code: 'content_filter',
        };
      }
      return { message: 'Invalid request.', type: 'invalid_request_error', code: null };
    case 503:
      return {
        message: 'The engine is currently overloaded, please try again later.',
        type: 'server_error',
        code: null,
      };
    default:
      return {
        message: 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
        code: null,
      };
  }
}

function errorPayload(spec: FakeErrorSpec, model: string) {
  const defaults = defaultErrorBody(spec, model);
  return {
    error: {
      message: spec.message ?? defaults.message,
      type: spec.type ?? defaults.type,
      param: spec.code === 'context_length_exceeded' ? 'messages' : null,
      code: spec.code ?? defaults.code,
    },
  };
}

function isTextStep(step: FakeStaticStep): step is FakeTextStep {
  return 'text' in step && !('toolCalls' in step) && !('error' in step);
}

/**
 * Starts the fake on 127.0.0.1 with an ephemeral port.
 *
 * @example
 * const fake = await startFakeOpenAI({ models: ['primary', 'backup'] });
 * fake.alwaysFail('primary', { status: 429, retryAfterSeconds: 1 });
 */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const {
    apiKey = 'sk-fake-openai-test-key',
    models: initialModels = DEFAULT_MODELS,
    acceptAnyModel = false,
    defaultChunkSize = 4,
    maxRecordedRequests = 10_000,
    maxBodyBytes = 10 * 1024 * 1024,
  } = options;

  const models = new Set(initialModels);
  const queues = new Map<string, FakeStep[]>();
  const faults = new Map<string, Fault>();
  const rateLimits = new Map<string, FakeRateLimit>();
  const baseRateLimit: FakeRateLimit = { ...DEFAULT_RATE_LIMIT, ...options.rateLimit };
  let defaultResponder: FakeStepFunction = options.defaultResponder ?? defaultEchoResponder;
  const requests: FakeRecordedRequest[] = [];
  const active = new Set<RequestContext>();
  const sockets = new Set<Socket>();
  const waiters = new Set<() => void>();
  let sequence = 0;
  let closed = false;

  const notifyWaiters = () => {
    for (const waiter of [...waiters]) waiter();
  };

  const rateLimitFor = (model: string): FakeRateLimit => {
    let rateLimit = rateLimits.get(model);
    if (rateLimit === undefined) {
      rateLimit = { ...(rateLimits.get(ANY_MODEL) ?? baseRateLimit) };
      rateLimits.set(model, rateLimit);
    }
    return rateLimit;
  };

  const rateLimitHeaders = (model: string): Record<string, string> => {
    const rateLimit = rateLimitFor(model);
    return {
      'x-ratelimit-limit-requests': String(rateLimit.limitRequests),
      'x-ratelimit-limit-tokens': String(rateLimit.limitTokens),
      'x-ratelimit-remaining-requests': String(rateLimit.remainingRequests),
      'x-ratelimit-remaining-tokens': String(rateLimit.remainingTokens),
      'x-ratelimit-reset-requests': rateLimit.resetRequests,
      'x-ratelimit-reset-tokens': rateLimit.resetTokens,
    };
  };

  const activeFault = (model: string): FakeErrorSpec | undefined => {
    for (const key of [model, ANY_MODEL]) {
      const fault = faults.get(key);
      if (fault === undefined) continue;
      if (fault.until !== undefined && Date.now() >= fault.until) {
        faults.delete(key);
        continue;
      }
      if (fault.remaining !== undefined) {
        fault.remaining -= 1;
        if (fault.remaining <= 0) faults.delete(key);
      }
      return fault.error;
    }
    return undefined;
  };

  const nextStep = (model: string): FakeStep | undefined => {
    const own = queues.get(model);
    if (own !== undefined && own.length > 0) return own.shift();
    const shared = queues.get(ANY_MODEL);
    if (shared !== undefined && shared.length > 0) return shared.shift();
    return undefined;
  };

  const record = (entry: Omit<FakeRecordedRequest, 'id'>): FakeRecordedRequest => {
    sequence += 1;
    const recorded: FakeRecordedRequest = { id: sequence, ...entry };
    requests.push(recorded);
    if (requests.length > maxRecordedRequests) requests.splice(0, requests.length - maxRecordedRequests);
    notifyWaiters();
    return recorded;
  };

  const finish = (context: RequestContext, outcome: FakeRequestOutcome) => {
    if (!active.has(context)) return;
    active.delete(context);
    if (context.record.outcome === 'pending') context.record.outcome = outcome;
    context.record.endedAt = Date.now();
    notifyWaiters();
  };

  /** Waits unless the client goes away or the fake closes (then throws, ending the work). */
  const pause = async (context: RequestContext, ms: number) => {
    if (ms > 0) {
      try {
        await sleep(ms, undefined, { signal: context.abort.signal });
      } catch {
        // fall through to the abort check below
      }
    }
    if (context.abort.signal.aborted) {
      const reason: unknown = context.abort.signal.reason;
      throw reason instanceof FakeRequestAbortedError ? reason : new FakeRequestAbortedError('client-closed');
    }
  };

  const waitUntilAborted = (context: RequestContext) =>
    new Promise<never>((_resolve, reject) => {
      const signal = context.abort.signal;
      const onAbort = () => {
        const reason: unknown = signal.reason;
        reject(reason instanceof FakeRequestAbortedError ? reason : new FakeRequestAbortedError('client-closed'));
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });

  const sendJson = (
    context: RequestContext | undefined,
    response: ServerResponse,
    status: number,
    payload: unknown,
    headers: Record<string, string> = {},
  ) => {
    const body = JSON.stringify(payload);
    response.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-request-id': `req_${randomUUID().replaceAll('-', '')}`,
      ...headers,
    });
    response.end(body);
    if (context !== undefined) context.record.status = status;
  };

  const errorHeaders = (spec: FakeErrorSpec, model: string): Record<string, string> => {
    const headers: Record<string, string> = {};
    if (spec.retryAfterSeconds !== undefined) headers['retry-after'] = String(spec.retryAfterSeconds);
    if (spec.retryAfterMs !== undefined) headers['retry-after-ms'] = String(spec.retryAfterMs);
    if (spec.status === 429) {
      Object.assign(headers, rateLimitHeaders(model), {
        'x-ratelimit-remaining-requests': '0',
      });
    }
    return headers;
  };

  const respondError = (context: RequestContext, spec: FakeErrorSpec) => {
    const { model } = context.record;
    sendJson(context, context.response, spec.status, errorPayload(spec, model), errorHeaders(spec, model));
    finish(context, 'error');
  };

  const consumeQuota = (model: string, usage: FakeUsage) => {
    const rateLimit = rateLimitFor(model);
    rateLimit.remainingRequests = Math.max(0, rateLimit.remainingRequests - 1);
    rateLimit.remainingTokens = Math.max(0, rateLimit.remainingTokens - usage.prompt_tokens - usage.completion_tokens);
  };

  const promptTokens = (request: FakeChatRequest) => estimateTokens(JSON.stringify(request.messages));

  const completionId = () => `chatcmpl-${randomUUID().replaceAll('-', '').slice(0, 24)}`;

  const writeEvent = (context: RequestContext, payload: unknown) => {
    context.lastWrite = new Promise<void>((resolve) => {
      context.response.write(`data: ${JSON.stringify(payload)}\n\n`, () => resolve());
    });
  };

  /**
   * Cuts the connection like a crashed proxy would. Waits for what was written to reach the
   * kernel first: destroying at once would discard it, and the client would see a connection
   * failure before any output (which the SDK retries) instead of a stream that breaks mid-way.
   */
  const disconnect = async (context: RequestContext) => {
    await Promise.race([context.lastWrite, waitUntilAborted(context).catch(() => undefined)]);
    context.socket.destroy();
    finish(context, 'disconnected');
  };

  const startStream = (context: RequestContext, model: string) => {
    context.response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-request-id': `req_${randomUUID().replaceAll('-', '')}`,
      ...rateLimitHeaders(model),
    });
    context.response.flushHeaders();
    context.record.status = 200;
  };

  /**
   * The chunks of one streamed completion, as OpenAI sends them: one id, time and model on every
   * chunk, and with `stream_options.include_usage` a `usage: null` on each and a last chunk
   * carrying the usage before `[DONE]`.
   */
  const completionChunks = (context: RequestContext, request: FakeChatRequest) => {
    const includeUsage = hasIncludeUsage(request.body);
    const common = {
      id: completionId(),
      object: 'chat.completion.chunk',
      created: Math.floor(Date.now() / 1000),
      model: request.model,
      system_fingerprint: 'fp_fake',
    };
    return {
      write(delta: Record<string, unknown>, finishReason: string | null = null) {
        writeEvent(context, {
          ...common,
          choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
          ...(includeUsage ? { usage: null } : {}),
        });
      },
      end(usage: FakeUsage) {
        if (includeUsage) writeEvent(context, { ...common, choices: [], usage: withTotal(usage) });
        context.response.end('data: [DONE]\n\n');
        finish(context, 'ok');
      },
    };
  };

  const streamTextStep = async (context: RequestContext, request: FakeChatRequest, step: FakeTextStep) => {
    const { model } = request;
    const usage = step.usage ?? { prompt_tokens: promptTokens(request), completion_tokens: estimateTokens(step.text) };
    consumeQuota(model, usage);
    const chunks = completionChunks(context, request);
    startStream(context, model);
    chunks.write({ role: 'assistant', content: '', refusal: null });
    await pause(context, step.firstTokenDelayMs ?? 0);
    const pieces = splitIntoChunks(step.text, step.chunkSize ?? defaultChunkSize);
    for (const [index, piece] of pieces.entries()) {
      if (step.disconnectAfterChunks !== undefined && index >= step.disconnectAfterChunks) {
        await disconnect(context);
        return;
      }
      if (step.stallAfterChunks !== undefined && index >= step.stallAfterChunks) {
        context.record.outcome = 'stalled';
        await waitUntilAborted(context);
      }
      if (index > 0) await pause(context, step.chunkDelayMs ?? 0);
      chunks.write({ content: piece });
    }
    if (step.disconnectAfterChunks !== undefined) {
      await disconnect(context);
      return;
    }
    chunks.write({}, step.finishReason ?? 'stop');
    chunks.end(usage);
  };

  const streamToolCallsStep = async (context: RequestContext, request: FakeChatRequest, step: FakeToolCallsStep) => {
    const { model } = request;
    const calls = normaliseToolCalls(step.toolCalls);
    const usage = step.usage ?? {
      prompt_tokens: promptTokens(request),
      completion_tokens: estimateTokens((step.text ?? '') + calls.map((call) => call.name + call.arguments).join('')),
    };
    consumeQuota(model, usage);
    const chunks = completionChunks(context, request);
    const chunkSize = step.chunkSize ?? defaultChunkSize;
    startStream(context, model);
    await pause(context, step.firstTokenDelayMs ?? 0);
    let first = true;
    const role = () => {
      if (!first) return {};
      first = false;
      return { role: 'assistant' };
    };
    if (step.text !== undefined && step.text.length > 0) {
      for (const piece of splitIntoChunks(step.text, chunkSize)) {
        chunks.write({ ...role(), content: piece });
        await pause(context, step.chunkDelayMs ?? 0);
      }
    }
    for (const [index, call] of calls.entries()) {
      chunks.write({
        ...role(),
        content: null,
        tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
      });
      for (const piece of splitIntoChunks(call.arguments, chunkSize)) {
        await pause(context, step.chunkDelayMs ?? 0);
        chunks.write({ tool_calls: [{ index, function: { arguments: piece } }] });
      }
    }
    chunks.write({}, 'tool_calls');
    chunks.end(usage);
  };

  const streamErrorStep = async (context: RequestContext, request: FakeChatRequest, step: FakeErrorStep) => {
    const { model } = request;
    const id = completionId();
    const created = Math.floor(Date.now() / 1000);
    startStream(context, model);
    const response = context.response;
    for (const piece of splitIntoChunks(step.textBefore ?? '', defaultChunkSize)) {
      writeEvent(context, {
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        choices: [{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }],
      });
    }
    writeEvent(context, errorPayload(step.error, model));
    response.end();
    finish(context, 'error');
  };

  const respondJson = async (
    context: RequestContext,
    request: FakeChatRequest,
    step: FakeTextStep | FakeToolCallsStep,
  ) => {
    const { model } = request;
    await pause(context, step.firstTokenDelayMs ?? 0);
    if ('disconnectAfterChunks' in step && step.disconnectAfterChunks !== undefined) {
      await disconnect(context);
      return;
    }
    if ('stallAfterChunks' in step && step.stallAfterChunks !== undefined) {
      context.record.outcome = 'stalled';
      await waitUntilAborted(context);
    }
    let message: Record<string, unknown>;
    let finishReason: string;
    let usage: FakeUsage;
    if ('toolCalls' in step) {
      const calls = normaliseToolCalls(step.toolCalls);
      message = {
        role: 'assistant',
        content: step.text ?? null,
        refusal: null,
        tool_calls: calls.map((call) => ({
          id: call.id,
          type: 'function',
          function: { name: call.name, arguments: call.arguments },
        })),
      };
      finishReason = 'tool_calls';
      usage = step.usage ?? {
        prompt_tokens: promptTokens(request),
        completion_tokens: estimateTokens((step.text ?? '') + calls.map((call) => call.name + call.arguments).join('')),
      };
    } else {
      message = { role: 'assistant', content: step.text, refusal: null };
      finishReason = step.finishReason ?? 'stop';
      usage = step.usage ?? { prompt_tokens: promptTokens(request), completion_tokens: estimateTokens(step.text) };
    }
    consumeQuota(model, usage);
    sendJson(
      context,
      context.response,
      200,
      {
        id: completionId(),
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model,
        system_fingerprint: 'fp_fake',
        choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
        usage: withTotal(usage),
      },
      rateLimitHeaders(model),
    );
    finish(context, 'ok');
  };

  const resolveStep = async (step: FakeStep, request: FakeChatRequest): Promise<FakeStaticStep> => {
    let current: FakeStep = step;
    // A function may return another function; bounded so a buggy script cannot loop forever.
    for (let depth = 0; depth < 10; depth += 1) {
      if (typeof current !== 'function') return current;
      current = await current(request);
    }
    throw new Error('fake-openai: step functions nested more than 10 deep');
  };

  const handleChat = async (context: RequestContext, request: FakeChatRequest) => {
    const fault = activeFault(request.model);
    if (fault !== undefined) {
      respondError(context, fault);
      return;
    }
    const step = await resolveStep(nextStep(request.model) ?? defaultResponder, request);
    if ('hang' in step) {
      context.record.outcome = 'hang';
      await waitUntilAborted(context);
      return;
    }
    if ('error' in step) {
      if (step.inStream === true && request.stream) await streamErrorStep(context, request, step);
      else respondError(context, step.error);
      return;
    }
    if (request.stream) {
      if ('toolCalls' in step) await streamToolCallsStep(context, request, step);
      else if (isTextStep(step)) await streamTextStep(context, request, step);
      return;
    }
    await respondJson(context, request, step);
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
    const entry = record({
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
    });
    const context: RequestContext = {
      record: entry,
      response,
      socket: incoming.socket,
      abort: new AbortController(),
      lastWrite: Promise.resolve(),
    };
    active.add(context);
    // Covers the client aborting (AbortSignal, timeout) and the fake destroying the socket.
    response.on('close', () => {
      if (!response.writableFinished && !context.abort.signal.aborted) {
        context.abort.abort(new FakeRequestAbortedError('client-closed'));
      }
      finish(context, 'client-closed');
    });

    const fail = (status: number, message: string, type: string, code: string | null, param: string | null = null) => {
      sendJson(context, response, status, { error: { message, type, param, code } });
      finish(context, 'error');
    };

    if (headers.authorization !== `Bearer ${apiKey}`) {
      fail(
        401,
        'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
        'invalid_request_error',
        'invalid_api_key',
      );
      return;
    }
    if (method === 'GET' && path === '/v1/models') {
      const created = Math.floor(Date.now() / 1000);
      sendJson(context, response, 200, {
        object: 'list',
        data: [...models].map((id) => ({ id, object: 'model', created, owned_by: 'fake-openai' })),
      });
      finish(context, 'ok');
      return;
    }
    if (method !== 'POST' || path !== '/v1/chat/completions') {
      fail(404, `Invalid URL (${method} ${path})`, 'invalid_request_error', null);
      return;
    }
    if (raw === 'too-large') {
      fail(413, 'Request body too large.', 'invalid_request_error', 'request_too_large');
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      fail(400, 'We could not parse the JSON body of your request.', 'invalid_request_error', null);
      return;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      fail(400, 'The request body must be a JSON object.', 'invalid_request_error', null);
      return;
    }
    const payload = body as Record<string, unknown>;
    const model = typeof payload.model === 'string' ? payload.model : '';
    const messages = Array.isArray(payload.messages) ? (payload.messages as FakeMessage[]) : undefined;
    entry.model = model;
    entry.body = payload;
    entry.stream = payload.stream === true;
    entry.tools = Array.isArray(payload.tools) ? payload.tools : undefined;
    entry.messages = messages ?? [];
    notifyWaiters(); // waiters filtering by model can only match now
    if (model === '') {
      fail(400, 'you must provide a model parameter', 'invalid_request_error', null, 'model');
      return;
    }
    if (messages === undefined) {
      fail(
        400,
        "Missing required parameter: 'messages'.",
        'invalid_request_error',
        'missing_required_parameter',
        'messages',
      );
      return;
    }
    if (!acceptAnyModel && !models.has(model)) {
      sendJson(context, response, 404, errorPayload({ status: 404 }, model));
      finish(context, 'error');
      return;
    }
    const lastUser = [...messages].reverse().find((message) => message.role === 'user');
    const request: FakeChatRequest = {
      model,
      messages,
      tools: entry.tools,
      stream: entry.stream,
      body: payload,
      headers,
      lastUserText: lastUser === undefined ? '' : textOfContent(lastUser.content),
    };
    try {
      await handleChat(context, request);
    } catch (error) {
      if (error instanceof FakeRequestAbortedError) {
        finish(context, error.reason);
        return;
      }
      // A broken step function is a test bug: answer 500 so it shows up, and keep the message.
      if (!response.headersSent) {
        fail(
          500,
          `fake-openai step failed: ${error instanceof Error ? error.message : String(error)}`,
          'server_error',
          null,
        );
      } else {
        context.socket.destroy();
        finish(context, 'error');
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

  const fake: FakeOpenAI = {
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
    script(model, ...steps) {
      if (model !== ANY_MODEL) models.add(model);
      const queue = queues.get(model) ?? [];
      queue.push(...steps);
      queues.set(model, queue);
    },
    pending: (model) => queues.get(model)?.length ?? 0,
    alwaysFail(model, error, faultOptions = {}) {
      if (model !== ANY_MODEL) models.add(model);
      const until = faultOptions.until instanceof Date ? faultOptions.until.getTime() : faultOptions.until;
      faults.set(model, { error, until, remaining: faultOptions.times });
    },
    clearFaults(model) {
      if (model === undefined) faults.clear();
      else faults.delete(model);
    },
    setDefaultResponder(responder) {
      defaultResponder = responder ?? defaultEchoResponder;
    },
    addModel(...ids) {
      for (const id of ids) models.add(id);
    },
    setRateLimit(model, rateLimit) {
      if (model === ANY_MODEL) {
        rateLimits.clear();
        rateLimits.set(ANY_MODEL, { ...baseRateLimit, ...rateLimit });
        return;
      }
      rateLimits.set(model, { ...rateLimitFor(model), ...rateLimit });
    },
    waitForRequests(count, { model, timeoutMs = 5_000 } = {}) {
      const matching = () => (model === undefined ? requests : requests.filter((entry) => entry.model === model));
      return waitFor(
        () => (matching().length >= count ? matching() : undefined),
        timeoutMs,
        () => {
          return `fake-openai: expected ${count} request(s)${model === undefined ? '' : ` for ${model}`}, saw ${matching().length}`;
        },
      );
    },
    async waitForIdle(timeoutMs = 5_000) {
      await waitFor(
        () => (active.size === 0 ? true : undefined),
        timeoutMs,
        () => {
          return `fake-openai: ${active.size} request(s) still in flight after ${timeoutMs} ms`;
        },
      );
    },
    reset() {
      queues.clear();
      faults.clear();
      rateLimits.clear();
      requests.length = 0;
      defaultResponder = options.defaultResponder ?? defaultEchoResponder;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const context of [...active]) {
        context.abort.abort(new FakeRequestAbortedError('server-closed'));
        finish(context, 'server-closed');
      }
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await stopped;
    },
  };

  function waitFor<T>(check: () => T | undefined, timeoutMs: number, describe: () => string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const immediate = check();
      if (immediate !== undefined) {
        resolve(immediate);
        return;
      }
      const waiter = () => {
        const value = check();
        if (value === undefined) return;
        cleanup();
        resolve(value);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(describe()));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(waiter);
      };
      waiters.add(waiter);
    });
  }

  return fake;
}

function hasIncludeUsage(body: Record<string, unknown>): boolean {
  const streamOptions = body.stream_options;
  return (
    typeof streamOptions === 'object' &&
    streamOptions !== null &&
    'include_usage' in streamOptions &&
    streamOptions.include_usage === true
  );
}

function withTotal(usage: FakeUsage) {
  return { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
}

let toolCallCounter = 0;

function normaliseToolCalls(calls: FakeToolCall[]): Array<{ id: string; name: string; arguments: string }> {
  return calls.map((call) => {
    toolCallCounter += 1;
    return {
      id: call.id ?? `call_${toolCallCounter}`,
      name: call.name,
      arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
    };
  });
}
