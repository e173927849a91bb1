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
  },
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
    expect(parseConfigRequest('/config language fr')).toMatchObject({ action: 'invalid' });
    expect(parseConfigRequest('/config colour blue')).toMatchObject({ action: 'invalid' });
  });
});
