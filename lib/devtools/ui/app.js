// Bot devtools UI: plain ES modules, no framework, no build step.
// Every piece of data (chat text, tool arguments, errors) is rendered with textContent; the bot's
// answers are Markdown rendered by markdown.js, which sanitises. The app's CSP forbids inline
// scripts and styles.

import { API, api } from './api.js';
import { createChatsView } from './chats-view.js';
import { describe, excerpt, isErrorEvent } from './describe-event.js';
import {
  $,
  clockTime,
  el,
  formatCost,
  formatMs,
  formatNumber,
  formatPercent,
  present,
  shortId,
  svg,
  throttle,
  timeAgo,
} from './dom.js';
import { createHealthView } from './health-view.js';
import { renderMarkdown } from './markdown.js';
import { createPlaygroundView } from './playground.js';
import { createSpendView } from './spend-view.js';

const HEALTH_POLL_MS = 3_000;
const FEED_MAX_ROWS = 300;
const DEAD_POLL_MS = 15_000;
/** Playground texts remembered by trace id, to title a trace before its message is read. */
const MAX_LOCAL_TEXTS = 500;
/** Fields every event has; the expanded step shows the others. */
const COMMON_FIELDS = new Set(['type', 'traceId', 'seq', 'at']);
/** Fields shown as a block of text rather than inline. */
const LONG_FIELDS = new Set(['input', 'output', 'text', 'message', 'task', 'error', 'reason', 'notice', 'transcript']);
const SELECTED_TRACE_KEY = 'devtools-selected-trace';

const state = {
  selectedTraceId: null,
  traces: [],
  lastSeq: 0,
  feedPaused: false,
  stats: null,
  localTexts: new Map(),
  /** GET /api/playground: { answering, message?, apps }, null until known. */
  playgroundStatus: null,
  /** /health's `agent` component, when the server reports one. */
  healthAgent: null,
  /** Timeline steps the user expanded (by seq), kept open across refreshes. */
  openSteps: new Set(),
};

function rememberText(traceId, text) {
  if (!traceId || !text) return;
  state.localTexts.delete(traceId);
  state.localTexts.set(traceId, text);
  while (state.localTexts.size > MAX_LOCAL_TEXTS) state.localTexts.delete(state.localTexts.keys().next().value);
}

// ── tabs ─────────────────────────────────────────────────────────────────────

function selectTab(name) {
  for (const tab of document.querySelectorAll('.tab')) {
    tab.setAttribute('aria-selected', String(tab.dataset.tab === name));
  }
  for (const panel of document.querySelectorAll('.tab-panel')) panel.hidden = panel.id !== `tab-${name}`;
  if (name === 'dead') refreshDeadLetters();
  if (name === 'health') health.refresh();
  if (name === 'chats') chats.refresh();
  if (name === 'spend') spend.refresh();
}

// ── header: stats, health and agent state ────────────────────────────────────

async function refreshStats() {
  try {
    const stats = await api('/stats');
    const traceTotal = Object.values(stats.traces.byStatus).reduce((sum, value) => sum + value, 0);
    $('kpi-traces').textContent = formatNumber(traceTotal);
    $('kpi-calls').textContent = formatNumber(stats.agentCalls);
    $('kpi-tokens').textContent = `${formatNumber(stats.tokens.input)} / ${formatNumber(stats.tokens.output)}`;
    $('kpi-cost').textContent = formatCost(stats.estimatedCostUsd);
    $('kpi-errors').textContent = formatPercent(stats.agentErrors.rate);
    state.stats = stats;
  } catch {
    // the banner already explains auth problems; stats are best effort
  }
}

function setHealthPill(status, text) {
  const pill = $('health-pill');
  pill.className = `pill pill-${['healthy', 'degraded', 'unhealthy'].includes(status) ? status : 'unknown'}`;
  pill.textContent = text;
}

