import { DEFAULT_PRICE_TABLE, type PriceTable } from '../cost/price-table.js';
import type { BotEvent } from '../observe/bot-event.js';
import { ERROR_CATEGORIES, type ErrorCategory } from '../observe/error-category.js';

/** Since-start figures devtools shows that no Prometheus series holds. */
export interface EventTallyFigures {
  byType: Record<string, number>;
  messages: number;
  /** From the configured price table (lib/cost): `/metrics` counts tokens by agent, the price depends on the model. */
  estimatedCostUsd: number;
  /** Failed agent calls by category (uncategorised as OTHER); `/metrics` mixes these with `error` events. */
  agentErrorsByCategory: Record<ErrorCategory, number>;
  /** `error` events (any step, not only model calls) by category. */
  errorsByCategory: Record<ErrorCategory, number>;
}

export interface EventTally {
  add(event: BotEvent): void;
  /** A copy of the figures so far. */
  figures(): EventTallyFigures;
}

/** Event types are a closed union; bound the map anyway against a producer inventing types. */
const MAX_TYPES = 128;

/**
 * Counts what only devtools shows: events by type, messages received, the estimated cost, and
 * errors by category split into failed agent calls and `error` events. Everything the
 * Prometheus registry already counts (calls, tokens, latency, tool calls) is read from there
 * (`readMetricTotals`), not counted here.
 *
 * @example
 * const tally = createEventTally();
 * bus.subscribe((event) => tally.add(event));
 * tally.figures().estimatedCostUsd;
 */
export function createEventTally(prices: PriceTable = DEFAULT_PRICE_TABLE): EventTally {
  const byType = new Map<string, number>();
  let messages = 0;
  let estimatedCostUsd = 0;
  const agentErrorsByCategory = zeroCategories();
  const errorsByCategory = zeroCategories();

  return {
    add(event) {
      const seen = byType.get(event.type);
      if (seen !== undefined) byType.set(event.type, seen + 1);
      else if (byType.size < MAX_TYPES) byType.set(event.type, 1);
      switch (event.type) {
        case 'message.received':
          messages++;
          break;
        case 'agent.call':
          estimatedCostUsd += prices.estimate(event.model, event.inputTokens, event.outputTokens).usd;
          if (event.outcome === 'error') agentErrorsByCategory[event.errorCategory ?? 'OTHER']++;
          break;
        case 'error':
          errorsByCategory[event.category]++;
          break;
      }
    },
    figures() {
      return {
        byType: Object.fromEntries(byType),
        messages,
        estimatedCostUsd,
        agentErrorsByCategory: { ...agentErrorsByCategory },
        errorsByCategory: { ...errorsByCategory },
      };
    },
  };
}

function zeroCategories(): Record<ErrorCategory, number> {
  const result = {} as Record<ErrorCategory, number>;
  for (const category of ERROR_CATEGORIES) result[category] = 0;
  return result;
}
