import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3GenerateResult,
  LanguageModelV3StreamPart,
  LanguageModelV3StreamResult,
} from '@ai-sdk/provider';
import type { Logger } from '../log.js';
import type { ErrorCategory } from '../observe/error-category.js';
import type { EventBus } from '../observe/event-bus.js';
import { backoffDelay } from '../util/backoff.js';
import { sleep as realSleep, type Sleep } from '../util/sleep.js';
import { type BreakerChange, type BreakerState, type CircuitBreaker, createCircuitBreaker } from './circuit-breaker.js';
import {
  type ClassifiedModelError,
  classifyModelError,
  ModelTimeoutError,
  userMessageFor,
} from './classify-model-error.js';
import {
  type ConcurrencyLimiter,
  createConcurrencyLimiter,
  type LimiterReading,
  type Permit,
} from './concurrency-limiter.js';

/**
 * The model chain: every model call (every step of an agent's tool loop) goes through it.
 *
 * Policy, in order, per call:
 * 1. Candidates are the preferred model (a specialist's own), the primary, then FALLBACK_MODELS,
 *    without duplicates. A model whose circuit breaker is open is skipped (a refusal, category
 *    CIRCUIT_OPEN); while a half-open breaker's one probe is out, the others skip it too. When
 *    every candidate refuses, the call waits up to `breakerWaitMs` for a probe's verdict or a
 *    cooldown's end before failing with CIRCUIT_OPEN.
 * 2. Each request needs a permit from its model's adaptive concurrency limit
 *    (concurrency-limiter.ts: grows while the provider accepts, halves on a 429). A model at its
 *    limit is waited for up to `limitWaitMs` (the last candidate up to the first-token timeout),
 *    then the next candidate with room serves.
 * 3. One attempt at a time. Each attempt has a first-token timeout (cancelled by the first delta)
 *    and a total timeout, both enforced with an AbortSignal.
 * 4. A failure about the MODEL (429, 5xx, 404, timeout, network) is retried on the same model
 *    with backoff honouring `retry-after-ms`/`retry-after`, up to `maxRetries` times, unless the
 *    wait would exceed `maxRetryDelayMs` (then it falls over at once instead of waiting) or the
 *    failure was a timeout (waiting again for a hung model wastes the user's time). Then it
 *    falls over to the next candidate.
 * 5. A failure about the REQUEST (AUTH, CONTEXT_LENGTH, CONTENT_FILTER, other 4xx) ends the call:
 *    no other model fixes it, and it does not count against the model's breaker.
 * 6. Nothing reaches the caller before the first text delta (or the end of a text-less step, such
 *    as a pure tool call), so falling over before it is invisible. After the first text delta a
 *    failure is NOT restarted on another model (the user would see the text jump): the stream
 *    ends with an error part carrying a `ModelChainError` with `partial: true`, and the caller
 *    ends the reply with what was said plus a notice.
 *
 * The SDK's own retries must be off (`maxRetries: 0` on streamText) so this chain counts every
 * attempt.
 */

export interface ModelChainOptions {
  /** Builds the provider model for an id, e.g. `(id) => createOpenAI({ baseURL, apiKey }).chat(id)`. */
  createModel: (modelId: string) => LanguageModelV3;
  primary: string;
  fallbacks?: readonly string[];
  firstTokenTimeoutMs?: number;
  totalTimeoutMs?: number;
  maxRetries?: number;
  /** The longest pause before a retry; a longer `retry-after` means fall over instead. */
  maxRetryDelayMs?: number;
  /** First exponential backoff pause when the provider gives no retry-after. */
  initialRetryDelayMs?: number;
  breakerFailures?: number;
  /** First cooldown of an opened breaker; doubled per failed probe up to `breakerCooldownMs`. */
  breakerFirstCooldownMs?: number;
  breakerCooldownMs?: number;
  /** How long a call whose every model refuses waits for a probe's verdict or a cooldown's end. */
  breakerWaitMs?: number;
  /** Starting concurrency limit per model (it adapts). Default 16. */
  initialConcurrency?: number;
  /** Hard ceiling of every model's limit (MAX_CONCURRENT_JOBS). Default 64. */
  maxConcurrency?: number;
  /** How long a request waits for its model's permit before the next model with room serves. */
  limitWaitMs?: number;
  bus?: EventBus;
  log?: Logger;
  now?: () => number;
  /** Injected in tests; must reject when `signal` aborts. */
  sleep?: Sleep;
  /** 0..1, for backoff jitter. */
  random?: () => number;
}