/** The agent's state in the header: /health's agent component when there is one, else the playground's. */
function renderAgentPill() {
  const pill = $('agent-pill');
  const agent = state.healthAgent;
  let tone;
  let text;
  let title;
  if (agent && typeof agent.state === 'string') {
    tone = agent.state === 'ok' ? 'healthy' : agent.state === 'degraded' ? 'degraded' : 'unhealthy';
    text = agent.state === 'ok' ? 'agent on' : `agent ${agent.state}`;
    title = agent.reason || (Array.isArray(agent.models) ? agent.models.join(' → ') : '');
  } else if (state.playgroundStatus) {
    tone = state.playgroundStatus.answering ? 'healthy' : 'unhealthy';
    text = state.playgroundStatus.answering ? 'agent on' : 'agent off';
    title = state.playgroundStatus.message || '';
  } else {
    pill.hidden = true;
    return;
  }
  pill.hidden = false;
  pill.className = `pill pill-${tone}`;
  pill.dataset.state = text.replace('agent ', '');
  pill.textContent = text;
  pill.title = title;
}

async function refreshPlaygroundStatus() {
  try {
    state.playgroundStatus = await api('/playground');
  } catch {
    return;
  }
  playground.setAgentOff(state.playgroundStatus.answering ? null : state.playgroundStatus.message);
  playground.setApps(state.playgroundStatus.apps);
  renderAgentPill();
}

// ── traces ───────────────────────────────────────────────────────────────────

function traceQuery() {
  const params = new URLSearchParams();
  const add = (name, id) => {
    const value = $(id).value.trim();
    if (value) params.set(name, value);
  };
  add('q', 'filter-q');
  add('status', 'filter-status');
  add('feedback', 'filter-feedback');
  add('agent', 'filter-agent');
  add('tool', 'filter-tool');
  params.set('limit', '200');
  return params.toString();
}

async function refreshTraces() {
  try {
    const { traces } = await api(`/traces?${traceQuery()}`);
    state.traces = traces;
    renderTraces();
  } catch {
    // keep what is shown
  }
}

/** What a trace is called in the list and the timeline: the message, or what became of it. */
function traceTitle(trace) {
  const text = trace.textPreview || state.localTexts.get(trace.id) || '';
  if (trace.ignoredReason) {
    return { title: `Not answered: ${trace.ignoredReason}`, text, ignored: true };
  }
  if (text) return { title: text, text: '', ignored: false };
  if (trace.status === 'running') {
    return {
      title: trace.attempts === 0 ? 'Waiting for its turn in the conversation…' : 'Reading the message…',
      text: '',
      ignored: false,
    };
  }
  if (trace.id.startsWith('event:')) return { title: `Event ${shortId(trace.id)}`, text: '', ignored: false };
  return { title: `Message ${shortId(trace.id)}`, text: '', ignored: false };
}

