import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { createTracePersistence } from './trace-persistence.js';
import { emptySummary, type Trace } from './trace-reducer.js';

const opened: Store[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close().catch(() => {});
});

async function sqlite(): Promise<Store> {
  const store = await openStore('sqlite::memory:');
  opened.push(store);
  return store;
}

function trace(id: string, status: Trace['status'] = 'done'): Trace {
  return {
    ...emptySummary(id, 1_000),
    status,
    events: [{ type: 'message.ignored', traceId: id, reason: 'x', at: 1_000, seq: 1 }],
    sent: { text: `answer of ${id}`, cards: [{ index: 0, cardId: `card_${id}`, text: 'first card' }] },
  };
}

describe('createTracePersistence (real SQLite store)', () => {
  it('writes queued traces one at a time, once per id while it waits for its turn', async () => {
    const store = await sqlite();
    const writes: string[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    const counting: Pick<Store, 'putRecord' | 'listRecords' | 'getRecord'> = {
      async putRecord(collection, id, value, maxRecords) {
        writes.push(id);
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        try {
          await store.putRecord(collection, id, value, maxRecords);
        } finally {
          inFlight--;
        }
      },
      getRecord: (collection, id) => store.getRecord(collection, id),
      listRecords: (collection, limit) => store.listRecords(collection, limit),
    };
    const held = new Map(['a', 'b', 'c'].map((id) => [id, trace(id)]));
    const persistence = createTracePersistence({ store: counting, current: (id) => held.get(id) });
    for (const id of ['a', 'b', 'a', 'c', 'b', 'a']) persistence.markDirty(id);
    await persistence.flush();
    // 'a' is being written when it is marked again (it may have changed), so it is written again;
    // the marks of b and the later ones of a while they wait cost one write each.
    expect(writes).toEqual(['a', 'b', 'a', 'c']);
    expect(mostInFlight).toBe(1);
    expect((await persistence.read('b'))?.status).toBe('done');
  });

  it('skips a trace that is no longer held when its turn comes', async () => {
    const store = await sqlite();
    const persistence = createTracePersistence({ store, current: () => undefined });
    persistence.markDirty('gone');
    await persistence.flush();
    expect(await persistence.read('gone')).toBeNull();
  });

  it('keeps the newest `retention` traces and lists them newest first', async () => {
    const store = await sqlite();
    const persistence = createTracePersistence({ store, retention: 2, current: (id) => trace(id) });
    for (const id of ['old', 'middle', 'new']) {
      persistence.markDirty(id);
      await persistence.flush();
    }
    expect((await persistence.recent(10)).map((each) => each.id)).toEqual(['new', 'middle']);
  });

  it('ignores records that are not a trace of this version', async () => {
    const store = await sqlite();
    await store.putRecord('trace', 'future', { version: 2, trace: trace('future') }, 10);
    await store.putRecord('trace', 'odd', { version: 1, trace: { ...trace('odd'), status: 'weird' } }, 10);
    await store.putRecord('trace', 'ok', { version: 1, trace: trace('ok', 'dead') }, 10);
    const persistence = createTracePersistence({ store, current: () => undefined });
    expect(await persistence.read('future')).toBeNull();
    expect(await persistence.read('odd')).toBeNull();
    expect(await persistence.read('missing')).toBeNull();
    expect((await persistence.recent(10)).map((each) => [each.id, each.status])).toEqual([['ok', 'dead']]);
  });

  it('keeps what the bot sent, and reads a trace stored before that was kept as having sent nothing yet', async () => {
    const store = await sqlite();
    const persistence = createTracePersistence({ store, current: (id) => trace(id) });
    persistence.markDirty('new');
    await persistence.flush();
    expect((await persistence.read('new'))?.sent).toEqual(trace('new').sent);
    const { sent: _dropped, ...older } = trace('older');
    await store.putRecord('trace', 'older', { version: 1, trace: older }, 10);
    await store.putRecord('trace', 'odd-card', { version: 1, trace: { ...older, sent: { text: 7, cards: [{}] } } }, 10);
    expect((await persistence.read('older'))?.sent).toEqual({ text: null, cards: [] });
    expect((await persistence.read('odd-card'))?.sent).toEqual({ text: null, cards: [] });
  });

  it('reports a failing store and never throws', async () => {
    const store = await sqlite();
    await store.close();
    const failures: string[] = [];
    const persistence = createTracePersistence({
      store,
      current: (id) => trace(id),
      onError: (_error, where) => failures.push(where),
    });
    persistence.markDirty('a');
    await persistence.flush();
    expect(await persistence.read('a')).toBeNull();
    expect(await persistence.recent(5)).toEqual([]);
    expect(failures).toEqual(['persist trace', 'read trace', 'load traces']);
  });
});
