import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ModelPrice } from './price-table.js';

const priceSchema = z.strictObject({
  inputPerMillion: z.number().finite().min(0),
  outputPerMillion: z.number().finite().min(0),
});
const priceFileSchema = z.record(z.string().min(1), priceSchema);

/** The price file is missing, not JSON, or not `{ "<model>": { inputPerMillion, outputPerMillion } }`. */
export class PriceFileError extends Error {
  readonly code = 'PRICE_FILE_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PriceFileError';
  }

  static isInstance(error: unknown): error is PriceFileError {
    return error instanceof Error && (error as { code?: unknown }).code === 'PRICE_FILE_INVALID';
  }
}

/**
 * Reads MODEL_PRICES_FILE: a JSON object from model id (or family prefix) to USD per million
 * input and output tokens. Unknown fields and negative prices are refused, so a typo
 * (`"outputPerMilion"`) fails the start instead of pricing a model at zero.
 *
 * @example
 * // prices.json: { "gpt-4o-mini": { "inputPerMillion": 0.12, "outputPerMillion": 0.5 } }
 * const prices = createPriceTable(readPriceFile('prices.json'));
 */
export function readPriceFile(path: string): Record<string, ModelPrice> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new PriceFileError(
      `MODEL_PRICES_FILE ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      {
        cause: error,
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PriceFileError(`MODEL_PRICES_FILE ${path} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = priceFileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`);
    throw new PriceFileError(`MODEL_PRICES_FILE ${path} is invalid: ${problems.join('; ')}`);
  }
  return parsed.data;
}