export interface ModelAttemptRecord {
  model: string;
  outcome: 'success' | 'error' | 'skipped';
  latencyMs: number;
  category?: ErrorCategory;
  statusCode?: number;
}

/** One agent call's view of the chain: hand `model` to streamText; read who served afterwards. */
export interface ChainCall {
  readonly model: LanguageModelV3;
  /** The model that served the most recent successful step. */
  readonly servedBy: string | undefined;
  /** Every attempt of this call (bounded). */
  readonly attempts: readonly ModelAttemptRecord[];
}

export interface ModelChain {
  readonly models: readonly string[];
  /**
   * A LanguageModelV3 for one agent call. `traceId` and `agent` label the events it emits;
   * `preferredModel` is tried first (a specialist's own model).
   */
  call(options: { traceId?: string; agent: string; preferredModel?: string }): ChainCall;
  breakerState(modelId: string): BreakerState;
  /**
   * The adaptive concurrency: per model, and the admission limit for agent runs (the sum over the
   * models whose breaker is not open, within the ceiling), which the dispatcher follows.
   */
  concurrency(): ChainConcurrency;
  /**
   * A provider response started (status and headers, before the body) for the request sent
   * with `signal`: without a 429 or an exhausted rate-limit header, its model's limit may grow.
   * The SDK's doStream only resolves at the first token, too late for a burst; the provider's
   * fetch reports here (model-provider.ts `onResponse`).
   */
  responseStarted(signal: AbortSignal | undefined, status: number, header: (name: string) => string | undefined): void;
}

export interface ChainConcurrency {
  /** Agent runs to admit at once now. */
  limit: number;
  /** MAX_CONCURRENT_JOBS. */
  ceiling: number;
  byModel: Record<string, LimiterReading>;
}

/** The chain gave up; `category` says why, `partial` whether text had already streamed. */
export class ModelChainError extends Error {
  readonly code = 'MODEL_CHAIN_FAILED';
  readonly category: ErrorCategory;
  readonly partial: boolean;
  readonly model: string | undefined;
  constructor({
    category,
    message,
    partial = false,
    model,
    cause,
  }: { category: ErrorCategory; message: string; partial?: boolean; model?: string; cause?: unknown }) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ModelChainError';
    this.category = category;
    this.partial = partial;
    this.model = model;
  }
  /** The short sentence to show the user. */
  get userMessage(): string {
    return userMessageFor(this.category);
  }
  static isInstance(error: unknown): error is ModelChainError {
    return error instanceof Error && (error as { code?: unknown }).code === 'MODEL_CHAIN_FAILED';
  }
}

const MAX_ATTEMPT_RECORDS = 100;
/** How often a call whose every model refuses looks again while another call's probe is out. */
const PROBE_POLL_MS = 100;

type AttemptOutcome<T> =
  | { ok: true; value: T }
  | { ok: false; failure: ClassifiedModelError; error: unknown; callerAborted: boolean };

/**
 * Creates the chain. Breakers live here, one per model id, shared by every call (the set of
 * model ids comes from configuration, so the map is bounded by it).
 *
 * @example
 * const openai = createOpenAI({ baseURL, apiKey });
 * const chain = createModelChain({ createModel: (id) => openai.chat(id), primary: 'gpt-4o', fallbacks: ['gpt-4o-mini'], bus });
 * const call = chain.call({ traceId, agent: 'manager' });
 * const result = streamText({ model: call.model, maxRetries: 0, prompt: 'hi' });
 */
