// Bot devtools UI: plain ES module, no framework, no build step.
// Every piece of data (chat text, tool arguments, errors) is rendered with textContent: the
// page never parses server or user data as HTML. The app's CSP forbids inline scripts and styles.

const API = '/devtools/api';
const SVG_NS = 'http://www.w3.org/2000/svg';
const HEALTH_POLL_MS = 3_000;
const HEALTH_HISTORY = 120; // samples kept for the charts (6 minutes at 3 s)
const FEED_MAX_ROWS = 300;
const DEAD_POLL_MS = 15_000;

const state = {
  selectedTraceId: null,
  traces: [],
  lastSeq: 0,
  feedPaused: false,
  healthHistory: [], // [{ at, status, agents: { name: { avg, p95, calls, errors } } }]
  sessionId: loadSessionId(),
  chatStreams: new Set(),
};

// ── tiny DOM helpers (text only) ─────────────────────────────────────────────

/** Creates an element; `text` goes through textContent, never innerHTML. */
function el(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.text !== undefined && options.text !== null) node.textContent = String(options.text);
  if (options.title) node.title = String(options.title);
  if (options.attrs) for (const [name, value] of Object.entries(options.attrs)) node.setAttribute(name, String(value));
  if (options.dataset) for (const [name, value] of Object.entries(options.dataset)) node.dataset[name] = String(value);
  if (options.onClick) node.addEventListener('click', options.onClick);
  for (const child of children) if (child) node.append(child);
  return node;
}

function svg(tag, attrs = {}, children = []) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  for (const child of children) if (child) node.append(child);
  return node;
}

const $ = (id) => document.getElementById(id);

// ── formatting ───────────────────────────────────────────────────────────────

function formatMs(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '–';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} m ${Math.round((ms % 60_000) / 1_000)} s`;
}

function formatNumber(value) {
  if (value === null || value === undefined) return '–';
  if (value >= 1_000_000) return `${(value / 1_000_000).toFixed(1)}M`;
  if (value >= 10_000) return `${(value / 1_000).toFixed(1)}k`;
  return value.toLocaleString('en-US');
}

function formatCost(usd, unpriced = []) {
  if (!usd && unpriced.length > 0) return 'unknown';
  if (!usd) return '$0';
  if (usd < 0.01) return `$${usd.toFixed(5)}`;
  return `$${usd.toFixed(3)}`;
}

function formatPercent(rate) {
  if (rate === null || rate === undefined || Number.isNaN(rate)) return '–';
  return `${(rate * 100).toFixed(rate > 0 && rate < 0.1 ? 1 : 0)}%`;
}

function clockTime(at) {
  const date = new Date(at);
  const pad = (value, length = 2) => String(value).padStart(length, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

function timeAgo(at) {
  const seconds = Math.max(0, Math.round((Date.now() - at) / 1_000));
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3_600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3_600)}h ago`;
  return new Date(at).toLocaleDateString();
}

function shortId(id) {
  if (!id) return '';
  const tail = id.includes(':') ? id.slice(id.indexOf(':') + 1) : id;
  return tail.length > 14 ? `…${tail.slice(-10)}` : tail;
}

function typeClass(type) {
  return `type type-${type.split('.')[0]}`;
}

