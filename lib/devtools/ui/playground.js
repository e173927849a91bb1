// The playground: talks to the bot through POST /api/chat and follows each answer over SSE.
// The session id and the conversation live in localStorage, so a page reload keeps both (an
// answer still streaming is followed again). Answers are rendered as the card shows them
// (markdown.js); the user's own text is shown as text. With several Feishu apps a selector picks
// the bot that answers; each app has its own session and conversation, and the choice is kept too.

import { API, api } from './api.js';
import { $, el } from './dom.js';
import { renderMarkdown } from './markdown.js';

/** The default app's session (and the only app's): the key it had before several apps were served. */
const SESSION_KEY = 'devtools-session';
/** The app picked in the selector. */
const APP_KEY = 'devtools-playground-app';
const DEFAULT_APP = 'default';
const APP_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
const LOG_KEY_PREFIX = 'devtools-chat:';
/** Messages kept per conversation in localStorage (oldest dropped first). */
const MAX_KEPT_MESSAGES = 60;
/** Characters kept per message in localStorage. */
const MAX_KEPT_CHARS = 20_000;
const SAVE_DELAY_MS = 400;
const ENDED = new Set(['finished', 'failed', 'agent-off']);

/** localStorage, or a stand-in that forgets when the browser refuses storage (private mode, quota). */
const storage = (() => {
  try {
    const probe = '__devtools_probe__';
    localStorage.setItem(probe, '1');
    localStorage.removeItem(probe);
    return localStorage;
  } catch {
    const memory = new Map();
    return {
      getItem: (key) => memory.get(key) ?? null,
      setItem: (key, value) => memory.set(key, String(value)),
      removeItem: (key) => memory.delete(key),
    };
  }
})();

