import { describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import type { BotEvent } from '../observe/bot-event.js';
import { createEventBus } from '../observe/event-bus.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { CARD_PRESS_TEXT, type CardPress, controlValue, createCardActionRouter } from './card-actions.js';

function setUp(isChatAdmin?: (chatId: string, userId: string) => Promise<boolean>) {
  const store = openSqliteStore(':memory:');
  const bus = createEventBus();
  const events: BotEvent[] = [];
  bus.subscribe((event) => events.push(event));
  const pressed: string[] = [];
  const route = createCardActionRouter({
    handlers: {
      stop: async (control, press) => {
        pressed.push(`${control.run} by ${press.operatorId}`);
        return { toast: { kind: 'info', text: 'ok' } };
      },
    },
    store,
    ...(isChatAdmin === undefined ? {} : { isChatAdmin }),
    bus,
    log: silentLogger(),
  });
  return { store, route, pressed, events };
}

const press = (overrides: Partial<CardPress> = {}): CardPress => ({
  deliveryId: 'ev-1',
  operatorId: 'ou_asker',
  messageId: 'om_card',
  chatId: 'oc_chat',
  value: controlValue({ action: 'stop', run: 'job-1', asker: 'ou_asker' }),
  ...overrides,
});

describe('card action router', () => {
  it('runs the handler of the control for the asker, once per delivery', async () => {
    const { route, pressed, events, store } = setUp();
    expect(await route(press())).toEqual({ toast: { kind: 'info', text: 'ok' } });
    expect(await route(press())).toEqual({ toast: { kind: 'info', text: CARD_PRESS_TEXT.duplicate } });
    expect(await route(press({ deliveryId: 'ev-2' }))).toEqual({ toast: { kind: 'info', text: 'ok' } });
    expect(pressed).toEqual(['job-1 by ou_asker', 'job-1 by ou_asker']);
    expect(events.map((event) => event.type === 'card.action' && event.outcome)).toEqual(['done', 'duplicate', 'done']);
    await store.close();
  });

  it('refuses someone else unless the chat says they are an admin', async () => {
    const asked: string[] = [];
    const { route, pressed, store } = setUp(async (chatId, userId) => {
      asked.push(`${chatId}/${userId}`);
      return userId === 'ou_admin';
    });
    expect(await route(press({ operatorId: 'ou_other' }))).toEqual({
      toast: { kind: 'warning', text: CARD_PRESS_TEXT.notYours },
    });
    // The refused press did not use up its delivery id: the admin's press with it still counts.
    expect(await route(press({ operatorId: 'ou_admin' }))).toEqual({ toast: { kind: 'info', text: 'ok' } });
    expect(asked).toEqual(['oc_chat/ou_other', 'oc_chat/ou_admin']);
    expect(pressed).toEqual(['job-1 by ou_admin']);
    await store.close();
  });

  it('answers an unknown or malformed control with a toast, and a failing handler with an error toast', async () => {
    const { route, store } = setUp();
    expect(await route(press({ value: { action: 'launch', run: 'job-1', asker: 'ou_asker' } }))).toEqual({
      toast: { kind: 'warning', text: CARD_PRESS_TEXT.unknown },
    });
    expect(await route(press({ value: {} }))).toEqual({ toast: { kind: 'warning', text: CARD_PRESS_TEXT.unknown } });
    await store.close();
    // The store is closed: the dedupe claim throws.
    expect(await route(press({ deliveryId: 'ev-9' }))).toEqual({
      toast: { kind: 'error', text: CARD_PRESS_TEXT.failed },
    });
  });
});