export function createModelChain({
  createModel,
  primary,
  fallbacks = [],
  firstTokenTimeoutMs = 30_000,
  totalTimeoutMs = 180_000,
  maxRetries = 2,
  maxRetryDelayMs = 10_000,
  initialRetryDelayMs = 500,
  breakerFailures = 3,
  breakerFirstCooldownMs = 1_000,
  breakerCooldownMs = 4_000,
  breakerWaitMs = 2_000,
  initialConcurrency = 16,
  maxConcurrency = 64,
  limitWaitMs = 2_000,
  bus,
  log,
  now = Date.now,
  sleep = realSleep,
  random = Math.random,
}: ModelChainOptions): ModelChain {
  const models = unique([primary, ...fallbacks]);
  const providerModels = new Map<string, LanguageModelV3>();
  const breakers = new Map<string, CircuitBreaker>();
  const limiters = new Map<string, ConcurrencyLimiter>();
  /** Requests in flight by the abort signal they were sent with, until their response starts. */
  const awaitingResponse = new WeakMap<AbortSignal, (status: number, remaining: number | undefined) => void>();

  const providerModel = (modelId: string): LanguageModelV3 => {
    let model = providerModels.get(modelId);
    if (model === undefined) {
      model = createModel(modelId);
      providerModels.set(modelId, model);
    }
    return model;
  };
  const breakerFor = (modelId: string): CircuitBreaker => {
    let breaker = breakers.get(modelId);
    if (breaker === undefined) {
      breaker = createCircuitBreaker({
        failureThreshold: breakerFailures,
        firstCooldownMs: breakerFirstCooldownMs,
        cooldownMs: breakerCooldownMs,
        // A probe is a real request: it has until its first token before it counts as vanished.
        probeTimeoutMs: firstTokenTimeoutMs,
        onChange: (change) => reportBreaker(modelId, change),
        now,
      });
      breakers.set(modelId, breaker);
    }
    return breaker;
  };

  const limiterFor = (modelId: string): ConcurrencyLimiter => {
    let limiter = limiters.get(modelId);
    if (limiter === undefined) {
      limiter = createConcurrencyLimiter({
        initial: initialConcurrency,
        max: maxConcurrency,
        now,
        onChange: ({ limit, previous, reason }) => {
          bus?.emit({ type: 'model.concurrency', model: modelId, limit, previous, reason });
          if (limit < previous) log?.warn({ model: modelId, limit, previous, reason }, 'concurrency limit cut');
          else log?.debug({ model: modelId, limit, previous, reason }, 'concurrency limit raised');
        },
      });
      limiters.set(modelId, limiter);
    }
    return limiter;
  };

  /** A permit for a request to `modelId`, waiting up to `waitMs` when it is at its limit. */
  const permitFor = async (modelId: string, waitMs: number, signal: AbortSignal | undefined) => {
    const limiter = limiterFor(modelId);
    return limiter.tryAcquire() ?? (await limiter.acquire(waitMs, signal));
  };

  const reportBreaker = (modelId: string, change: BreakerChange) => {
    bus?.emit({ type: 'model.breaker', model: modelId, ...change });
    if (change.state === 'open') {
      log?.warn({ model: modelId, cooldownMs: change.cooldownMs, category: change.category }, 'circuit breaker opened');
    } else if (change.state === 'closed') {
      log?.info({ model: modelId }, 'circuit breaker closed: the probe succeeded');
    }
  };

  /**
   * How long to pause before asking the refusing breakers again, or undefined when none may let
   * a call through within `budgetMs` (the call then fails with CIRCUIT_OPEN).
   */
  const breakerPause = (candidates: readonly string[], budgetMs: number): number | undefined => {
    let pause = Number.POSITIVE_INFINITY;
    for (const modelId of candidates) pause = Math.min(pause, breakerFor(modelId).waitMs() ?? PROBE_POLL_MS);
    return pause > budgetMs ? undefined : Math.max(pause, 10);
  };

  /** Pause before retry number `retry` (1-based) on the same model, or undefined to fall over now. */
  const retryDelay = (failure: ClassifiedModelError, retry: number): number | undefined => {
    if (failure.retryAfterMs !== undefined) {
      return failure.retryAfterMs > maxRetryDelayMs ? undefined : failure.retryAfterMs;
    }
    return backoffDelay(retry, { initialMs: initialRetryDelayMs, maxMs: maxRetryDelayMs, jitter: 0.2, random });
  };

  function call({
    traceId,
    agent,
    preferredModel,
  }: {
    traceId?: string;
    agent: string;
    preferredModel?: string;
  }): ChainCall {
    const candidates = unique(preferredModel === undefined ? models : [preferredModel, ...models]);
    const attempts: ModelAttemptRecord[] = [];
    let servedBy: string | undefined;
    const record = (entry: ModelAttemptRecord) => {
      if (attempts.length < MAX_ATTEMPT_RECORDS) attempts.push(entry);
      bus?.emit({
        type: 'model.attempt',
        ...(traceId === undefined ? {} : { traceId }),
        agent,
        model: entry.model,
        outcome: entry.outcome === 'skipped' ? 'refused' : entry.outcome,
        latencyMs: entry.latencyMs,
        ...(entry.category === undefined ? {} : { category: entry.category }),
      });
    };

    // Failed attempts are not 'error' events: the health monitor counts the agent call's final
    // outcome (agent.call with errorCategory) once. Attempts show up as 'model.rate-limit' and
    // 'model.fallback' (with the category as reason), and in the log.
    const reportFailure = (modelId: string, failure: ClassifiedModelError, latencyMs: number) => {
      record({
        model: modelId,
        outcome: 'error',
        latencyMs,
        category: failure.category,
        ...(failure.statusCode === undefined ? {} : { statusCode: failure.statusCode }),
      });
      log?.warn(
        { traceId, agent, model: modelId, category: failure.category, status: failure.statusCode },
        `model call failed: ${failure.message}`,
      );
      if (failure.category === 'RATE_LIMIT') {
        bus?.emit({
          type: 'model.rate-limit',
          ...(traceId === undefined ? {} : { traceId }),
          model: modelId,
          ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
          ...(failure.remaining === undefined ? {} : { remaining: failure.remaining }),
        });
      }
    };

    /** Tries candidates in order with retries; `attempt` runs one call on one model. */
    async function runChain<T>(
      callerSignal: AbortSignal | undefined,
      attempt: (modelId: string, breaker: CircuitBreaker, permit: Permit) => Promise<AttemptOutcome<T>>,
    ): Promise<T> {
      let lastFailure: ClassifiedModelError | undefined;
      let previousModel: string | undefined;
      let attempted = false;
      const refused = new Set<string>();
      const waitUntil = now() + breakerWaitMs;
      for (;;) {
        for (const [index, modelId] of candidates.entries()) {
          const breaker = breakerFor(modelId);
          // An open breaker refuses at once: no waiting for a permit it would not use.
          let permit =
            breaker.state() === 'open'
              ? undefined
              : await permitFor(
                  modelId,
                  index === candidates.length - 1 ? firstTokenTimeoutMs : limitWaitMs,
                  callerSignal,
                );
          throwIfAborted(callerSignal);
          if (permit !== undefined && breaker.state() !== 'open' && !breaker.tryAcquire()) {
            permit.release();
            permit = undefined;
          }
          if (permit === undefined && breaker.state() === 'closed') {
            // At its concurrency limit for the whole wait: the next model with room serves.
            lastFailure ??= {
              category: 'RATE_LIMIT',
              modelFault: true,
              retryable: false,
              message: `${modelId} is at its concurrency limit (${limiterFor(modelId).limit})`,
            };
            previousModel ??= modelId;
            continue;
          }
          if (permit === undefined) {
            if (!refused.has(modelId)) {
              refused.add(modelId);
              record({ model: modelId, outcome: 'skipped', latencyMs: 0, category: 'CIRCUIT_OPEN' });
            }
            previousModel ??= modelId;
            continue;
          }
          attempted = true;
          if (previousModel !== undefined) {
            const reason = lastFailure?.category ?? 'CIRCUIT_OPEN';
            bus?.emit({ type: 'model.fallback', traceId: traceId ?? '', from: previousModel, to: modelId, reason });
            log?.info({ traceId, agent, from: previousModel, to: modelId, reason }, 'falling over to the next model');
          }
          for (let retry = 0; ; retry++) {
            throwIfAborted(callerSignal);
            if (retry > 0) permit = await permitFor(modelId, limitWaitMs, callerSignal);
            if (permit === undefined) break;
            const startedAt = now();
            const outcome = await attempt(modelId, breaker, permit);
            if (outcome.ok) return outcome.value;
            if (outcome.callerAborted) {
              breaker.release();
              throw outcome.error;
            }
            const { failure } = outcome;
            lastFailure = failure;
            reportFailure(modelId, failure, now() - startedAt);
            if (!failure.modelFault) {
              // The model answered; the request is what is wrong. It proves the model is up.
              breaker.recordSuccess();
              throw new ModelChainError({
                category: failure.category,
                message: failure.message,
                model: modelId,
                cause: outcome.error,
              });
            }
            breaker.recordFailure(failure.category, failure.retryAfterMs);
            const delay =
              failure.retryable && failure.category !== 'TIMEOUT' ? retryDelay(failure, retry + 1) : undefined;
            if (delay === undefined || retry >= maxRetries || breaker.state() !== 'closed') break;
            await sleep(delay, callerSignal);
          }
          previousModel = modelId;
        }
        if (attempted) break;
        // Every model refused: a probe's verdict or a cooldown's end may be moments away.
        const pause = breakerPause(candidates, waitUntil - now());
        if (pause === undefined) break;
        await sleep(pause, callerSignal);
      }
      if (lastFailure === undefined) {
        const why = candidates.map((id) => `${id}: ${breakerFor(id).lastFailureCategory ?? 'OTHER'}`).join(', ');
        throw new ModelChainError({
          category: 'CIRCUIT_OPEN',
          message: `Every model's circuit breaker is open (${why}): not sent`,
        });
      }
      throw new ModelChainError({
        category: lastFailure.category,
        message: `Every model failed (${candidates.join(', ')}): ${lastFailure.message}`,
      });
    }

    const attemptStream = async (
      modelId: string,
      breaker: CircuitBreaker,
      permit: Permit,
      options: LanguageModelV3CallOptions,
    ): Promise<AttemptOutcome<LanguageModelV3StreamResult>> => {
      const guard = createAttemptGuard(options.abortSignal, totalTimeoutMs, firstTokenTimeoutMs);
      const startedAt = now();
      let reader: ReadableStreamDefaultReader<LanguageModelV3StreamPart> | undefined;
      let exhausted = false;
      let firstTokenMs: number | undefined;
      // The permit covers the request until its stream ends, however it ends.
      const done = () => {
        awaitingResponse.delete(guard.signal);
        permit.release({ rateLimited: exhausted, ...(firstTokenMs === undefined ? {} : { latencyMs: firstTokenMs }) });
      };
      awaitingResponse.set(guard.signal, (status, remaining) => {
        awaitingResponse.delete(guard.signal);
        if (remaining === 0) exhausted = true;
        else if (status < 400) permit.accepted();
      });
      try {
        const result = await guard.race(providerModel(modelId).doStream({ ...options, abortSignal: guard.signal }));
        exhausted ||= remainingOf(result.response?.headers) === 0;
        if (!exhausted) permit.accepted();
        reader = result.stream.getReader();
        const buffered: LanguageModelV3StreamPart[] = [];
        let ended = false;
        for (;;) {
          const next = await guard.race(reader.read());
          if (next.done) {
            ended = true;
            break;
          }
          const part = next.value;
          if (part.type === 'error') throw part.error;
          if (isContentPart(part)) guard.firstTokenArrived();
          buffered.push(part);
          // Commit point: from the first visible text on, the user sees this model's words.
          if (part.type === 'text-delta' || part.type === 'finish') break;
        }
        servedBy = modelId;
        breaker.recordSuccess();
        firstTokenMs = now() - startedAt;
        record({ model: modelId, outcome: 'success', latencyMs: firstTokenMs });
        const committedReader = reader;
        const stream = new ReadableStream<LanguageModelV3StreamPart>({
          start(controller) {
            for (const part of buffered) controller.enqueue(part);
            if (ended) {
              guard.dispose();
              done();
              controller.close();
            }
          },
          async pull(controller) {
            try {
              const next = await guard.race(committedReader.read());
              if (next.done) {
                guard.dispose();
                done();
                controller.close();
                return;
              }
              if (next.value.type === 'error') throw next.value.error;
              controller.enqueue(next.value);
            } catch (error) {
              const callerAborted = guard.callerAborted();
              guard.dispose();
              done();
              committedReader.cancel().catch(() => {});
              if (callerAborted) {
                controller.error(error);
                return;
              }
              const failure = guard.timeout()
                ? classifyModelError(guard.timeout(), now)
                : classifyModelError(error, now);
              reportFailure(modelId, failure, now() - startedAt);
              if (failure.modelFault) breaker.recordFailure(failure.category, failure.retryAfterMs);
              controller.enqueue({
                type: 'error',
                error: new ModelChainError({
                  category: failure.category,
                  message: `${modelId} failed mid-answer: ${failure.message}`,
                  partial: true,
                  model: modelId,
                  cause: error,
                }),
              });
              controller.close();
            }
          },
          cancel(reason) {
            guard.dispose();
            done();
            return committedReader.cancel(reason);
          },
        });
        return { ok: true, value: { ...result, stream } };
      } catch (error) {
        const callerAborted = guard.callerAborted();
        const timeout = guard.timeout();
        guard.dispose();
        reader?.cancel().catch(() => {});
        const failure = classifyModelError(timeout ?? error, now);
        exhausted ||= failure.category === 'RATE_LIMIT';
        done();
        return {
          ok: false,
          error: callerAborted ? error : (timeout ?? error),
          callerAborted,
          failure,
        };
      }
    };

    const attemptGenerate = async (
      modelId: string,
      breaker: CircuitBreaker,
      permit: Permit,
      options: LanguageModelV3CallOptions,
    ): Promise<AttemptOutcome<LanguageModelV3GenerateResult>> => {
      // No stream, so no first token: only the total timeout applies.
      const guard = createAttemptGuard(options.abortSignal, totalTimeoutMs, undefined);
      const startedAt = now();
      try {
        const value = await guard.race(providerModel(modelId).doGenerate({ ...options, abortSignal: guard.signal }));
        servedBy = modelId;
        breaker.recordSuccess();
        const latencyMs = now() - startedAt;
        const exhausted = remainingOf(value.response?.headers) === 0;
        if (!exhausted) permit.accepted();
        permit.release({ rateLimited: exhausted });
        record({ model: modelId, outcome: 'success', latencyMs });
        return { ok: true, value };
      } catch (error) {
        const callerAborted = guard.callerAborted();
        const timeout = guard.timeout();
        const failure = classifyModelError(timeout ?? error, now);
        permit.release({ rateLimited: failure.category === 'RATE_LIMIT' });
        return {
          ok: false,
          error: callerAborted ? error : (timeout ?? error),
          callerAborted,
          failure,
        };
      } finally {
        guard.dispose();
      }
    };

    const first = candidates[0] ?? primary;
    const model: LanguageModelV3 = {
      specificationVersion: 'v3',
      provider: 'model-chain',
      modelId: first,
      get supportedUrls() {
        return providerModel(first).supportedUrls;
      },
      doStream: (options) =>
        runChain(options.abortSignal, (modelId, breaker, permit) => attemptStream(modelId, breaker, permit, options)),
      doGenerate: (options) =>
        runChain(options.abortSignal, (modelId, breaker, permit) => attemptGenerate(modelId, breaker, permit, options)),
    };

    return {
      model,
      get servedBy() {
        return servedBy;
      },
      attempts,
    };
  }

  return {
    models,
    call,
    breakerState: (modelId) => breakerFor(modelId).state(),
    responseStarted(signal, status, header) {
      if (signal === undefined) return;
      const remaining = Number.parseInt(header('x-ratelimit-remaining-requests') ?? '', 10);
      awaitingResponse.get(signal)?.(status, Number.isFinite(remaining) ? remaining : undefined);
    },
    concurrency() {
      const byModel: Record<string, LimiterReading> = {};
      let open = 0;
      for (const modelId of models) {
        byModel[modelId] = limiterFor(modelId).read();
        if (breakerFor(modelId).state() !== 'open') open += byModel[modelId].limit;
      }
      // Every breaker open: runs still start (and fail fast or wait for a probe), one model's worth.
      const admission = open > 0 ? open : (byModel[primary]?.limit ?? 1);
      return { limit: Math.min(maxConcurrency, admission), ceiling: maxConcurrency, byModel };
    },
  };
}