function renderTraces() {
  const list = $('trace-list');
  const items = state.traces.map((trace) => {
    const { title, text, ignored } = traceTitle(trace);
    const button = el('button', { className: 'trace-button', attrs: { type: 'button' } }, [
      el('div', { className: 'trace-top' }, [
        el('span', { className: `status status-${trace.status}`, text: trace.status }),
        el('span', { className: `trace-text${ignored ? ' trace-ignored' : ''}`, text: title, title }),
      ]),
      text ? el('div', { className: 'trace-line', text }) : null,
      trace.replyPreview ? el('div', { className: 'trace-line trace-reply', text: trace.replyPreview }) : null,
      el('div', { className: 'trace-meta' }, [
        el('span', { text: timeAgo(trace.firstAt), title: new Date(trace.firstAt).toLocaleString() }),
        el('span', { text: formatMs(trace.durationMs) }),
        trace.inputTokens + trace.outputTokens > 0
          ? el('span', { text: `${formatNumber(trace.inputTokens + trace.outputTokens)} tok` })
          : null,
        trace.source ? el('span', { text: trace.source }) : null,
        // Which bot, when the process serves several.
        trace.app && trace.app !== 'default' ? el('span', { className: 'chip', text: trace.app }) : null,
        ...trace.agents.map((agent) => el('span', { className: 'chip chip-agent', text: agent })),
        ...trace.tools.map((tool) => el('span', { className: 'chip chip-tool', text: tool })),
        trace.errorCategory ? el('span', { className: 'chip chip-error', text: trace.errorCategory }) : null,
        trace.feedback
          ? el('span', {
              className: `chip chip-feedback chip-feedback-${trace.feedback}`,
              text: trace.feedback === 'up' ? '👍 liked' : '👎 disliked',
              attrs: { 'data-testid': 'trace-feedback' },
            })
          : null,
      ]),
    ]);
    button.addEventListener('click', () => selectTrace(trace.id));
    return el(
      'li',
      {
        className: `trace-item${trace.id === state.selectedTraceId ? ' selected' : ''}`,
        dataset: { traceId: trace.id, status: trace.status, ...(ignored ? { ignored: 'true' } : {}) },
      },
      [button],
    );
  });
  list.replaceChildren(...items);
  $('traces-empty').hidden = items.length > 0;
  $('trace-count').textContent = items.length > 0 ? `${items.length} shown` : '';
}

async function selectTrace(id) {
  if (state.selectedTraceId !== id) state.openSteps.clear();
  state.selectedTraceId = id;
  // A reload shows the same trace again.
  try {
    sessionStorage.setItem(SELECTED_TRACE_KEY, id);
  } catch {
    // storage refused: nothing to restore after a reload
  }
  for (const item of document.querySelectorAll('.trace-item')) {
    item.classList.toggle('selected', item.dataset.traceId === id);
  }
  selectTab('timeline');
  await refreshTimeline();
}

async function refreshTimeline() {
  const id = state.selectedTraceId;
  if (!id) return;
  try {
    const trace = await api(`/traces/${encodeURIComponent(id)}`);
    if (state.selectedTraceId === id) renderTimeline(trace);
  } catch (error) {
    if (error.status === 404 && state.selectedTraceId === id) {
      $('timeline').replaceChildren(el('p', { className: 'empty', text: 'Waiting for this trace’s first events…' }));
    }
  }
}

/** A <details> whose open state survives the timeline being redrawn. */
function keptOpen(key, className, summary, body) {
  const details = el('details', { className }, [summary, ...present(body)]);
  details.open = state.openSteps.has(key);
  details.addEventListener('toggle', () => {
    if (details.open) state.openSteps.add(key);
    else state.openSteps.delete(key);
  });
  return details;
}

function markdownBlock(text, testid) {
  const block = el('div', { className: 'markdown sent-text', dataset: testid ? { testid } : {} });
  block.append(renderMarkdown(text));
  return block;
}

/** What the bot sent: the whole answer as the card shows it, and each card it rolled over from. */
function sentSection(trace) {
  const sent = trace.sent;
  if (!sent || (sent.text === null && sent.cards.length === 0)) {
    if (trace.status !== 'running' || !trace.replyMode) return null;
    return el('section', { className: 'sent' }, [
      el('h4', { className: 'section-title', text: 'Answer' }),
      el('p', { className: 'hint', text: 'Streaming… the text shows here when the reply is sent.' }),
    ]);
  }
  const cards = sent.cards.length > 0 ? sent.cards.length + 1 : 0;
  const heading = [
    'Answer sent',
    trace.replyMode ? `as ${trace.replyMode}` : null,
    cards > 0 ? `${cards} cards` : null,
    sent.text !== null ? `${formatNumber(sent.text.length)} chars` : null,
  ]
    .filter(Boolean)
    .join(' · ');
  const cardBlocks = sent.cards.map((card) =>
    keptOpen(
      `card-${card.index}`,
      'sent-card',
      el('summary', {
        text: `Card ${card.index + 1}: full, continued in card ${card.index + 2} — ${excerpt(card.text, 80)}`,
      }),
      [markdownBlock(card.text)],
    ),
  );
  return el('section', { className: 'sent', dataset: { testid: 'sent' } }, [
    el('h4', { className: 'section-title', text: heading }),
    sent.text !== null ? markdownBlock(sent.text, 'sent-text') : null,
    ...cardBlocks,
  ]);
}

