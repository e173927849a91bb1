import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { type ChatSettingsPolicy, createChatSettings } from './chat-settings.js';
import { parseConfigRequest } from './config-command.js';

const policy: ChatSettingsPolicy = {
  defaults: {
    persona: 'Be brief.',
    language: 'auto',
    model: undefined,
    groupContext: 'on-demand',
    userReadsInGroup: false,
    // $5 a chat, $1 a person.
    dailyBudget: { chatMicros: 5_000_000, userMicros: 1_000_000 },
  },
  // Admins may raise the chat's budget to $20; a person's only lower.
  budgetCeiling: { chatMicros: 20_000_000, userMicros: 1_000_000 },
  allowedModels: ['m1', 'm2'],
  locked: ['context'],
  tools: ['readDocument', 'webSearch'],
  specialists: ['writer'],
};

describe('chat settings', () => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  async function settings() {
    store = await openStore('sqlite::memory:');
    let clock = 1_000;
    return createChatSettings({ store, policy, now: () => clock++ });
  }

  it('starts from the defaults and applies changes as versions', async () => {
    const chat = await settings();
    expect(await chat.effective('oc_1')).toMatchObject({ persona: 'Be brief.', model: undefined, version: 0 });
    await chat.change('oc_1', { name: 'model', value: 'm2' }, 'ou_a');
    await chat.change('oc_1', { name: 'tools', item: 'webSearch', on: false }, 'ou_b');
    expect(await chat.effective('oc_1')).toMatchObject({ model: 'm2', toolsOff: ['webSearch'], version: 2 });
    await chat.change('oc_1', { name: 'tools', item: 'webSearch', on: true }, 'ou_b');
    expect((await chat.stored('oc_1')).overrides).toEqual({ model: 'm2' });
    await chat.change('oc_1', { name: 'reset', setting: 'model' }, 'ou_a');
    expect((await chat.effective('oc_1')).model).toBeUndefined();
    expect((await chat.history('oc_1', 10)).map((version) => version.change)).toEqual([
      'reset model',
      'tools: webSearch on',
      'tools: webSearch off',
      'model = m2',
    ]);
    expect(await chat.effective('oc_2')).toMatchObject({ version: 0 });
  });

  it('refuses models outside the list, unknown tools, and locked settings', async () => {
    const chat = await settings();
    await expect(chat.change('oc_1', { name: 'model', value: 'm9' }, 'ou_a')).rejects.toMatchObject({
      code: 'NOT_ALLOWED',
    });
    await expect(chat.change('oc_1', { name: 'tools', item: 'nope', on: false }, 'ou_a')).rejects.toMatchObject({
      code: 'UNKNOWN',
    });
    await expect(chat.change('oc_1', { name: 'context', value: 'off' }, 'ou_a')).rejects.toMatchObject({
      code: 'LOCKED',
    });
    await expect(chat.replace('oc_1', { groupContext: 'off' }, 'devtools')).rejects.toMatchObject({ code: 'LOCKED' });
    expect(await chat.history('oc_1', 10)).toEqual([]);
  });

  it('lets admins lower a budget freely and raise it only up to the ceiling, in whole cents', async () => {
    const chat = await settings();
    expect((await chat.effective('oc_1')).dailyBudget).toEqual({ chatMicros: 5_000_000, userMicros: 1_000_000 });
    // Raising the chat's budget to the $20 ceiling is allowed; beyond it, or to "none", is not.
    await chat.change('oc_1', { name: 'chat-budget', cents: 2_000 }, 'ou_a');
    expect((await chat.effective('oc_1')).dailyBudget.chatMicros).toBe(20_000_000);
    await expect(chat.change('oc_1', { name: 'chat-budget', cents: 2_001 }, 'ou_a')).rejects.toMatchObject({
      code: 'NOT_ALLOWED',
    });
    await expect(chat.change('oc_1', { name: 'chat-budget', cents: 0 }, 'ou_a')).rejects.toMatchObject({
      code: 'NOT_ALLOWED',
    });
    // A person's budget may only go down (its ceiling is the configured $1).
    await chat.change('oc_1', { name: 'user-budget', cents: 29 }, 'ou_a');
    expect((await chat.effective('oc_1')).dailyBudget).toEqual({ chatMicros: 20_000_000, userMicros: 290_000 });
    await expect(chat.change('oc_1', { name: 'user-budget', cents: 101 }, 'ou_a')).rejects.toMatchObject({
      code: 'NOT_ALLOWED',
    });
    expect((await chat.history('oc_1', 2)).map((version) => version.change)).toEqual([
      'user-budget = $0.29',
      'chat-budget = $20.00',
    ]);
    await chat.change('oc_1', { name: 'reset', setting: 'chat-budget' }, 'ou_a');
    expect((await chat.effective('oc_1')).dailyBudget.chatMicros).toBe(5_000_000);
    expect(await chat.effective('oc_2')).toMatchObject({ dailyBudget: { chatMicros: 5_000_000 } });
  });

  it('holds a stored budget under a ceiling the operator lowered later, and lets a locked one stay the default', async () => {
    store = await openStore('sqlite::memory:');
    const generous = createChatSettings({
      store,
      policy: { ...policy, budgetCeiling: { chatMicros: 0, userMicros: 0 } },
    });
    await generous.change('oc_1', { name: 'chat-budget', cents: 0 }, 'ou_a');
    await generous.change('oc_2', { name: 'chat-budget', cents: 5_000 }, 'ou_a');
    expect((await generous.effective('oc_1')).dailyBudget.chatMicros).toBe(0);
    const strict = createChatSettings({ store, policy });
    expect((await strict.effective('oc_1')).dailyBudget.chatMicros).toBe(20_000_000);
    expect((await strict.effective('oc_2')).dailyBudget.chatMicros).toBe(20_000_000);
    // An unrelated change is not refused for the stored budget the ceiling now holds down.
    await strict.change('oc_2', { name: 'model', value: 'm1' }, 'ou_a');
    const locked = createChatSettings({ store, policy: { ...policy, locked: ['chat-budget'] } });
    expect((await locked.effective('oc_2')).dailyBudget.chatMicros).toBe(5_000_000);
    await expect(locked.change('oc_2', { name: 'chat-budget', cents: 100 }, 'ou_a')).rejects.toMatchObject({
      code: 'LOCKED',
    });
  });

  it('replaces all values at once only at the expected version', async () => {
    const chat = await settings();
    await chat.replace('oc_1', { persona: 'Pirate.', language: 'en' }, 'devtools', 0);
    await expect(chat.replace('oc_1', { persona: 'Late.' }, 'devtools', 0)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await chat.effective('oc_1')).toMatchObject({ persona: 'Pirate.', language: 'en', version: 1 });
  });
});

