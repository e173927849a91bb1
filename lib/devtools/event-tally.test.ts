import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICE_TABLE } from '../cost/price-table.js';
import type { BotEvent } from '../observe/bot-event.js';
import { createEventTally } from './event-tally.js';

const estimateCost = DEFAULT_PRICE_TABLE.estimate;

const call = (outcome: 'success' | 'error', errorCategory?: 'RATE_LIMIT'): BotEvent => ({
  type: 'agent.call',
  traceId: 't',
  agent: 'manager',
  model: 'gpt-4o-mini',
  latencyMs: 10,
  outcome,
  inputTokens: 1_000,
  outputTokens: 100,
  ...(errorCategory ? { errorCategory } : {}),
});

describe('createEventTally', () => {
  it('counts events by type, messages, cost, and errors split by agent call and error event', () => {
    const tally = createEventTally();
    const events: BotEvent[] = [
      { type: 'message.received', traceId: 't', chatId: 'oc', chatType: 'p2p', userId: 'ou', text: 'hi' },
      call('success'),
      call('error', 'RATE_LIMIT'),
      call('error'),
      { type: 'error', traceId: 't', category: 'NETWORK', message: 'reset', where: 'feishu' },
    ];
    for (const event of events) tally.add(event);
    const figures = tally.figures();
    expect(figures.byType).toEqual({ 'message.received': 1, 'agent.call': 3, error: 1 });
    expect(figures.messages).toBe(1);
    expect(figures.estimatedCostUsd).toBeCloseTo(3 * estimateCost('gpt-4o-mini', 1_000, 100).usd, 10);
    expect(figures.agentErrorsByCategory).toMatchObject({ RATE_LIMIT: 1, OTHER: 1, NETWORK: 0 });
    expect(figures.errorsByCategory).toMatchObject({ NETWORK: 1, RATE_LIMIT: 0, OTHER: 0 });
  });

  it('hands out copies', () => {
    const tally = createEventTally();
    tally.add({ type: 'error', category: 'AUTH', message: 'x', where: 'y' });
    const figures = tally.figures();
    figures.errorsByCategory.AUTH = 99;
    figures.byType.error = 99;
    expect(tally.figures().errorsByCategory.AUTH).toBe(1);
    expect(tally.figures().byType.error).toBe(1);
  });

  it('keeps at most 128 event types', () => {
    const tally = createEventTally();
    for (let index = 0; index < 200; index++) {
      tally.add({ type: `invented.${index}` } as unknown as BotEvent);
    }
    tally.add({ type: 'invented.0' } as unknown as BotEvent);
    const byType = tally.figures().byType;
    expect(Object.keys(byType)).toHaveLength(128);
    expect(byType['invented.0']).toBe(2);
  });
});
