// The Chats tab: each chat's settings (persona, language, model, tools, specialists, group
// context, user reads, daily budgets), who changed what and when, and a form that saves a new version.

import { api } from './api.js';
import { $, clockTime, el, timeAgo } from './dom.js';

const LANGUAGES = ['auto', 'zh', 'en'];
const CONTEXTS = ['on-demand', 'stored', 'off'];

function option(value, label, selected) {
  const node = el('option', { text: label });
  node.value = value;
  node.selected = selected;
  return node;
}

function field(label, control, locked) {
  return el('label', { className: 'chat-field' }, [
    el('span', { className: 'chat-field-label', text: locked ? `${label} 🔒` : label }),
    control,
  ]);
}

/** Micros as dollars with cents ("$2.50"); "none" for 0 (no budget). */
function dollars(micros) {
  if (!micros) return 'none';
  const cents = Math.round(micros / 10_000);
  return `$${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

/** Whole cents of "2.50", "$2.5" or "none" (0); NaN for anything else, read from the digits. */
function cents(text) {
  const value = text.trim().toLowerCase();
  if (value === 'none' || value === '0') return 0;
  const match = /^\$?(\d{1,7})(?:\.(\d{1,2}))?$/.exec(value);
  return match ? Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0')) : Number.NaN;
}

/** A text box of a daily budget in dollars; empty: the default. */
function budgetInput(name, storedCents, defaultMicros, ceilingMicros, locked) {
  const input = el('input', {
    attrs: { name, type: 'text', inputmode: 'decimal' },
    dataset: { testid: `chat-${name}` },
  });
  input.value = storedCents === undefined ? '' : storedCents === 0 ? 'none' : dollars(storedCents * 10_000).slice(1);
  input.placeholder = `(default: ${dollars(defaultMicros)}${ceilingMicros > 0 ? `; at most ${dollars(ceilingMicros)}` : ''})`;
  input.disabled = locked;
  return input;
}

/** Checkboxes named `name`, one per item, checked when the item is on. */
function switches(name, items, off, locked) {
  const box = el('div', { className: 'chat-switches', dataset: { testid: `chat-${name}` } });
  for (const item of items) {
    const input = el('input', { attrs: { type: 'checkbox', name, value: item } });
    input.checked = !off.includes(item);
    input.disabled = locked;
    box.append(el('label', { className: 'chat-switch' }, [input, el('span', { text: item })]));
  }
  if (items.length === 0) box.append(el('span', { className: 'hint', text: 'none' }));
  return box;
}

/**
 * @example
 * const chats = createChatsView();
 * chats.refresh();
 */
export function createChatsView() {
  let policy = null;
  let selected = null;
  // The Feishu app whose chats are shown (settings are per chat per app); null: the server's default.
  let appId = null;
  /** Group names from the last listing (the detail call answers ids only), bounded by its 200 rows. */
  const chatNames = new Map();

  /** `?app=<id>` of the app shown, on every call of the tab. */
  function ofApp(path) {
    return appId === null ? path : `${path}?app=${encodeURIComponent(appId)}`;
  }

  /** The app selector, only when the process serves more than one app. */
  function renderApps(apps) {
    const picker = $('chats-app');
    if (!picker) return;
    picker.hidden = apps.length < 2;
    picker.replaceChildren(...apps.map((id) => option(id, id, id === appId)));
  }

  async function refresh() {
    const list = $('chat-list');
    try {
      const body = await api(ofApp('/chats'));
      policy = body.policy;
      appId = body.app;
      renderApps(body.apps);
      chatNames.clear();
      for (const chat of body.chats) if (chat.name) chatNames.set(chat.chatId, chat.name);
      list.replaceChildren(
        ...body.chats.map((chat) =>
          el(
            'li',
            {
              className: `chat-row${chat.chatId === selected ? ' selected' : ''}`,
              dataset: { chatId: chat.chatId, testid: 'chat-row' },
              onClick: () => open(chat.chatId),
            },
            [
              el('strong', { text: chat.name ?? chat.chatId }),
              el('span', { className: 'hint', text: ` v${chat.effective.version}` }),
              chat.membership
                ? el('span', { className: `badge badge-${chat.membership}`, text: chat.membership })
                : null,
              chat.change
                ? el('div', {
                    className: 'hint',
                    text: `${chat.change} · ${chat.changedByName} · ${timeAgo(chat.changedAt)}`,
                  })
                : null,
            ],
          ),
        ),
      );
      $('chats-empty').hidden = body.chats.length > 0;
    } catch (error) {
      $('chats-empty').hidden = false;
      $('chats-empty').textContent = `Could not load chats: ${error.message}`;
    }
  }

  async function open(chatId) {
    selected = chatId;
    if (policy === null) await refresh();
    const detail = $('chat-detail');
    detail.replaceChildren(el('p', { className: 'empty', text: 'Loading…' }));
    try {
      const chat = await api(ofApp(`/chats/${encodeURIComponent(chatId)}`));
      render(chat);
    } catch (error) {
      detail.replaceChildren(el('p', { className: 'error', text: error.message }));
    }
  }

  function render(chat) {
    const { stored, effective } = chat;
    const locked = (name) => policy.locked.includes(name);
    const persona = el('textarea', {
      attrs: { name: 'persona', rows: 4, maxlength: 2000 },
      dataset: { testid: 'chat-persona' },
    });
    persona.value = stored.persona ?? '';
    persona.placeholder = policy.defaults.persona ?? '(default)';
    persona.disabled = locked('persona');
    const language = el('select', { attrs: { name: 'language' }, dataset: { testid: 'chat-language' } }, [
      option('', `(default: ${policy.defaults.language})`, stored.language === undefined),
      ...LANGUAGES.map((value) => option(value, value, stored.language === value)),
    ]);
    language.disabled = locked('language');
    const model = el('select', { attrs: { name: 'model' }, dataset: { testid: 'chat-model' } }, [
      option('', '(default chain)', stored.model === undefined),
      ...policy.allowedModels.map((value) => option(value, value, stored.model === value)),
    ]);
    model.disabled = locked('model');
    const context = el('select', { attrs: { name: 'context' }, dataset: { testid: 'chat-context' } }, [
      option('', `(default: ${policy.defaults.groupContext})`, stored.groupContext === undefined),
      ...CONTEXTS.map((value) => option(value, value, stored.groupContext === value)),
    ]);
    context.disabled = locked('context');
    const userReads = el('select', { attrs: { name: 'user-reads' }, dataset: { testid: 'chat-user-reads' } }, [
      option(
        '',
        `(default: ${policy.defaults.userReadsInGroup ? 'on' : 'off'})`,
        stored.userReadsInGroup === undefined,
      ),
      option('on', 'on', stored.userReadsInGroup === true),
      option('off', 'off', stored.userReadsInGroup === false),
    ]);
    userReads.disabled = locked('user-reads');
    const chatBudget = budgetInput(
      'chat-budget',
      stored.chatBudgetCents,
      policy.defaults.dailyBudget.chatMicros,
      policy.budgetCeiling.chatMicros,
      locked('chat-budget'),
    );
    const userBudget = budgetInput(
      'user-budget',
      stored.userBudgetCents,
      policy.defaults.dailyBudget.userMicros,
      policy.budgetCeiling.userMicros,
      locked('user-budget'),
    );
    const status = el('p', { className: 'hint', dataset: { testid: 'chat-save-status' } });
    const form = el('form', { className: 'chat-form-settings', dataset: { testid: 'chat-settings-form' } }, [
      field('Persona (system prompt for this chat)', persona, locked('persona')),
      field('Language', language, locked('language')),
      field('Model', model, locked('model')),
      field('Group context', context, locked('context')),
      field('User-authorized reads in the group', userReads, locked('user-reads')),
      field('Daily budget of the chat (USD, or none)', chatBudget, locked('chat-budget')),
      field('Daily budget of a person asking here (USD, or none)', userBudget, locked('user-budget')),
      field('Tools', switches('tools', policy.tools, effective.toolsOff, locked('tools')), locked('tools')),
      field(
        'Specialists',
        switches('specialists', policy.specialists, effective.specialistsOff, locked('specialists')),
        locked('specialists'),
      ),
      el('button', {
        className: 'button-primary',
        text: 'Save',
        attrs: { type: 'submit' },
        dataset: { testid: 'chat-save' },
      }),
      status,
    ]);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const off = (name) =>
        [...form.querySelectorAll(`input[name="${name}"]`)]
          .filter((input) => !input.checked)
          .map((input) => input.value);
      const settings = {};
      if (persona.value.trim() !== '') settings.persona = persona.value.trim();
      if (language.value !== '') settings.language = language.value;
      if (model.value !== '') settings.model = model.value;
      if (context.value !== '') settings.groupContext = context.value;
      if (userReads.value !== '') settings.userReadsInGroup = userReads.value === 'on';
      for (const [input, key] of [
        [chatBudget, 'chatBudgetCents'],
        [userBudget, 'userBudgetCents'],
      ]) {
        if (input.value.trim() === '') continue;
        const amount = cents(input.value);
        if (Number.isNaN(amount)) {
          status.textContent = `Not saved: "${input.value}" is not an amount of dollars and cents.`;
          return;
        }
        settings[key] = amount;
      }
      if (off('tools').length > 0) settings.toolsOff = off('tools');
      if (off('specialists').length > 0) settings.specialistsOff = off('specialists');
      status.textContent = 'Saving…';
      try {
        await api(ofApp(`/chats/${encodeURIComponent(chat.chatId)}/settings`), {
          method: 'POST',
          body: JSON.stringify({ settings, expectedVersion: chat.version }),
        });
        await open(chat.chatId);
        await refresh();
        $('chat-save-status-global').textContent = `Saved ${chat.chatId}: applies from the next message.`;
      } catch (error) {
        status.textContent = `Not saved: ${error.message}`;
      }
    });
    const history = el(
      'ol',
      { className: 'chat-history', dataset: { testid: 'chat-history' } },
      chat.history.map((version) =>
        el('li', {}, [
          el('strong', { text: `v${version.version} ` }),
          el('span', { text: version.change }),
          el('span', { className: 'hint', text: ` · ${version.changedByName} · ${clockTime(version.at)}` }),
        ]),
      ),
    );
    $('chat-detail').replaceChildren(
      el('h3', {}, [
        el('span', { text: chatNames.get(chat.chatId) ?? chat.chatId }),
        chatNames.has(chat.chatId) ? el('span', { className: 'hint', text: ` ${chat.chatId}` }) : null,
      ]),
      el('p', { className: 'hint', text: `Version ${chat.version}. Changes apply from the next message.` }),
      form,
      el('h4', { text: 'History' }),
      chat.history.length > 0 ? history : el('p', { className: 'hint', text: 'No changes yet: the defaults apply.' }),
    );
  }

  $('chats-refresh')?.addEventListener('click', () => refresh());
  $('chats-app')?.addEventListener('change', (event) => {
    appId = event.target.value;
    selected = null;
    $('chat-detail').replaceChildren();
    refresh();
  });
  return { refresh, open };
}
