/**
 * A rough cost estimate for devtools, not billing. Prices are USD per million tokens, list
 * prices as published by the providers in 2025; they change, and an OpenAI-compatible endpoint
 * (Ollama, vLLM, a company proxy) may charge nothing or something else entirely. That is why it
 * lives in code rather than config: it only ranks traces by expense, it is never an invoice.
 *
 * A model id matches the longest table key it starts with, after dropping a `provider/` prefix,
 * so dated snapshots (`gpt-4o-mini-2024-07-18`) price like their family. A model that matches
 * nothing is priced at zero and reported as unpriced, so the UI can say "cost unknown" instead
 * of showing a made-up number.
 */
export interface ModelPrice {
  /** USD per million input (prompt) tokens. */
  inputPerMillion: number;
  /** USD per million output (completion) tokens. */
  outputPerMillion: number;
}

export const MODEL_PRICES: Readonly<Record<string, ModelPrice>> = {
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

/** What an unknown model costs in the estimate: nothing, flagged as unpriced. */
export const UNKNOWN_MODEL_PRICE: ModelPrice = { inputPerMillion: 0, outputPerMillion: 0 };

const keysLongestFirst = Object.keys(MODEL_PRICES).sort((a, b) => b.length - a.length);

/** The price entry for a model id, or undefined when the table does not know it. */
export function findModelPrice(model: string): ModelPrice | undefined {
  const name = model.toLowerCase().replace(/^[^/]+\//, '');
  const exact = MODEL_PRICES[name];
  if (exact) return exact;
  const key = keysLongestFirst.find((candidate) => name.startsWith(`${candidate}-`) || name === candidate);
  return key === undefined ? undefined : MODEL_PRICES[key];
}

/**
 * Estimated USD for one model call.
 *
 * @example
 * estimateCost('gpt-4o-mini', 1000, 500); // { usd: 0.00045, known: true }
 * estimateCost('llama3:8b', 1000, 500);   // { usd: 0, known: false }
 */
export function estimateCost(
  model: string,
  inputTokens: number,
  outputTokens: number,
): { usd: number; known: boolean } {
  const price = findModelPrice(model);
  const { inputPerMillion, outputPerMillion } = price ?? UNKNOWN_MODEL_PRICE;
  const usd = (Math.max(0, inputTokens) * inputPerMillion + Math.max(0, outputTokens) * outputPerMillion) / 1_000_000;
  return { usd, known: price !== undefined };
}