/** The expanded view of one step: every field of the event, long text as blocks, answers rendered. */
function stepDetails(event) {
  const inline = [];
  const blocks = [];
  const fields = Object.entries(event).filter(([name]) => !COMMON_FIELDS.has(name));
  if (event.type === 'tool.call') {
    blocks.push(textBlock('Arguments', event.input));
    blocks.push(textBlock(event.error ? 'Error' : 'Result', event.error || event.output));
  }
  if (event.type === 'attachment.resolved' && event.part === 'image' && event.outcome === 'ok' && event.key) {
    // Served by the authenticated devtools API (a small preview, never the original).
    const src = `${API}/traces/${encodeURIComponent(event.traceId)}/attachments/${encodeURIComponent(event.key)}`;
    blocks.push(
      el('div', { className: 'step-block' }, [
        el('div', { className: 'step-label', text: 'Preview' }),
        el('img', {
          className: 'attachment-thumb',
          attrs: { src, alt: event.name, loading: 'lazy' },
          dataset: { testid: 'attachment-thumb' },
        }),
      ]),
    );
  }
  if (event.type === 'turn.resolved') {
    blocks.push(textBlock('What reached the model', event.parts || ''));
  }
  for (const [name, value] of fields) {
    if (event.type === 'tool.call' && (name === 'input' || name === 'output' || name === 'error')) continue;
    if (event.type === 'turn.resolved' && name === 'parts') continue;
    if ((event.type === 'reply.finished' || event.type === 'reply.card') && name === 'text') {
      blocks.push(
        el('div', { className: 'step-block' }, [
          el('div', { className: 'step-label', text: 'Text sent' }),
          markdownBlock(value),
        ]),
      );
      continue;
    }
    if (LONG_FIELDS.has(name) && typeof value === 'string' && value.length > 60) blocks.push(textBlock(name, value));
    else inline.push(el('div', {}, [el('dt', { text: name }), el('dd', { text: String(value) })]));
  }
  inline.push(el('div', {}, [el('dt', { text: 'time' }), el('dd', { text: clockTime(event.at) })]));
  return el('div', { className: 'tl-details' }, [el('dl', { className: 'step-fields' }, inline), ...blocks]);
}

function textBlock(label, text) {
  return el('div', { className: 'step-block' }, [
    el('div', { className: 'step-label', text: label }),
    el('pre', { text: text ?? '' }),
  ]);
}

