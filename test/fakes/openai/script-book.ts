import {
  defaultEchoResponder,
  type FakeErrorSpec,
  type FakeStep,
  type FakeStepFunction,
  type FakeUsage,
} from './steps.js';

/**
 * Per model: whether it exists, the steps queued for it, the fault storm failing it and its
 * rate-limit figures. Every endpoint that takes a `model` consults the same book, so
 * `fake.script`, `fake.alwaysFail` and `fake.setRateLimit` work for all of them.
 *
 * @example
 * const book = createScriptBook({ models: ['gpt-test'] });
 * book.script('gpt-test', { text: 'hi' });
 * book.activeFault('gpt-test') ?? book.nextStep('gpt-test'); // { text: 'hi' }
 */

/** The model key that stands for every model. */
export const ANY_MODEL = '*';

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

const DEFAULT_RATE_LIMIT: FakeRateLimit = {
  limitRequests: 10_000,
  limitTokens: 2_000_000,
  remainingRequests: 10_000,
  remainingTokens: 2_000_000,
  resetRequests: '6ms',
  resetTokens: '0s',
};

export interface ScriptBook {
  hasModel(model: string): boolean;
  addModel(...models: string[]): void;
  models(): string[];
  script(model: string, ...steps: FakeStep[]): void;
  pending(model: string): number;
  /** The model's next queued step, else the next shared (`'*'`) one. */
  nextStep(model: string): FakeStep | undefined;
  alwaysFail(model: string, error: FakeErrorSpec, options?: FakeFaultOptions): void;
  clearFaults(model?: string): void;
  /** The error a storm answers for this model now (counted as used), if any. */
  activeFault(model: string): FakeErrorSpec | undefined;
  readonly defaultResponder: FakeStepFunction;
  setDefaultResponder(responder: FakeStepFunction | undefined): void;
  setRateLimit(model: string, rateLimit: Partial<FakeRateLimit>): void;
  /** `x-ratelimit-*` headers with the model's current figures. */
  rateLimitHeaders(model: string): Record<string, string>;
  /** One answered request and its tokens come off the model's remaining figures. */
  consumeQuota(model: string, usage: FakeUsage): void;
  /** Forgets scripts, faults, rate limits and the replaced default responder; keeps the models. */
  reset(): void;
}

interface Fault {
  error: FakeErrorSpec;
  until: number | undefined;
  remaining: number | undefined;
}

export function createScriptBook({
  models: initialModels,
  rateLimit,
  defaultResponder: initialResponder,
}: {
  models: readonly string[];
  rateLimit?: Partial<FakeRateLimit>;
  defaultResponder?: FakeStepFunction;
}): ScriptBook {
  const models = new Set(initialModels);
  const queues = new Map<string, FakeStep[]>();
  const faults = new Map<string, Fault>();
  const rateLimits = new Map<string, FakeRateLimit>();
  const baseRateLimit: FakeRateLimit = { ...DEFAULT_RATE_LIMIT, ...rateLimit };
  let defaultResponder: FakeStepFunction = initialResponder ?? defaultEchoResponder;

  const rateLimitFor = (model: string): FakeRateLimit => {
    let figures = rateLimits.get(model);
    if (figures === undefined) {
      figures = { ...(rateLimits.get(ANY_MODEL) ?? baseRateLimit) };
      rateLimits.set(model, figures);
    }
    return figures;
  };

  return {
    hasModel: (model) => models.has(model),
    addModel(...ids) {
      for (const id of ids) models.add(id);
    },
    models: () => [...models],
    script(model, ...steps) {
      if (model !== ANY_MODEL) models.add(model);
      const queue = queues.get(model) ?? [];
      queue.push(...steps);
      queues.set(model, queue);
    },
    pending: (model) => queues.get(model)?.length ?? 0,
    nextStep(model) {
      const own = queues.get(model);
      if (own !== undefined && own.length > 0) return own.shift();
      const shared = queues.get(ANY_MODEL);
      if (shared !== undefined && shared.length > 0) return shared.shift();
      return undefined;
    },
    alwaysFail(model, error, faultOptions = {}) {
      if (model !== ANY_MODEL) models.add(model);
      const until = faultOptions.until instanceof Date ? faultOptions.until.getTime() : faultOptions.until;
      faults.set(model, { error, until, remaining: faultOptions.times });
    },
    clearFaults(model) {
      if (model === undefined) faults.clear();
      else faults.delete(model);
    },
    activeFault(model) {
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
    },
    get defaultResponder() {
      return defaultResponder;
    },
    setDefaultResponder(responder) {
      defaultResponder = responder ?? defaultEchoResponder;
    },
    setRateLimit(model, figures) {
      if (model === ANY_MODEL) {
        rateLimits.clear();
        rateLimits.set(ANY_MODEL, { ...baseRateLimit, ...figures });
        return;
      }
      rateLimits.set(model, { ...rateLimitFor(model), ...figures });
    },
    rateLimitHeaders(model) {
      const figures = rateLimitFor(model);
      return {
        'x-ratelimit-limit-requests': String(figures.limitRequests),
        'x-ratelimit-limit-tokens': String(figures.limitTokens),
        'x-ratelimit-remaining-requests': String(figures.remainingRequests),
        'x-ratelimit-remaining-tokens': String(figures.remainingTokens),
        'x-ratelimit-reset-requests': figures.resetRequests,
        'x-ratelimit-reset-tokens': figures.resetTokens,
      };
    },
    consumeQuota(model, usage) {
      const figures = rateLimitFor(model);
      figures.remainingRequests = Math.max(0, figures.remainingRequests - 1);
      figures.remainingTokens = Math.max(0, figures.remainingTokens - usage.prompt_tokens - usage.completion_tokens);
    },
    reset() {
      queues.clear();
      faults.clear();
      rateLimits.clear();
      defaultResponder = initialResponder ?? defaultEchoResponder;
    },
  };
}