/** One line describing an event, for the live feed and the timeline. */
function describe(event) {
  switch (event.type) {
    case 'event.received':
      return { title: `${event.eventType} via ${event.source}`, sub: `event ${event.eventId}` };
    case 'event.duplicate':
      return { title: `Duplicate delivery (same ${event.key})`, sub: `via ${event.source}` };
    case 'event.rejected':
      return { title: `Rejected ${event.status}: ${event.reason}`, sub: `via ${event.source}` };
    case 'job.queued':
      return { title: `Queued as ${event.kind}`, sub: `lane ${event.lane}` };
    case 'job.started':
      return { title: `Job started (attempt ${event.attempt})`, sub: `lane ${event.lane}` };
    case 'job.finished':
      return { title: `Job ${event.outcome} after ${formatMs(event.durationMs)}`, sub: event.error || '' };
    case 'job.busy':
      return { title: `Backlog full (${event.backlog}): busy notice`, sub: '' };
    case 'message.received':
      return {
        title: event.text,
        sub: `${event.chatType} · chat ${event.chatId} · user ${event.userName ? `${event.userName} (${event.userId})` : event.userId}`,
      };
    case 'message.ignored':
      return { title: `Ignored: ${event.reason}`, sub: '' };
    case 'agent.call':
      return {
        title: `${event.agent} → ${event.model}${event.outcome === 'error' ? ` failed (${event.errorCategory || 'OTHER'})` : ''}`,
        sub: `${formatMs(event.latencyMs)} · ${formatNumber(event.inputTokens)} in / ${formatNumber(event.outputTokens)} out tokens`,
      };
    case 'agent.delegation':
      return { title: `${event.from} delegates to ${event.to}`, sub: event.task };
    case 'tool.call':
      return {
        title: `${event.agent} calls ${event.tool}${event.error ? ` (failed: ${event.errorCategory || 'OTHER'})` : ''}`,
        sub: [
          formatMs(event.latencyMs),
          event.identity
            ? `as ${event.identity === 'user' ? 'the user' : event.identity === 'tenant' ? 'the app' : 'no identity'}`
            : '',
          event.resultChars === undefined
            ? ''
            : `${formatNumber(event.resultChars)} chars${event.truncated ? ' (truncated)' : ''}`,
          event.error || '',
        ]
          .filter(Boolean)
          .join(' · '),
      };
    case 'model.fallback':
      return { title: `Fallback ${event.from} → ${event.to}`, sub: `because ${event.reason}` };
    case 'model.rate-limit':
      return {
        title: `Rate limited on ${event.model}`,
        sub: [
          event.retryAfterMs !== undefined ? `retry after ${formatMs(event.retryAfterMs)}` : '',
          event.remaining !== undefined ? `${event.remaining} remaining` : '',
        ]
          .filter(Boolean)
          .join(' · '),
      };
    case 'reply.started':
      return { title: `Reply started (${event.mode})`, sub: event.cardId ? `card ${event.cardId}` : '' };
    case 'reply.update':
      return { title: `Card update #${event.sequence}`, sub: `${formatNumber(event.length)} chars` };
    case 'reply.finished':
      return {
        title: `Reply finished (${event.mode}, ${formatNumber(event.length)} chars, ${event.cards} card${event.cards === 1 ? '' : 's'})`,
        sub: event.notice || '',
      };
    case 'feishu.api':
      return {
        title: `Feishu ${event.api}: ${event.outcome}`,
        sub: `${formatMs(event.latencyMs)}${event.code !== undefined ? ` · code ${event.code}` : ''}`,
      };
    case 'feishu.connection':
      return { title: `Feishu connection ${event.state}`, sub: `${event.reconnects} reconnects` };
    case 'error':
      return { title: `${event.category} in ${event.where}`, sub: event.message };
    case 'process.error':
      return { title: `Process ${event.kind}`, sub: event.message };
    default:
      return { title: event.type, sub: '' };
  }
}

function isErrorEvent(event) {
  return (
    event.type === 'error' ||
    event.type === 'process.error' ||
    (event.type === 'agent.call' && event.outcome === 'error') ||
    (event.type === 'tool.call' && Boolean(event.error)) ||
    (event.type === 'job.finished' && (event.outcome === 'dead' || event.outcome === 'retry'))
  );
}

// ── API ──────────────────────────────────────────────────────────────────────

