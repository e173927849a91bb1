import { describe, expect, it } from 'vitest';
import type { StampedBotEvent } from '../observe/bot-event.js';
import { createEventBus } from '../observe/event-bus.js';
import { createPriceTable } from './price-table.js';
import type { SpendLedger, SpendSubject } from './spend-ledger.js';
import { attachUsageAccounting } from './usage-accounting.js';

function recordingLedger() {
  const added: Array<{ subject: SpendSubject; micros: number }> = [];
  const ledger: SpendLedger = {
    timeZone: 'UTC',
    async record(subject, micros) {
      added.push({ subject, micros });
    },
    async spentToday() {
      return { chatMicros: 0, userMicros: 0, day: '2026-12-07', resetsAt: 0 };
    },
  };
  return { ledger, added };
}

describe('usage accounting', () => {
  const prices = createPriceTable({ 'gpt-test': { inputPerMillion: 2.5, outputPerMillion: 10 } });
  const call = (traceId: string, model: string, inputTokens: number, outputTokens: number) =>
    ({
      type: 'agent.call',
      traceId,
      agent: 'manager',
      model,
      latencyMs: 5,
      outcome: 'success',
      inputTokens,
      outputTokens,
    }) as const;

  it('attributes each model call to the asker of its trace, priced, and adds it to the ledger', () => {
    const bus = createEventBus();
    const { ledger, added } = recordingLedger();
    const seen: StampedBotEvent[] = [];
    bus.subscribe((event) => seen.push(event));
    attachUsageAccounting({ bus, prices, ledger, appId: 'alpha' });

    bus.emit({
      type: 'message.received',
      traceId: 't1',
      chatId: 'oc_1',
      chatType: 'group',
      userId: 'ou_1',
      text: 'hi',
    });
    bus.emit(call('t1', 'gpt-test', 1_000, 100));
    bus.emit(call('t1', 'llama3', 50, 5));

    const usage = seen.filter((event) => event.type === 'usage.recorded');
    expect(usage).toEqual([
      expect.objectContaining({
        app: 'alpha',
        chatId: 'oc_1',
        userId: 'ou_1',
        model: 'gpt-test',
        costUsd: 0.0035,
        priced: true,
      }),
      expect.objectContaining({ model: 'llama3', costUsd: 0, priced: false }),
    ]);
    // The unpriced call adds nothing: a budget never counts a guess.
    expect(added).toEqual([{ subject: { chatId: 'oc_1', userId: 'ou_1', model: 'gpt-test' }, micros: 3_500 }]);
  });

  it('reports calls of unknown traces without an asker, forgets finished traces, and stays bounded', () => {
    const bus = createEventBus();
    const { ledger, added } = recordingLedger();
    const seen: StampedBotEvent[] = [];
    bus.subscribe((event) => seen.push(event));
    attachUsageAccounting({ bus, prices, ledger, maxTraces: 2 });

    for (const id of ['a', 'b', 'c']) {
      bus.emit({ type: 'message.received', traceId: id, chatId: `oc_${id}`, chatType: 'p2p', userId: 'ou', text: '' });
    }
    bus.emit({ type: 'job.finished', traceId: 'c', jobId: 'c', outcome: 'done', durationMs: 1 });
    for (const id of ['a', 'b', 'c']) bus.emit(call(id, 'gpt-test', 1_000, 0));

    expect(added.map((entry) => entry.subject.chatId)).toEqual(['oc_b']);
    const usage = seen.filter((event) => event.type === 'usage.recorded');
    expect(usage).toHaveLength(3);
    expect(usage[0]).not.toHaveProperty('chatId');
  });
});
