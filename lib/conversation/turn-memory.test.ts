import { describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import type { HistoryMessage } from '../store/store.js';
import type { NormalisedMessage } from './inbound-message.js';
import { createTurnMemory } from './turn-memory.js';

const message: NormalisedMessage = {
  kind: 'message',
  messageId: 'om_1',
  chatId: 'oc_1',
  chatType: 'p2p',
  sender: { openId: 'ou_alice', type: 'user' },
  text: 'what time is it?',
  parts: [],
  mentions: [],
  mentionsBot: false,
  createTime: 1_000,
  messageType: 'text',
};

function recordingMemory({ fail = false } = {}) {
  const appended: Array<{ key: string; turns: HistoryMessage[] }> = [];
  return {
    appended,
    async append(key: string, turns: HistoryMessage[]) {
      if (fail) throw new Error('store down');
      appended.push({ key, turns });
    },
  };
}

describe('createTurnMemory', () => {
  it('stores the question with its author and message id, then the answer', async () => {
    const memory = recordingMemory();
    const turns = createTurnMemory({ memory, log: silentLogger(), now: () => 5_000 });
    await turns.remember('p2p:oc_1', message, 'Alice', 'noon', 'trace-1');
    expect(memory.appended).toEqual([
      {
        key: 'p2p:oc_1',
        turns: [
          { role: 'user', content: 'what time is it?', at: 1_000, author: 'Alice', messageId: 'om_1' },
          { role: 'assistant', content: 'noon', at: 5_000 },
        ],
      },
    ]);
  });

  it('keeps only the question when the answer said nothing, authored by the open_id without a name', async () => {
    const memory = recordingMemory();
    const turns = createTurnMemory({ memory, log: silentLogger(), now: () => 5_000 });
    await turns.remember('k', message, undefined, '  ', 'trace-1', 'what time is it? [file: a.pdf]');
    expect(memory.appended[0]?.turns).toEqual([
      { role: 'user', content: 'what time is it? [file: a.pdf]', at: 1_000, author: 'ou_alice', messageId: 'om_1' },
    ]);
  });

  it('stores a continuation answer alone and skips an empty one', async () => {
    const memory = recordingMemory();
    const turns = createTurnMemory({ memory, log: silentLogger(), now: () => 7_000 });
    await turns.rememberAnswer('k', '', 'trace-1');
    await turns.rememberAnswer('k', '(the person approved send) done', 'trace-1');
    expect(memory.appended).toEqual([
      { key: 'k', turns: [{ role: 'assistant', content: '(the person approved send) done', at: 7_000 }] },
    ]);
  });

  it('does not throw when the store fails: the reply is already out', async () => {
    const turns = createTurnMemory({ memory: recordingMemory({ fail: true }), log: silentLogger() });
    await expect(turns.remember('k', message, 'Alice', 'noon', 'trace-1')).resolves.toBeUndefined();
    await expect(turns.rememberAnswer('k', 'noon', 'trace-1')).resolves.toBeUndefined();
  });
});