function renderTimeline(trace) {
  const start = trace.firstAt;
  const span = Math.max(1, trace.lastAt - start);
  const { title, text } = traceTitle(trace);
  const summaryItems = [
    ['Duration', formatMs(trace.durationMs)],
    ['Agent calls', formatNumber(trace.agentCalls)],
    ['Tool calls', formatNumber(trace.toolCalls)],
    ['Tokens in', formatNumber(trace.inputTokens)],
    ['Tokens out', formatNumber(trace.outputTokens)],
    ['Est. cost', formatCost(trace.estimatedCostUsd, trace.unpricedModels)],
    ['Attempts', formatNumber(trace.attempts)],
    ['Source', trace.source || '–'],
    ['App', trace.app || 'default'],
  ];
  const head = el('div', { className: 'timeline-head' }, [
    el('h3', { className: 'timeline-title' }, [
      el('span', { className: `status status-${trace.status}`, text: trace.status }),
      el('span', { text: title }),
    ]),
    text ? el('p', { className: 'timeline-text', text }) : null,
    el('div', { className: 'timeline-id', text: `${trace.id}${trace.chatId ? ` · chat ${trace.chatId}` : ''}` }),
    el(
      'dl',
      { className: 'summary-grid' },
      summaryItems.map(([label, value]) => el('div', {}, [el('dt', { text: label }), el('dd', { text: value })])),
    ),
    trace.error || trace.notice || trace.errorCategory
      ? el('p', {
          className: 'failure',
          dataset: { testid: 'trace-failure' },
          text: [trace.errorCategory, trace.error, trace.notice].filter(Boolean).join(' · '),
        })
      : null,
  ]);

  const rows = trace.events.map((event) => {
    const { title: stepTitle, sub } = describe(event);
    const summary = el('summary', { className: 'tl-summary', title: 'Show the details of this step' }, [
      el('span', { className: 'tl-offset', text: `+${formatMs(event.at - start)}` }),
      el('div', { className: 'tl-main' }, [
        el('div', { className: 'tl-title' }, [
          el('span', { className: `type type-${event.type.split('.')[0]}`, text: event.type }),
          el('span', { text: stepTitle }),
        ]),
        sub ? el('div', { className: 'tl-sub', text: sub }) : null,
      ]),
      waterfallBar(event, start, span),
    ]);
    return el(
      'li',
      {
        className: `tl-row${isErrorEvent(event) ? ' tl-error' : ''}`,
        dataset: {
          type: event.type,
          seq: event.seq,
          ...(event.agent ? { agent: event.agent } : {}),
          ...(event.tool ? { tool: event.tool } : {}),
        },
      },
      [keptOpen(`step-${event.seq}`, 'tl-step', summary, [stepDetails(event)])],
    );
  });
  if (trace.droppedEvents > 0) {
    rows.push(el('li', { className: 'empty', text: `${trace.droppedEvents} later events not kept (per-trace cap)` }));
  }
  $('timeline').replaceChildren(...present([head, sentSection(trace), el('ol', { className: 'tl-list' }, rows)]));
}

/** A bar spanning the step's duration (agent and tool calls) or a dot for an instant event. */
function waterfallBar(event, start, span) {
  const width = 1_000;
  const end = ((event.at - start) / span) * width;
  const track = svg('rect', { class: 'track', x: 0, y: 6, width, height: 2, rx: 1 });
  let mark;
  const duration =
    event.type === 'agent.call' || event.type === 'tool.call'
      ? event.latencyMs
      : event.type === 'job.finished'
        ? event.durationMs
        : 0;
  if (duration > 0) {
    const from = Math.max(0, end - (duration / span) * width);
    const kind = isErrorEvent(event)
      ? 'error'
      : event.type.startsWith('agent')
        ? 'agent'
        : event.type.startsWith('tool')
          ? 'tool'
          : 'job';
    mark = svg('rect', { class: `bar-${kind}`, x: from, y: 2, width: Math.max(4, end - from), height: 10, rx: 2 });
  } else {
    mark = svg('circle', {
      class: isErrorEvent(event) ? 'bar-error' : 'bar-dot',
      cx: Math.min(width - 5, Math.max(5, end)),
      cy: 7,
      r: 5,
    });
  }
  return svg(
    'svg',
    { class: 'tl-bar', viewBox: `0 0 ${width} 14`, preserveAspectRatio: 'none', 'aria-hidden': 'true' },
    [track, mark],
  );
}

// ── live feed ────────────────────────────────────────────────────────────────

let stream = null;