describe('parseConfigRequest', () => {
  it('reads each setting and explains a mistake', () => {
    expect(parseConfigRequest('/config')).toEqual({ action: 'show' });
    expect(parseConfigRequest('／config history')).toEqual({ action: 'history' });
    expect(parseConfigRequest('/config persona Be a pirate.  Always.')).toEqual({
      action: 'change',
      change: { name: 'persona', value: 'Be a pirate.  Always.' },
    });
    expect(parseConfigRequest('/config tools webSearch OFF')).toEqual({
      action: 'change',
      change: { name: 'tools', item: 'webSearch', on: false },
    });
    expect(parseConfigRequest('/config context on')).toEqual({
      action: 'change',
      change: { name: 'context', value: 'on-demand' },
    });
    expect(parseConfigRequest('/config user-reads 开')).toEqual({
      action: 'change',
      change: { name: 'user-reads', value: true },
    });
    expect(parseConfigRequest('/config reset model')).toEqual({
      action: 'change',
      change: { name: 'reset', setting: 'model' },
    });
    expect(parseConfigRequest('/config chat-budget $2.50')).toEqual({
      action: 'change',
      change: { name: 'chat-budget', cents: 250 },
    });
    expect(parseConfigRequest('/config user-budget none')).toEqual({
      action: 'change',
      change: { name: 'user-budget', cents: 0 },
    });
    expect(parseConfigRequest('/config chat-budget 2.505')).toMatchObject({ action: 'invalid' });
    expect(parseConfigRequest('/config chat-budget lots', 'zh')).toEqual({
      action: 'invalid',
      reason: '请写每天的美元金额，例如 `/config chat-budget 2.50`，或 `none`。',
    });
    expect(parseConfigRequest('/config language fr')).toMatchObject({ action: 'invalid' });
    expect(parseConfigRequest('/config colour blue')).toMatchObject({ action: 'invalid' });
  });
});