/** Stream parts that show the model is alive and producing (they cancel the first-token timer). */
function isContentPart(part: LanguageModelV3StreamPart): boolean {
  switch (part.type) {
    case 'text-delta':
    case 'reasoning-delta':
    case 'tool-input-start':
    case 'tool-input-delta':
    case 'tool-call':
    case 'finish':
      return true;
    default:
      return false;
  }
}

interface AttemptGuard {
  /** Aborted by the caller, the total timer or the first-token timer. */
  readonly signal: AbortSignal;
  /** Rejects as soon as the signal aborts, even if the provider ignores it. */
  race<T>(promise: PromiseLike<T>): Promise<T>;
  firstTokenArrived(): void;
  timeout(): ModelTimeoutError | undefined;
  callerAborted(): boolean;
  dispose(): void;
}

function createAttemptGuard(
  callerSignal: AbortSignal | undefined,
  totalTimeoutMs: number,
  firstTokenTimeoutMs: number | undefined,
): AttemptGuard {
  const controller = new AbortController();
  let timedOut: ModelTimeoutError | undefined;
  let byCaller = false;
  const fire = (error: ModelTimeoutError) => {
    if (controller.signal.aborted) return;
    timedOut = error;
    controller.abort(error);
  };
  const onCallerAbort = () => {
    if (controller.signal.aborted) return;
    byCaller = true;
    controller.abort(callerSignal?.reason);
  };
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
  const totalTimer = setTimeout(() => fire(new ModelTimeoutError('total', totalTimeoutMs)), totalTimeoutMs);
  let firstTokenTimer =
    firstTokenTimeoutMs === undefined
      ? undefined
      : setTimeout(() => fire(new ModelTimeoutError('first-token', firstTokenTimeoutMs)), firstTokenTimeoutMs);
  const aborted = new Promise<never>((_, reject) => {
    const rejectNow = () => reject(controller.signal.reason ?? new Error('aborted'));
    if (controller.signal.aborted) rejectNow();
    else controller.signal.addEventListener('abort', rejectNow, { once: true });
  });
  aborted.catch(() => {});

  return {
    signal: controller.signal,
    race: (promise) => Promise.race([Promise.resolve(promise), aborted]),
    firstTokenArrived() {
      if (firstTokenTimer !== undefined) clearTimeout(firstTokenTimer);
      firstTokenTimer = undefined;
    },
    timeout: () => timedOut,
    callerAborted: () => byCaller,
    dispose() {
      clearTimeout(totalTimer);
      if (firstTokenTimer !== undefined) clearTimeout(firstTokenTimer);
      firstTokenTimer = undefined;
      callerSignal?.removeEventListener('abort', onCallerAbort);
    },
  };
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw signal.reason instanceof Error ? signal.reason : abortError(signal.reason);
  }
}

function abortError(reason: unknown): Error {
  const error = new Error(`Aborted${reason === undefined ? '' : `: ${String(reason)}`}`);
  error.name = 'AbortError';
  return error;
}

/** `x-ratelimit-remaining-requests` of a response that started, when the provider sends it. */
function remainingOf(headers: Record<string, string | undefined> | undefined): number | undefined {
  const raw = headers?.['x-ratelimit-remaining-requests'];
  if (raw === undefined) return undefined;
  const value = Number.parseInt(raw, 10);
  return Number.isFinite(value) ? value : undefined;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values.filter((value) => value.length > 0))];
}
