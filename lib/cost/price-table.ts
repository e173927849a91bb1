/**
 * What model calls cost, for the per-chat, per-user and per-model spend and the daily budgets.
 * Prices are USD per million tokens. The built-in table holds providers' published list prices
 * (2025); operators replace or extend it with their negotiated prices in `MODEL_PRICES_FILE`,
 * and an OpenAI-compatible endpoint (Ollama, vLLM, a company proxy) may charge nothing at all.
 *
 * A model id matches the longest table key it starts with, after dropping a `provider/` prefix,
 * so dated snapshots (`gpt-4o-mini-2024-07-18`) price like their family. A model that matches
 * nothing is priced at zero and reported as unpriced, so the UI can say "cost unknown" instead
 * of showing a made-up number (and a budget never counts guesses).
 */
export interface ModelPrice {
  /** USD per million input (prompt) tokens. */
  inputPerMillion: number;
  /** USD per million output (completion) tokens. */
  outputPerMillion: number;
}

export const DEFAULT_MODEL_PRICES: Readonly<Record<string, ModelPrice>> = {
  'gpt-5': { inputPerMillion: 1.25, outputPerMillion: 10 },
  'gpt-5-mini': { inputPerMillion: 0.25, outputPerMillion: 2 },
  'gpt-5-nano': { inputPerMillion: 0.05, outputPerMillion: 0.4 },
  'gpt-4.1': { inputPerMillion: 2, outputPerMillion: 8 },
  'gpt-4.1-mini': { inputPerMillion: 0.4, outputPerMillion: 1.6 },
  'gpt-4.1-nano': { inputPerMillion: 0.1, outputPerMillion: 0.4 },
  'gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10 },
  'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  'o4-mini': { inputPerMillion: 1.1, outputPerMillion: 4.4 },
  'o3-mini': { inputPerMillion: 1.1, outputPerMillion: 4.4 },
  'deepseek-chat': { inputPerMillion: 0.27, outputPerMillion: 1.1 },
  'deepseek-reasoner': { inputPerMillion: 0.55, outputPerMillion: 2.19 },
  'qwen-max': { inputPerMillion: 1.6, outputPerMillion: 6.4 },
  'qwen-plus': { inputPerMillion: 0.4, outputPerMillion: 1.2 },
  'qwen-turbo': { inputPerMillion: 0.05, outputPerMillion: 0.2 },
};

/** One call's estimate. */
export interface CostEstimate {
  usd: number;
  /**
   * The same amount in millionths of a dollar, rounded once per call: the unit totals and budgets
   * add up in, so sums stay exact integers (cents are 10 000 micros).
   */
  micros: number;
  /** False when the table does not know the model (then both amounts are 0). */
  known: boolean;
}

export interface PriceTable {
  /** The price entry for a model id, or undefined when the table does not know it. */
  find(model: string): ModelPrice | undefined;
  /**
   * Estimated cost of one model call.
   *
   * @example
   * prices.estimate('gpt-4o-mini', 1000, 500); // { usd: 0.00045, micros: 450, known: true }
   * prices.estimate('llama3:8b', 1000, 500);   // { usd: 0, micros: 0, known: false }
   */
  estimate(model: string, inputTokens: number, outputTokens: number): CostEstimate;
}

/**
 * A price table: the built-in prices with `overrides` on top (an override replaces the built-in
 * entry of the same key; new keys add models).
 *
 * @example
 * const prices = createPriceTable(readPriceFile('/etc/bot/prices.json'));
 */
export function createPriceTable(overrides: Readonly<Record<string, ModelPrice>> = {}): PriceTable {
  const table = new Map<string, ModelPrice>();
  for (const [key, price] of Object.entries({ ...DEFAULT_MODEL_PRICES, ...overrides })) {
    table.set(key.toLowerCase(), price);
  }
  const keysLongestFirst = [...table.keys()].sort((a, b) => b.length - a.length);

  function find(model: string): ModelPrice | undefined {
    const name = model.toLowerCase().replace(/^[^/]+\//, '');
    const exact = table.get(name);
    if (exact) return exact;
    const key = keysLongestFirst.find((candidate) => name.startsWith(`${candidate}-`));
    return key === undefined ? undefined : table.get(key);
  }

  return {
    find,
    estimate(model, inputTokens, outputTokens) {
      const price = find(model);
      if (price === undefined) return { usd: 0, micros: 0, known: false };
      // USD per million tokens × tokens = millionths of a dollar, exactly.
      const exactMicros =
        Math.max(0, inputTokens) * price.inputPerMillion + Math.max(0, outputTokens) * price.outputPerMillion;
      return { usd: exactMicros / 1_000_000, micros: Math.round(exactMicros), known: true };
    },
  };
}

/** The built-in table, for callers that were not given one (tests, devtools defaults). */
export const DEFAULT_PRICE_TABLE: PriceTable = createPriceTable();