function connectLive() {
  if (stream) stream.close();
  const query = state.lastSeq > 0 ? `?after=${state.lastSeq}` : '';
  stream = new EventSource(`${API}/stream${query}`);
  stream.addEventListener('open', () => setLive(true));
  stream.addEventListener('error', () => setLive(false));
  stream.addEventListener('hello', () => setLive(true));
  stream.addEventListener('bot-event', (message) => {
    const event = JSON.parse(message.data);
    if (event.seq <= state.lastSeq) return;
    state.lastSeq = event.seq;
    onBotEvent(event);
  });
  stream.addEventListener('dropped', () => {
    // The server dropped us for falling behind: reconnect and catch up from the ring.
    setTimeout(connectLive, 500);
  });
}

function setLive(on) {
  const indicator = $('live-indicator');
  indicator.classList.toggle('live-on', on);
  indicator.classList.toggle('live-off', !on);
  indicator.textContent = on ? 'live' : 'reconnecting…';
}

const refreshTracesSoon = throttle(() => {
  refreshTraces();
  refreshStats();
}, 700);
const refreshTimelineSoon = throttle(() => refreshTimeline(), 400);
const refreshHealthSoon = throttle(() => {
  if (!$('tab-health').hidden) health.refresh();
}, 1_000);

function onBotEvent(event) {
  addFeedRow(event, true);
  if (event.traceId) refreshTracesSoon();
  if (event.traceId && event.traceId === state.selectedTraceId) refreshTimelineSoon();
  if (event.type === 'agent.call') refreshHealthSoon();
}

function feedMatches(event, needle) {
  if (!needle) return true;
  return JSON.stringify(event).toLowerCase().includes(needle);
}

function addFeedRow(event, fresh) {
  if (state.feedPaused && fresh) return;
  const needle = $('feed-filter').value.trim().toLowerCase();
  if (!feedMatches(event, needle)) return;
  const { title, sub } = describe(event);
  const text = el('span', { className: 'feed-text', title: sub ? `${title}\n${sub}` : title });
  if (event.traceId) {
    text.append(
      el('button', {
        className: 'feed-trace',
        text: shortId(event.traceId),
        title: event.traceId,
        attrs: { type: 'button' },
        onClick: () => selectTrace(event.traceId),
      }),
    );
  }
  text.append(document.createTextNode(sub ? `${title} — ${sub}` : title));
  const row = el('li', { className: `feed-row${fresh ? ' new' : ''}`, dataset: { type: event.type, seq: event.seq } }, [
    el('span', { className: 'feed-time', text: clockTime(event.at) }),
    el('span', {}, [el('span', { className: `type type-${event.type.split('.')[0]}`, text: event.type })]),
    text,
  ]);
  const feed = $('feed');
  feed.prepend(row);
  while (feed.childElementCount > FEED_MAX_ROWS) feed.lastElementChild.remove();
}

async function loadFeedHistory() {
  try {
    const page = await api('/events?limit=100');
    state.lastSeq = Math.max(state.lastSeq, page.latestSeq);
    for (const event of [...page.events].reverse()) addFeedRow(event, false);
  } catch {
    // the live stream fills it
  }
}

// ── dead letters ─────────────────────────────────────────────────────────────

