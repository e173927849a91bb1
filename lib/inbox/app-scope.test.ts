import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inboundMessage } from '../../test/support/ingress-events.js';
import { silentLogger } from '../log.js';
import { createEventBus } from '../observe/event-bus.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { appIdField, appScoped, DEFAULT_APP_ID } from './app-scope.js';
import { conversationKey } from './conversation-key.js';
import { createInbox } from './inbox.js';

describe('appScoped', () => {
  it('leaves the default app’s keys as a single-app deployment stored them, and prefixes the others', () => {
    expect(appScoped(undefined, 'chat:oc_1')).toBe('chat:oc_1');
    expect(appScoped(DEFAULT_APP_ID, 'chat:oc_1')).toBe('chat:oc_1');
    expect(appScoped('alpha', 'chat:oc_1')).toBe('app:alpha:chat:oc_1');
    expect(conversationKey({ appId: 'alpha', chatId: 'oc_1', threadId: 'omt_1' })).toBe(
      'app:alpha:chat:oc_1:thread:omt_1',
    );
    expect(conversationKey({ chatId: 'oc_1', rootId: 'om_root' })).toBe('chat:oc_1:thread:om_root');
  });
});

describe('appIdField', () => {
  it('names no app for the default one, so its records stay as they were stored, and names every other', () => {
    expect(appIdField(undefined)).toEqual({});
    expect(appIdField(DEFAULT_APP_ID)).toEqual({});
    expect(appIdField('beta')).toEqual({ appId: 'beta' });
  });
});

describe('inbox with several apps', () => {
  let store: Store;
  beforeEach(() => {
    store = openSqliteStore(':memory:');
  });
  afterEach(async () => {
    await store.close();
  });
  const inbox = () =>
    createInbox({ store, bus: createEventBus(), log: silentLogger(), dedupeTtlMs: 86_400_000, maxBacklog: 100 });

  it('admits one group message once per app that received it, each in its own job and lane', async () => {
    const receiver = inbox();
    const message = { messageId: 'om_1', chatId: 'oc_group' };
    const results = [
      await receiver.accept({ ...inboundMessage({ eventId: 'ev_a', ...message }), appId: 'alpha' }),
      await receiver.accept({ ...inboundMessage({ eventId: 'ev_b', ...message }), appId: 'beta' }),
      await receiver.accept(inboundMessage({ eventId: 'ev_d', ...message })),
    ];
    expect(results).toEqual([
      { status: 'accepted', jobId: 'app:alpha:message:om_1' },
      { status: 'accepted', jobId: 'app:beta:message:om_1' },
      // The FEISHU_APP_ID app keeps the ids it had before there were several apps.
      { status: 'accepted', jobId: 'message:om_1' },
    ]);
    expect((await store.getJob('app:alpha:message:om_1'))?.lane).toBe('app:alpha:chat:oc_group');
    expect((await store.getJob('app:beta:message:om_1'))?.lane).toBe('app:beta:chat:oc_group');
    expect((await store.getJob('message:om_1'))?.lane).toBe('chat:oc_group');
    expect((await store.getJob('app:beta:message:om_1'))?.payload).toMatchObject({ appId: 'beta' });
  });

  it('still drops a re-delivery to the same app, under its own or another event id', async () => {
    const receiver = inbox();
    const alpha = (eventId: string) => ({ ...inboundMessage({ eventId, messageId: 'om_1' }), appId: 'alpha' });
    expect((await receiver.accept(alpha('ev_1'))).status).toBe('accepted');
    expect(await receiver.accept(alpha('ev_1'))).toEqual({ status: 'duplicate', key: 'message_id' });
    expect(await receiver.accept(alpha('ev_2'))).toEqual({ status: 'duplicate', key: 'message_id' });
    // One event id seen by two apps is two deliveries, not a duplicate.
    expect((await receiver.accept({ ...alpha('ev_1'), appId: 'beta' })).status).toBe('accepted');
    expect((await store.countJobs()).pending).toBe(2);
  });
});