async function api(path, options = {}) {
  const response = await fetch(`${API}${path}`, {
    ...options,
    headers: { Accept: 'application/json', ...(options.body ? { 'Content-Type': 'application/json' } : {}) },
    credentials: 'same-origin',
  });
  if (response.status === 401)
    showBanner('Not authorised: open /devtools from this machine or log in with DEVTOOLS_TOKEN.');
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const error = new Error(body?.message || body?.error || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

function showBanner(text) {
  const banner = $('banner');
  banner.textContent = text;
  banner.hidden = false;
}

/** Runs `fn` at most once per `ms`, trailing call included. */
function throttle(fn, ms) {
  let timer = null;
  let pending = false;
  return () => {
    if (timer) {
      pending = true;
      return;
    }
    fn();
    timer = setTimeout(() => {
      timer = null;
      if (pending) {
        pending = false;
        fn();
      }
    }, ms);
  };
}

// ── tabs ─────────────────────────────────────────────────────────────────────

function selectTab(name) {
  for (const tab of document.querySelectorAll('.tab')) {
    tab.setAttribute('aria-selected', String(tab.dataset.tab === name));
  }
  for (const panel of document.querySelectorAll('.tab-panel')) panel.hidden = panel.id !== `tab-${name}`;
  if (name === 'dead') refreshDeadLetters();
}

// ── stats (top bar) ──────────────────────────────────────────────────────────

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

// ── traces ───────────────────────────────────────────────────────────────────

function traceQuery() {
  const params = new URLSearchParams();
  const add = (name, id) => {
    const value = $(id).value.trim();
    if (value) params.set(name, value);
  };
  add('q', 'filter-q');
  add('status', 'filter-status');
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

function renderTraces() {
  const list = $('trace-list');
  const items = state.traces.map((trace) => {
    const button = el('button', { className: 'trace-button', attrs: { type: 'button' } }, [
      el('div', { className: 'trace-top' }, [
        el('span', { className: `status status-${trace.status}`, text: trace.status }),
        el('span', { className: 'trace-text', text: trace.textPreview || trace.ignoredReason || trace.id }),
      ]),
      el('div', { className: 'trace-meta' }, [
        el('span', { text: timeAgo(trace.firstAt), title: new Date(trace.firstAt).toLocaleString() }),
        el('span', { text: formatMs(trace.durationMs) }),
        trace.inputTokens + trace.outputTokens > 0
          ? el('span', { text: `${formatNumber(trace.inputTokens + trace.outputTokens)} tok` })
          : null,
        trace.source ? el('span', { text: trace.source }) : null,
        ...trace.agents.map((agent) => el('span', { className: 'chip chip-agent', text: agent })),
        ...trace.tools.map((tool) => el('span', { className: 'chip chip-tool', text: tool })),
        trace.errorCategory ? el('span', { className: 'chip chip-error', text: trace.errorCategory }) : null,
      ]),
    ]);
    button.addEventListener('click', () => selectTrace(trace.id));
    return el(
      'li',
      {
        className: `trace-item${trace.id === state.selectedTraceId ? ' selected' : ''}`,
        dataset: { traceId: trace.id, status: trace.status },
      },
      [button],
    );
  });
  list.replaceChildren(...items);
  $('traces-empty').hidden = items.length > 0;
  $('trace-count').textContent = items.length > 0 ? `${items.length} shown` : '';
}

async function selectTrace(id) {
  state.selectedTraceId = id;
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

function renderTimeline(trace) {
  const start = trace.firstAt;
  const span = Math.max(1, trace.lastAt - start);
  const summaryItems = [
    ['Duration', formatMs(trace.durationMs)],
    ['Agent calls', formatNumber(trace.agentCalls)],
    ['Tool calls', formatNumber(trace.toolCalls)],
    ['Tokens in', formatNumber(trace.inputTokens)],
    ['Tokens out', formatNumber(trace.outputTokens)],
    ['Est. cost', formatCost(trace.estimatedCostUsd, trace.unpricedModels)],
    ['Attempts', formatNumber(trace.attempts)],
    ['Source', trace.source || '–'],
  ];
  const head = el('div', { className: 'timeline-head' }, [
    el('h3', { className: 'timeline-title' }, [
      el('span', { className: `status status-${trace.status}`, text: trace.status }),
      el('span', { text: trace.textPreview || 'Trace' }),
    ]),
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
    const { title, sub } = describe(event);
    const details = [];
    if (event.type === 'tool.call') {
      details.push(detailsBlock('Arguments', event.input));
      details.push(detailsBlock(event.error ? 'Error' : 'Result', event.error || event.output));
    }
    return el(
      'li',
      {
        className: `tl-row${isErrorEvent(event) ? ' tl-error' : ''}`,
        dataset: {
          type: event.type,
          ...(event.agent ? { agent: event.agent } : {}),
          ...(event.tool ? { tool: event.tool } : {}),
        },
      },
      [
        el('span', { className: 'tl-offset', text: `+${formatMs(event.at - start)}` }),
        el('span', {}, [el('span', { className: typeClass(event.type), text: event.type })]),
        el('div', { className: 'tl-main' }, [
          el('div', { className: 'tl-title', text: title }),
          sub ? el('div', { className: 'tl-sub', text: sub }) : null,
          ...details,
        ]),
        waterfallBar(event, start, span),
      ],
    );
  });
  if (trace.droppedEvents > 0) {
    rows.push(el('li', { className: 'empty', text: `${trace.droppedEvents} later events not kept (per-trace cap)` }));
  }
  $('timeline').replaceChildren(head, el('ol', { className: 'tl-list' }, rows));
}

function detailsBlock(label, text) {
  return el('details', {}, [el('summary', { text: label }), el('pre', { text: text ?? '' })]);
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
  const bar = svg(
    'svg',
    { class: 'tl-bar', viewBox: `0 0 ${width} 14`, preserveAspectRatio: 'none', 'aria-hidden': 'true' },
    [track, mark],
  );
  return bar;
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

function onBotEvent(event) {
  addFeedRow(event, true);
  if (event.traceId) refreshTracesSoon();
  if (event.traceId && event.traceId === state.selectedTraceId) refreshTimelineSoon();
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
    el('span', {}, [el('span', { className: typeClass(event.type), text: event.type })]),
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

// ── health ───────────────────────────────────────────────────────────────────

async function refreshHealth() {
  let health;
  try {
    health = await api('/health');
  } catch {
    setPill('unknown', 'unreachable');
    return;
  }
  const status = health?.status || 'unknown';
  setPill(status, status);
  const sample = { at: Date.now(), status, agents: {} };
  for (const [name, agent] of Object.entries(health?.agents || {})) {
    sample.agents[name] = {
      avg: agent.avgLatency || 0,
      p95: agent.p95Latency || 0,
      calls: agent.callCount || 0,
      errors: agent.errorCount || 0,
    };
  }
  state.healthHistory.push(sample);
  if (state.healthHistory.length > HEALTH_HISTORY) state.healthHistory.shift();
  renderHealth(health);
}

function setPill(status, text) {
  const pill = $('health-pill');
  pill.className = `pill pill-${['healthy', 'degraded', 'unhealthy'].includes(status) ? status : 'unknown'}`;
  pill.textContent = text;
}

function renderHealth(health) {
  const container = $('health');
  const status = health?.status || 'unknown';
  const errors = health?.errors || {};
  const top = el('div', { className: 'health-top' }, [
    el('span', { className: `pill pill-${status}`, text: status }),
    el('span', { className: 'hint', text: `uptime ${formatMs((health?.uptime || 0) * 1_000)}` }),
    el('span', { className: 'hint', text: `window ${health?.window?.seconds ?? '–'} s` }),
    el('span', { className: 'hint', text: `updated ${clockTime(Date.now())}` }),
  ]);

  const strip = svg('svg', {
    class: 'status-strip',
    viewBox: `0 0 ${HEALTH_HISTORY} 10`,
    preserveAspectRatio: 'none',
    'aria-label': 'status history',
  });
  const offset = HEALTH_HISTORY - state.healthHistory.length;
  state.healthHistory.forEach((sample, index) => {
    strip.append(svg('rect', { class: `strip-${sample.status}`, x: offset + index, y: 0, width: 0.9, height: 10 }));
  });

  const errorRows = [
    ['Total', errors.total],
    ['Rate limits', errors.rateLimits],
    ['Timeouts', errors.timeouts],
    ['Other', errors.other],
    ...Object.entries(errors.byCategory || {}).map(([category, count]) => [category, count]),
  ];
  const errorTable = el('table', { className: 'error-table' }, [
    el('thead', {}, [
      el('tr', {}, [el('th', { text: 'Errors in window' }), el('th', { className: 'num', text: 'Count' })]),
    ]),
    el(
      'tbody',
      {},
      errorRows.map(([label, count]) =>
        el('tr', {}, [el('td', { text: label }), el('td', { className: 'num', text: count ?? 0 })]),
      ),
    ),
  ]);

  const agents = Object.entries(health?.agents || {});
  const trackerAgents = state.stats?.agents || {};
  const cards = agents.map(([name, agent]) => agentCard(name, agent, trackerAgents[name]));
  const lastError = health?.lastError
    ? el('p', {
        className: 'failure',
        text: `Last error: ${health.lastError.category} · ${health.lastError.message} · ${health.lastError.timestamp}`,
      })
    : null;

  container.replaceChildren(
    top,
    el('div', {}, [el('h4', { className: 'section-title', text: 'Status history' }), strip]),
    lastError,
    el('div', {}, [
      el('h4', { className: 'section-title', text: 'Agents' }),
      cards.length > 0
        ? el('div', { className: 'card-grid' }, cards)
        : el('p', { className: 'hint', text: 'No agent calls in the window yet.' }),
    ]),
    errorTable,
  );
}

function agentCard(name, agent, trackerAgent) {
  const rate = agent.callCount > 0 ? agent.errorCount / agent.callCount : 0;
  const history = state.healthHistory.map((sample) => sample.agents[name] || { avg: 0, p95: 0, calls: 0, errors: 0 });
  return el('article', { className: 'card', dataset: { agent: name } }, [
    el('h3', {}, [
      el('span', { text: name }),
      el('span', { className: 'hint', text: agent.lastCall ? `last ${timeAgo(Date.parse(agent.lastCall))}` : '' }),
    ]),
    el('dl', {}, [
      el('div', {}, [el('dt', { text: 'Calls' }), el('dd', { text: formatNumber(agent.callCount) })]),
      el('div', {}, [
        el('dt', { text: 'Errors' }),
        el('dd', { text: `${formatNumber(agent.errorCount)} (${formatPercent(rate)})` }),
      ]),
      el('div', {}, [
        el('dt', { text: 'Avg / p95' }),
        el('dd', { text: `${formatMs(agent.avgLatency)} / ${formatMs(agent.p95Latency)}` }),
      ]),
    ]),
    latencyChart(history),
    el('div', { className: 'chart-legend' }, [
      el('span', { className: 'legend-latency', text: 'latency (avg, p95 dashed)' }),
      el('span', { className: 'legend-errors', text: 'error rate' }),
      trackerAgent
        ? el('span', { text: `${formatNumber(trackerAgent.inputTokens + trackerAgent.outputTokens)} tok since start` })
        : null,
    ]),
  ]);
}

/** Latency lines and an error-rate area over the polled window, as a tiny inline SVG. */
function latencyChart(history) {
  const width = 300;
  const height = 48;
  const chart = svg('svg', {
    class: 'chart',
    viewBox: `0 0 ${width} ${height}`,
    preserveAspectRatio: 'none',
    role: 'img',
    'aria-label': 'latency and error rate over time',
  });
  chart.append(svg('line', { class: 'grid-line', x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5 }));
  if (history.length < 2) return chart;
  const maxLatency = Math.max(1, ...history.map((point) => Math.max(point.avg, point.p95)));
  const x = (index) =>
    (index / (HEALTH_HISTORY - 1)) * width + (width * (HEALTH_HISTORY - history.length)) / (HEALTH_HISTORY - 1);
  const y = (value) => height - 2 - (value / maxLatency) * (height - 6);
  const errorY = (point) => height - (point.calls > 0 ? (point.errors / point.calls) * (height - 4) : 0);
  const area = [
    `${x(0)},${height}`,
    ...history.map((point, index) => `${x(index)},${errorY(point)}`),
    `${x(history.length - 1)},${height}`,
  ];
  chart.append(svg('polygon', { class: 'area-errors', points: area.join(' ') }));
  chart.append(
    svg('polyline', {
      class: 'line-p95',
      points: history.map((point, index) => `${x(index)},${y(point.p95)}`).join(' '),
    }),
  );
  chart.append(
    svg('polyline', {
      class: 'line-latency',
      points: history.map((point, index) => `${x(index)},${y(point.avg)}`).join(' '),
    }),
  );
  return chart;
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
        showBanner(`Retry failed: ${error.message}`);
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

// ── playground ───────────────────────────────────────────────────────────────

/** 8 random hex digits. crypto.randomUUID needs a secure context, which plain http to a remote host is not. */
function randomHex() {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

function loadSessionId() {
  let id = sessionStorage.getItem('devtools-session');
  if (!id) {
    id = `web-${randomHex()}`;
    sessionStorage.setItem('devtools-session', id);
  }
  return id;
}

function newSession() {
  state.sessionId = `web-${randomHex()}`;
  sessionStorage.setItem('devtools-session', state.sessionId);
  $('session-id').textContent = state.sessionId;
  for (const source of state.chatStreams) source.close();
  state.chatStreams.clear();
  $('chat-log').replaceChildren(
    el('p', { className: 'empty', id: 'chat-empty', text: 'New session. Say something to the bot.' }),
  );
}

function appendChat(node) {
  const log = $('chat-log');
  log.querySelector('.empty')?.remove();
  log.append(node);
  log.scrollTop = log.scrollHeight;
}

async function sendChat(text) {
  appendChat(el('div', { className: 'message message-user', dataset: { testid: 'user-message' }, text }));
  const textNode = el('div', { className: 'message-text' }, [
    el('span', { className: 'typing', attrs: { 'aria-label': 'thinking' } }, [el('span'), el('span'), el('span')]),
  ]);
  const meta = el('div', { className: 'message-meta' });
  const bubble = el(
    'div',
    { className: 'message message-bot streaming', dataset: { testid: 'bot-message', state: 'waiting' } },
    [textNode, meta],
  );
  appendChat(bubble);

  let traceId;
  try {
    ({ traceId } = await api('/chat', { method: 'POST', body: JSON.stringify({ text, sessionId: state.sessionId }) }));
  } catch (error) {
    finishBubble(bubble, textNode, meta, { type: 'fail', text: '', detail: `Not sent: ${error.message}` });
    return;
  }
  bubble.dataset.traceId = traceId;
  meta.append(
    el('button', {
      className: 'link-button',
      text: 'view trace',
      attrs: { type: 'button' },
      onClick: () => selectTrace(traceId),
    }),
  );
  selectTrace(traceId);
  refreshTracesSoon();
  followAnswer(traceId, bubble, textNode, meta);
}

function followAnswer(traceId, bubble, textNode, meta) {
  const source = new EventSource(`${API}/chat/${encodeURIComponent(traceId)}/stream`);
  state.chatStreams.add(source);
  const close = () => {
    source.close();
    state.chatStreams.delete(source);
  };
  const onUpdate = (message) => {
    const update = JSON.parse(message.data);
    if (update.type === 'start') {
      bubble.dataset.state = 'started';
      return;
    }
    if (update.type === 'update') {
      bubble.dataset.state = 'streaming';
      textNode.textContent = update.text;
      $('chat-log').scrollTop = $('chat-log').scrollHeight;
      return;
    }
    close();
    finishBubble(bubble, textNode, meta, update);
  };
  for (const type of ['start', 'update', 'finish', 'fail']) source.addEventListener(type, onUpdate);
}

function finishBubble(bubble, textNode, meta, update) {
  bubble.classList.remove('streaming');
  bubble.dataset.state = update.type === 'finish' ? 'finished' : 'failed';
  if (update.type === 'fail') bubble.classList.add('failed');
  textNode.textContent = update.text || (update.type === 'fail' ? '' : '(empty answer)');
  if (update.detail) {
    if (update.type === 'fail')
      bubble.insertBefore(el('div', { className: 'message-notice', text: update.detail }), meta);
    else meta.prepend(el('span', { text: update.detail }));
  }
  if (state.selectedTraceId === bubble.dataset.traceId) refreshTimelineSoon();
}

// ── start ────────────────────────────────────────────────────────────────────

function wire() {
  $('session-id').textContent = state.sessionId;
  for (const tab of document.querySelectorAll('.tab')) tab.addEventListener('click', () => selectTab(tab.dataset.tab));

  const form = $('chat-form');
  const input = $('chat-input');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    input.value = '';
    sendChat(text);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  $('new-session').addEventListener('click', newSession);

  const refreshFiltered = throttle(refreshTraces, 250);
  for (const id of ['filter-q', 'filter-agent', 'filter-tool']) $(id).addEventListener('input', refreshFiltered);
  $('filter-status').addEventListener('change', refreshTraces);
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
  await Promise.all([refreshStats(), refreshTraces(), loadFeedHistory(), refreshHealth(), refreshDeadLetters()]);
  connectLive();
  setInterval(refreshHealth, HEALTH_POLL_MS);
  setInterval(refreshDeadLetters, DEAD_POLL_MS);
  // Relative times ("12s ago") age even when nothing happens.
  setInterval(renderTraces, 10_000);
}

main();
