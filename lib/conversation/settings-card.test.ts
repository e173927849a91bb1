import { describe, expect, it } from 'vitest';
import { openStore } from '../store/open-store.js';
import { createChatSettings } from './chat-settings.js';
import { changeOfButton, SETTINGS_ACTION, settingsCard } from './settings-card.js';

describe('settings card', () => {
  it('offers a button per choice, none for a locked setting, each carrying its change', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      const settings = createChatSettings({
        store,
        policy: {
          defaults: {
            persona: undefined,
            language: 'auto',
            model: undefined,
            groupContext: 'on-demand',
            userReadsInGroup: false,
            dailyBudget: { chatMicros: 0, userMicros: 0 },
          },
          budgetCeiling: { chatMicros: 0, userMicros: 0 },
          allowedModels: ['m1', 'm2'],
          locked: ['model'],
          tools: ['readDocument'],
          specialists: ['writer'],
        },
      });
      const card = JSON.parse(
        settingsCard({
          chatId: 'oc_1',
          chatType: 'group',
          asker: 'ou_a',
          effective: await settings.effective('oc_1'),
          settings,
        }),
      ) as { body: { elements: Array<{ tag: string; behaviors?: Array<{ value: Record<string, string> }> }> } };
      const values = card.body.elements.flatMap(
        (element) => element.behaviors?.map((behavior) => behavior.value) ?? [],
      );
      expect(
        values.every((value) => value.action === SETTINGS_ACTION && value.chat === 'oc_1' && value.group === '1'),
      ).toBe(true);
      const offered = values.map((value) => `${value.setting}=${value.to}`);
      expect(offered).toEqual([
        'language=auto',
        'language=zh',
        'language=en',
        'context=on-demand',
        'context=stored',
        'context=off',
        'user-reads=on',
        'user-reads=off',
        'tools=readDocument:off',
        'specialists=writer:off',
      ]);
      expect(offered.some((choice) => choice.startsWith('model='))).toBe(false);
      // A chat left on auto gets the English card; one set to Chinese a Chinese one, its buttons saying so.
      expect(values.every((value) => value.lang === 'en')).toBe(true);
      await settings.change('oc_1', { name: 'language', value: 'zh' }, 'ou_a');
      const chinese = JSON.parse(
        settingsCard({
          chatId: 'oc_1',
          chatType: 'group',
          asker: 'ou_a',
          effective: await settings.effective('oc_1'),
          settings,
        }),
      ) as {
        header: { title: { content: string } };
        body: {
          elements: Array<{ tag: string; content?: string; behaviors?: Array<{ value: Record<string, string> }> }>;
        };
      };
      expect(chinese.header.title.content).toBe('群设置');
      expect(chinese.body.elements.some((element) => element.content?.includes('本群的设置'))).toBe(true);
      expect(
        chinese.body.elements.flatMap((element) => element.behaviors?.map((behavior) => behavior.value.lang) ?? []),
      ).toContain('zh');
      const ids = card.body.elements.map((element) => (element as { element_id?: string }).element_id).filter(Boolean);
      expect(ids.every((id) => /^[a-z][a-z0-9_]{0,19}$/.test(id as string))).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('reads a button back into a change, and nothing from a value no card carries', () => {
    expect(changeOfButton('tools', 'readDocument:off')).toEqual({ name: 'tools', item: 'readDocument', on: false });
    expect(changeOfButton('user-reads', 'on')).toEqual({ name: 'user-reads', value: true });
    expect(changeOfButton('context', 'stored')).toEqual({ name: 'context', value: 'stored' });
    expect(changeOfButton('language', 'fr')).toBeUndefined();
    expect(changeOfButton('persona', 'anything')).toBeUndefined();
    expect(changeOfButton('tools', 'readDocument')).toBeUndefined();
    expect(changeOfButton(undefined, 'on')).toBeUndefined();
  });
});
