import { appOfKey } from '../inbox/app-scope.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import type { PriceTable } from './price-table.js';
import type { SpendLedger, SpendSubject } from './spend-ledger.js';

export interface UsageAccountingOptions {
  bus: EventBus;
  prices: PriceTable;
  /** Where today's spend per chat and user is added up (for the daily budgets). */
  ledger?: SpendLedger | undefined;
  /** Per app instead (several apps in one process): each app's spend is its own. */
  ledgerFor?: ((app: string) => SpendLedger | undefined) | undefined;
  /** The app label of usage events whose trace names no app (the default app's jobs, the playground). */
  appId?: string;
  log?: Logger;
  /** Traces whose asker is remembered until their job finishes; the oldest is forgotten first. */
  maxTraces?: number;
}

/**
 * Turns each model call (`agent.call`) into a `usage.recorded` event naming the chat, the person
 * and the app it was spent for, priced by the configured table, and adds the cost to today's
 * spend in the ledger. The asker comes from the trace's `message.received`, so no step of the
 * answer has to carry chat and user ids just for accounting.
 *
 * @example
 * const stop = attachUsageAccounting({ bus, prices, ledger, appId: 'default', log });
 */
export function attachUsageAccounting({
  bus,
  prices,
  ledger,
  ledgerFor,
  appId = 'default',
  log,
  maxTraces = 10_000,
}: UsageAccountingOptions): () => void {
  const askers = new Map<string, SpendSubject>();

  return bus.subscribe((event) => {
    switch (event.type) {
      case 'message.received': {
        askers.delete(event.traceId);
        askers.set(event.traceId, { chatId: event.chatId, userId: event.userId });
        if (askers.size > maxTraces) {
          const oldest = askers.keys().next().value;
          if (oldest !== undefined) askers.delete(oldest);
        }
        break;
      }
      case 'job.finished':
        if (event.outcome !== 'retry') askers.delete(event.traceId);
        break;
      case 'agent.call': {
        if (event.inputTokens + event.outputTokens === 0) break;
        const asker = askers.get(event.traceId);
        const cost = prices.estimate(event.model, event.inputTokens, event.outputTokens);
        // Jobs of the other apps carry their app in the id (several apps in one process).
        const app = event.traceId.startsWith('app:') ? appOfKey(event.traceId) : appId;
        const appLedger = ledgerFor?.(app) ?? ledger;
        bus.emit({
          type: 'usage.recorded',
          traceId: event.traceId,
          app,
          agent: event.agent,
          model: event.model,
          ...(asker === undefined ? {} : { chatId: asker.chatId, userId: asker.userId }),
          inputTokens: event.inputTokens,
          outputTokens: event.outputTokens,
          costUsd: cost.usd,
          priced: cost.known,
        });
        if (appLedger !== undefined && asker !== undefined && cost.micros > 0) {
          appLedger.record({ ...asker, model: event.model }, cost.micros, event.at).catch((error: unknown) => {
            // The answer is sent; a lost addition only makes a budget a little generous.
            log?.warn({ traceId: event.traceId, err: error }, 'could not add to the spend ledger');
          });
        }
        break;
      }
      default:
        break;
    }
  });
}
