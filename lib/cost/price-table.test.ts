import { describe, expect, it } from 'vitest';
import { createPriceTable, DEFAULT_PRICE_TABLE } from './price-table.js';

describe('price table', () => {
  it('prices a call in dollars and exact micros, dated snapshots and provider prefixes like their family', () => {
    expect(DEFAULT_PRICE_TABLE.estimate('gpt-4o-mini', 1_000, 500)).toEqual({ usd: 0.00045, micros: 450, known: true });
    expect(DEFAULT_PRICE_TABLE.estimate('openai/gpt-4o-mini-2024-07-18', 1_000, 500).micros).toBe(450);
    // The longest key wins: gpt-4o-mini is not priced as gpt-4o.
    expect(DEFAULT_PRICE_TABLE.find('gpt-4o-mini-2024')).toEqual({ inputPerMillion: 0.15, outputPerMillion: 0.6 });
  });

  it('says an unknown model is unpriced instead of guessing, and never counts negative tokens', () => {
    expect(DEFAULT_PRICE_TABLE.estimate('llama3:8b', 1_000, 500)).toEqual({ usd: 0, micros: 0, known: false });
    expect(DEFAULT_PRICE_TABLE.estimate('gpt-4o', -5, 0)).toEqual({ usd: 0, micros: 0, known: true });
  });

  it('lets operator prices replace list prices and add models, case-insensitively', () => {
    const prices = createPriceTable({
      'GPT-4o-mini': { inputPerMillion: 0.1, outputPerMillion: 0.4 },
      'company-proxy-model': { inputPerMillion: 1, outputPerMillion: 2 },
    });
    expect(prices.estimate('gpt-4o-mini', 1_000_000, 1_000_000).usd).toBe(0.5);
    expect(prices.estimate('company-proxy-model-v2', 1_000, 1_000)).toEqual({ usd: 0.003, micros: 3_000, known: true });
    expect(prices.estimate('gpt-4o', 1_000_000, 0).usd).toBe(2.5);
  });
});