async function refreshDeadLetters() {
  const container = $('dead-letters');
  let jobs;
  try {
    ({ jobs } = await api('/dead-letters?limit=100'));
  } catch (error) {
    container.replaceChildren(el('p', { className: 'empty', text: `Could not load dead letters: ${error.message}` }));
    return;
  }
  const count = $('dead-count');
  count.hidden = jobs.length === 0;
  count.textContent = String(jobs.length);
  if (jobs.length === 0) {
    container.replaceChildren(
      el('p', { className: 'empty', text: 'No dead letters. Every job finished or is still retrying.' }),
    );
    return;
  }
  const rows = jobs.map((job) => {
    const retry = el('button', {
      className: 'button-quiet',
      text: 'Retry',
      attrs: { type: 'button' },
      dataset: { jobId: job.id },
    });
    retry.addEventListener('click', async () => {
      retry.disabled = true;
      retry.textContent = 'Retrying…';
      try {
        await api(`/dead-letters/${encodeURIComponent(job.id)}/retry`, { method: 'POST', body: '{}' });
        retry.textContent = 'Queued';
        setTimeout(refreshDeadLetters, 800);
      } catch (error) {
        retry.disabled = false;
        retry.textContent = 'Retry';
        $('banner').textContent = `Retry failed: ${error.message}`;
        $('banner').hidden = false;
      }
    });
    return el('tr', {}, [
      el('td', { className: 'wrap' }, [el('code', { text: job.id })]),
      el('td', { className: 'wrap', text: job.preview ?? '–' }),
      el('td', { className: 'num', text: job.attempts }),
      el('td', { className: 'wrap', text: job.lastError ?? '–' }),
      el('td', { text: timeAgo(job.updatedAt) }),
      el('td', {}, [retry]),
    ]);
  });
  container.replaceChildren(
    el('table', { className: 'dead-table' }, [
      el('thead', {}, [
        el(
          'tr',
          {},
          ['Job', 'Message', 'Attempts', 'Last error', 'Failed', ''].map((label) => el('th', { text: label })),
        ),
      ]),
      el('tbody', {}, rows),
    ]),
  );
}

// ── start ────────────────────────────────────────────────────────────────────

const chats = createChatsView();
const spend = createSpendView();
const health = createHealthView({
  playgroundStatus: () => state.playgroundStatus,
  stats: () => state.stats,
  onStatus: (status, text, agent) => {
    setHealthPill(status, text);
    state.healthAgent = agent;
    renderAgentPill();
  },
});

const playground = createPlaygroundView({
  onSent: (traceId, text) => {
    rememberText(traceId, text);
    selectTrace(traceId);
    refreshTracesSoon();
  },
  onRestored: (traceId, text) => rememberText(traceId, text),
  onEnded: (traceId) => {
    if (traceId && state.selectedTraceId === traceId) refreshTimelineSoon();
  },
});

function wire() {
  for (const tab of document.querySelectorAll('.tab')) tab.addEventListener('click', () => selectTab(tab.dataset.tab));

  const refreshFiltered = throttle(refreshTraces, 250);
  for (const id of ['filter-q', 'filter-agent', 'filter-tool']) $(id).addEventListener('input', refreshFiltered);
  $('filter-status').addEventListener('change', refreshTraces);
  $('filter-feedback').addEventListener('change', refreshTraces);
  $('trace-filters').addEventListener('submit', (event) => event.preventDefault());

  $('feed-pause').addEventListener('click', () => {
    state.feedPaused = !state.feedPaused;
    $('feed-pause').textContent = state.feedPaused ? 'Resume' : 'Pause';
    $('feed-pause').setAttribute('aria-pressed', String(state.feedPaused));
  });
  $('feed-clear').addEventListener('click', () => $('feed').replaceChildren());
  $('feed-filter').addEventListener('input', () => {
    // Re-filter what is shown from the ring rather than keeping a second copy in the page.
    $('feed').replaceChildren();
    loadFeedHistory();
  });
  $('dead-refresh').addEventListener('click', refreshDeadLetters);
}

async function main() {
  wire();
  await Promise.all([
    refreshPlaygroundStatus(),
    refreshStats(),
    refreshTraces(),
    loadFeedHistory(),
    health.refresh(),
    refreshDeadLetters(),
  ]);
  connectLive();
  let selected = null;
  try {
    selected = sessionStorage.getItem(SELECTED_TRACE_KEY);
  } catch {
    selected = null;
  }
  const known = state.traces.some((trace) => trace.id === selected);
  if (selected && known && !state.selectedTraceId) selectTrace(selected);
  setInterval(health.refresh, HEALTH_POLL_MS);
  setInterval(refreshDeadLetters, DEAD_POLL_MS);
  // Relative times ("12s ago") age even when nothing happens.
  setInterval(renderTraces, 10_000);
}

main();