/** 8 random hex digits. crypto.randomUUID needs a secure context, which plain http to a remote host is not. */
function randomHex() {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

function readLog(sessionId) {
  try {
    const parsed = JSON.parse(storage.getItem(`${LOG_KEY_PREFIX}${sessionId}`) || '[]');
    return Array.isArray(parsed) ? parsed.filter((entry) => entry && typeof entry.role === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Wires the playground panel.
 *
 * @example
 * const playground = createPlaygroundView({ onSent: (traceId, text) => selectTrace(traceId), onEnded });
 * playground.setAgentOff('The agent is off: …');
 * playground.setApps(['alpha', 'beta']);
 */
export function createPlaygroundView({ onSent = () => {}, onEnded = () => {}, onRestored = () => {} } = {}) {
  // The app that answers; null: the server's default (one app served, or not known yet). The
  // choice of a previous visit is used at once, so a reload shows that app's conversation.
  const kept = storage.getItem(APP_KEY);
  let appId = kept && APP_ID.test(kept) ? kept : null;
  let apps = [];
  let sessionId = sessionOf(appId);
  /** The session of `app`: its own id in storage, so each app's conversation (and memory) stays its own. */
  function sessionOf(app) {
    const key = app === null || app === DEFAULT_APP ? SESSION_KEY : `${SESSION_KEY}@${app}`;
    let id = storage.getItem(key);
    if (!id || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
      id = `web-${randomHex()}`;
      storage.setItem(key, id);
    }
    return id;
  }
  function sessionKey() {
    return appId === null || appId === DEFAULT_APP ? SESSION_KEY : `${SESSION_KEY}@${appId}`;
  }
  /** The conversation: { role, text, state?, detail?, traceId?, question? } plus its DOM node. */
  let entries = [];
  let agentOffMessage = null;
  const streams = new Set();
  let saveTimer = null;

  function saveNow() {
    clearTimeout(saveTimer);
    saveTimer = null;
    const kept = entries.slice(-MAX_KEPT_MESSAGES).map(({ node: _node, ...entry }) => ({
      ...entry,
      text: String(entry.text ?? '').slice(0, MAX_KEPT_CHARS),
    }));
    try {
      storage.setItem(`${LOG_KEY_PREFIX}${sessionId}`, JSON.stringify(kept));
    } catch {
      // Over quota: the conversation still shows, it just will not survive a reload.
    }
  }

  /** Streamed text is saved at most every SAVE_DELAY_MS; a new message or a final state at once. */
  function save({ soon = false } = {}) {
    if (!soon) {
      saveNow();
      return;
    }
    saveTimer ??= setTimeout(saveNow, SAVE_DELAY_MS);
  }
  // Whatever streamed since the last save survives the page going away; the streams the browser
  // closes then are not answers that went missing (the reloaded page follows them again).
  let leaving = false;
  const leave = () => {
    leaving = true;
    if (saveTimer !== null) saveNow();
  };
  window.addEventListener('beforeunload', leave);
  window.addEventListener('pagehide', leave);
  window.addEventListener('pageshow', () => {
    leaving = false;
  });

  function showEmpty(text) {
    $('chat-log').replaceChildren(el('p', { className: 'empty', id: 'chat-empty', text }));
  }

  function append(node) {
    const log = $('chat-log');
    log.querySelector('.empty')?.remove();
    log.append(node);
    log.scrollTop = log.scrollHeight;
  }

  function userNode(entry) {
    return el('div', { className: 'message message-user', dataset: { testid: 'user-message' }, text: entry.text });
  }

  function botNode(entry) {
    const node = el(
      'div',
      { className: 'message message-bot', dataset: { testid: 'bot-message' }, attrs: { 'aria-live': 'polite' } },
      [el('div', { className: 'message-text' }), el('div', { className: 'message-meta' })],
    );
    entry.node = node;
    paintBot(entry);
    return node;
  }

  /** Brings a bot bubble up to date with its entry. */
  function paintBot(entry) {
    const node = entry.node;
    if (!node) return;
    node.dataset.state = entry.state;
    if (entry.traceId) node.dataset.traceId = entry.traceId;
    node.classList.toggle('streaming', !ENDED.has(entry.state));
    node.classList.toggle('failed', entry.state === 'failed');
    node.classList.toggle('agent-off', entry.state === 'agent-off');
    const textNode = node.querySelector('.message-text');
    if (entry.state === 'waiting' || (entry.state === 'started' && !entry.text)) {
      textNode.classList.remove('markdown');
      textNode.replaceChildren(
        el('span', { className: 'typing', attrs: { 'aria-label': 'thinking' } }, [el('span'), el('span'), el('span')]),
      );
    } else if (entry.state === 'agent-off') {
      textNode.classList.remove('markdown');
      textNode.textContent = entry.text;
    } else {
      textNode.classList.add('markdown');
      const text = entry.text || (entry.state === 'finished' ? '(empty answer)' : '');
      textNode.replaceChildren(renderMarkdown(text));
    }
    node.querySelector('.message-notice')?.remove();
    const meta = node.querySelector('.message-meta');
    const parts = [];
    if (entry.state === 'failed' && entry.detail) {
      node.insertBefore(el('div', { className: 'message-notice', text: entry.detail }), meta);
    } else if (entry.detail) parts.push(el('span', { text: entry.detail }));
    if (entry.traceId) {
      const traceId = entry.traceId;
      parts.push(
        el('button', {
          className: 'link-button',
          text: 'view trace',
          attrs: { type: 'button' },
          onClick: () => onSent(traceId, entry.question ?? ''),
        }),
      );
    }
    meta.replaceChildren(...parts);
  }

  function add(entry) {
    entries.push(entry);
    append(entry.role === 'user' ? userNode(entry) : botNode(entry));
    // The page shows the whole conversation of this visit; storage keeps the newest part.
    save();
    return entry;
  }

  function change(entry, patch) {
    Object.assign(entry, patch);
    paintBot(entry);
    save();
    if (ENDED.has(entry.state)) onEnded(entry.traceId);
  }

  function follow(entry) {
    const source = new EventSource(`${API}/chat/${encodeURIComponent(entry.traceId)}/stream`);
    streams.add(source);
    const close = () => {
      source.close();
      streams.delete(source);
    };
    const onUpdate = (message) => {
      const update = JSON.parse(message.data);
      if (update.type === 'start') {
        if (entry.state === 'waiting') change(entry, { state: 'started' });
        return;
      }
      if (update.type === 'update') {
        entry.text = update.text;
        entry.state = 'streaming';
        paintBot(entry);
        save({ soon: true });
        $('chat-log').scrollTop = $('chat-log').scrollHeight;
        return;
      }
      close();
      change(entry, {
        state: update.type === 'finish' ? 'finished' : 'failed',
        text: update.text || '',
        detail: update.detail,
      });
    };
    for (const type of ['start', 'update', 'finish', 'fail']) source.addEventListener(type, onUpdate);
    source.addEventListener('error', () => {
      // A closed source was refused (the answer expired, or the bot restarted); an open one retries.
      if (leaving || source.readyState !== EventSource.CLOSED || ENDED.has(entry.state)) return;
      close();
      change(entry, {
        state: 'failed',
        detail: 'The answer is no longer available here (expired or the bot restarted); its trace may still show it.',
      });
    });
  }

  async function send(text) {
    add({ role: 'user', text });
    if (agentOffMessage) {
      add({ role: 'bot', state: 'agent-off', text: agentOffMessage });
      return;
    }
    const entry = add({ role: 'bot', state: 'waiting', text: '', question: text });
    let traceId;
    try {
      const body = appId === null ? { text, sessionId } : { text, sessionId, app: appId };
      ({ traceId } = await api('/chat', { method: 'POST', body: JSON.stringify(body) }));
    } catch (error) {
      if (error.code === 'agent_off') {
        setAgentOff(error.message);
        change(entry, { state: 'agent-off', text: error.message });
      } else change(entry, { state: 'failed', detail: `Not sent: ${error.message}` });
      return;
    }
    change(entry, { traceId });
    onSent(traceId, text);
    follow(entry);
  }

  function restore() {
    entries = [];
    const kept = readLog(sessionId);
    if (kept.length === 0) {
      showEmpty('Say something to the bot.');
      return;
    }
    $('chat-log').replaceChildren();
    for (const saved of kept) {
      const entry = add({ ...saved });
      if (entry.role === 'bot' && entry.traceId) {
        onRestored(entry.traceId, entry.question ?? '');
        if (!ENDED.has(entry.state)) follow(entry);
      }
    }
  }

  function closeStreams() {
    for (const source of streams) source.close();
    streams.clear();
  }

  function newSession() {
    closeStreams();
    storage.removeItem(`${LOG_KEY_PREFIX}${sessionId}`);
    sessionId = `web-${randomHex()}`;
    storage.setItem(sessionKey(), sessionId);
    $('session-id').textContent = sessionId;
    entries = [];
    showEmpty('New session. Say something to the bot.');
  }

  /**
   * Talks to `app` from now on: the conversation shown so far is saved as it is (its answers
   * still streaming are followed again when it is shown again) and the app's own one is shown.
   */
  function switchTo(app) {
    if (app === appId) return;
    appId = app;
    if (appId === null) storage.removeItem(APP_KEY);
    else storage.setItem(APP_KEY, appId);
    const next = sessionOf(appId);
    // The default app's session is the one shown before the apps were known: nothing to swap.
    if (next === sessionId) return;
    if (saveTimer !== null) saveNow();
    closeStreams();
    sessionId = next;
    $('session-id').textContent = sessionId;
    restore();
  }

  function renderApps() {
    const picker = $('playground-app');
    picker.hidden = apps.length < 2;
    picker.replaceChildren(
      ...apps.map((id) => {
        const node = el('option', { text: id });
        node.value = id;
        node.selected = id === appId;
        return node;
      }),
    );
  }

  /**
   * The apps served (GET /api/playground), the default (or first) first: with two or more the
   * selector shows, on the app picked last time if it is still served, else on the first.
   */
  function setApps(served) {
    apps = Array.isArray(served) ? served.filter((id) => typeof id === 'string') : [];
    const wanted = apps.length < 2 ? null : apps.includes(appId) ? appId : apps[0];
    switchTo(wanted);
    renderApps();
  }

  function setAgentOff(message) {
    agentOffMessage = message || null;
    const hint = $('agent-off-hint');
    hint.hidden = agentOffMessage === null;
    hint.textContent = agentOffMessage ?? '';
  }

  const form = $('chat-form');
  const input = $('chat-input');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    input.value = '';
    send(text);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  $('new-session').addEventListener('click', newSession);
  $('playground-app').addEventListener('change', (event) => switchTo(event.target.value));
  $('session-id').textContent = sessionId;
  restore();

  return { setAgentOff, setApps };
}
