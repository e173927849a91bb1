// The Health tab: GET /health's snapshot (polled), each component's state (agent, Feishu, store,
// Redis, MCP servers, deliveries, rate limits, concurrency limits and breakers, process, readiness checks), per-agent charts of the recent calls
// (from the event ring, so they show the first call at once and survive a reload), and the errors
// of the window, one row per category. Fields /health does not have (yet) are left out, never
// shown as "null".

import { api } from './api.js';
import { $, clockTime, el, formatMs, formatNumber, formatPercent, present, show, svg, timeAgo } from './dom.js';

const HISTORY = 120; // status samples kept for the strip (6 minutes at 3 s)
const CALLS_PER_CHART = 60;
const STATUSES = ['healthy', 'degraded', 'unhealthy'];

/** CSS tone of a component state. */
function tone(state) {
  if (state === 'ok' || state === 'connected' || state === 'signed' || state === 'healthy' || state === 'ready')
    return 'healthy';
  if (
    state === 'degraded' ||
    state === 'unsigned' ||
    state === 'connecting' ||
    state === 'reconnecting' ||
    state === 'restarting'
  )
    return 'degraded';
  if (state === 'down' || state === 'failed' || state === 'unhealthy' || state === 'refused') return 'unhealthy';
  if (state === 'off') return 'off';
  return 'unknown';
}

function badge(state, label = state) {
  return el('span', { className: `pill pill-${tone(state)}`, text: show(label) });
}

/** One component card: a title, its state, and label/value lines (missing values are left out). */
function componentCard(name, title, state, lines, note) {
  const rows = lines
    .filter(([, value]) => value !== null && value !== undefined && value !== '')
    .map(([label, value]) => el('div', {}, [el('dt', { text: label }), el('dd', { text: show(value) })]));
  return el('article', { className: 'component', dataset: { component: name, state: show(state) } }, [
    el('h3', {}, [el('span', { text: title }), badge(state)]),
    rows.length > 0 ? el('dl', {}, rows) : null,
    note ? el('p', { className: 'component-note', text: note }) : null,
  ]);
}

function agentComponent(health, fallback) {
  const agent = health.agent;
  const calls = health.calls;
  const figures = [
    ['Calls in window', calls ? `${formatNumber(calls.total)} (${formatNumber(calls.errors)} failed)` : null],
    ['p95 latency', calls && calls.total > 0 ? formatMs(calls.p95Latency) : null],
  ];
  if (agent && typeof agent.state === 'string') {
    return componentCard(
      'agent',
      'Agent',
      agent.state,
      [['Models', Array.isArray(agent.models) ? agent.models.join(' → ') : null], ...figures],
      agent.reason,
    );
  }
  // /health without an agent field: what the playground route knows.
  if (fallback === null) return componentCard('agent', 'Agent', 'unknown', figures);
  return componentCard('agent', 'Agent', fallback.answering ? 'ok' : 'off', figures, fallback.message);
}

function feishuComponent(feishu) {
  if (!feishu) return null;
  const longConnection = feishu.longConnection;
  const webhook = feishu.webhook;
  let state = feishu.connection;
  if (webhook === 'signed' || webhook === 'unsigned' || webhook === 'refused')
    state = webhook === 'signed' ? 'ok' : webhook === 'unsigned' ? 'degraded' : 'down';
  else if (longConnection && typeof longConnection.state === 'string') state = longConnection.state;
  if (feishu.reason) state = 'off';
  // In webhook mode the long connection is simply not used: its state and reason say nothing.
  const viaWebhook = webhook === 'signed' || webhook === 'unsigned' || webhook === 'refused';
  return componentCard(
    'feishu',
    'Feishu',
    state,
    [
      ['Webhook', webhook],
      ['Long connection', viaWebhook ? 'not used' : (longConnection?.state ?? feishu.connection)],
      ['Reconnects', viaWebhook ? null : (longConnection?.reconnects ?? feishu.reconnects)],
      ['Last event', longConnection?.lastEventAt ? timeAgo(longConnection.lastEventAt) : null],
    ],
    feishu.reason ??
      (viaWebhook
        ? webhook === 'unsigned'
          ? 'FEISHU_ENCRYPT_KEY not set (FEISHU_ALLOW_UNSIGNED_WEBHOOK=true): events are checked by the forgeable verification token alone'
          : webhook === 'refused'
            ? 'FEISHU_ENCRYPT_KEY not set: every event is refused (401)'
            : null
        : longConnection?.reason),
  );
}

function storeComponent(health) {
  const check = (health.checks || []).find((each) => each.name === 'store');
  if (health.store && typeof health.store.state === 'string') {
    return componentCard(
      'store',
      'Store',
      health.store.state,
      [
        ['Kind', health.store.kind],
        ['Ping', check ? formatMs(check.durationMs) : null],
      ],
      health.store.error,
    );
  }
  if (!check) return null;
  return componentCard('store', 'Store', check.ok ? 'ok' : 'down', [['Ping', formatMs(check.durationMs)]], check.error);
}

function redisComponent(redis) {
  if (!redis || typeof redis.state !== 'string') return null;
  return componentCard('redis', 'Redis', redis.state, [], redis.error);
}

/** One card per MCP server (MCP_SERVERS_FILE): its connection, what it offers to whom, restarts. */
function mcpComponents(servers) {
  if (!servers || typeof servers !== 'object') return [];
  return Object.entries(servers).map(([name, server]) =>
    componentCard(
      `mcp-${name}`,
      `MCP ${name}`,
      server.state,
      [
        ['Transport', server.transport],
        [
          'Tools',
          `${formatNumber(server.offeredTools)} offered${server.writeTools > 0 ? ` (${formatNumber(server.writeTools)} with approval)` : ''}${server.skippedTools > 0 ? `, ${formatNumber(server.skippedTools)} not (may write)` : ''}`,
        ],
        ['For', Array.isArray(server.agents) ? server.agents.join(', ') : null],
        ['Restarts', formatNumber(server.restarts)],
        ['Next attempt', server.nextAttemptAt ? clockTime(server.nextAttemptAt) : null],
      ],
      server.lastError,
    ),
  );
}

function deliveriesComponent(deliveries, windowSeconds) {
  if (!deliveries) return null;
  const state = deliveries.failed > 0 ? (deliveries.answered > 0 ? 'degraded' : 'down') : 'ok';
  return componentCard('deliveries', 'Deliveries', state, [
    [`Answered (${show(windowSeconds)} s)`, formatNumber(deliveries.answered)],
    ['Failed', formatNumber(deliveries.failed)],
  ]);
}

function rateLimitsComponent(rateLimits) {
  if (!rateLimits) return null;
  const models = Object.entries(rateLimits.byModel || {}).filter(([, limits]) => limits.count > 0);
  const lines = [['In window', formatNumber(rateLimits.total)]];
  for (const [model, limits] of models) {
    const details = present([
      `${formatNumber(limits.count)}×`,
      limits.retryAfterMs !== null && limits.retryAfterMs !== undefined
        ? `retry after ${formatMs(limits.retryAfterMs)}`
        : null,
      limits.remaining !== null && limits.remaining !== undefined ? `${formatNumber(limits.remaining)} left` : null,
      limits.lastAt ? timeAgo(limits.lastAt) : null,
    ]).join(' · ');
    lines.push([model, details]);
  }
  return componentCard('rate-limits', 'Rate limits', rateLimits.total > 0 ? 'degraded' : 'ok', lines);
}

/** Agent runs admitted at once (adaptive), each model's limit with why, and its breaker. */
function concurrencyComponent(concurrency, models) {
  if (!concurrency) return null;
  const lines = [
    [
      'Agent runs',
      `${formatNumber(concurrency.running)} running of ${formatNumber(concurrency.limit)} (ceiling ${formatNumber(concurrency.ceiling)})`,
    ],
  ];
  for (const [model, reading] of Object.entries(concurrency.byModel || {})) {
    const breaker = models?.[model]?.breaker?.state;
    lines.push([
      model,
      present([
        `limit ${formatNumber(reading.limit)}`,
        `${formatNumber(reading.inFlight)} in flight`,
        reading.waiting > 0 ? `${formatNumber(reading.waiting)} waiting` : null,
        breaker && breaker !== 'closed' ? `breaker ${breaker}` : null,
        reading.reason,
      ]).join(' · '),
    ]);
  }
  const cut = Object.values(concurrency.byModel || {}).some((reading) => /^cut /.test(reading.reason));
  return componentCard('concurrency', 'Concurrency', cut ? 'degraded' : 'ok', lines);
}

function processComponent(process) {
  if (!process) return null;
  const crashes = process.uncaughtExceptions + process.unhandledRejections;
  return componentCard('process', 'Process', crashes > 0 ? 'degraded' : 'ok', [
    ['Uncaught exceptions', formatNumber(process.uncaughtExceptions)],
    ['Unhandled rejections', formatNumber(process.unhandledRejections)],
  ]);
}

function checksComponent(checks) {
  const others = (checks || []).filter((check) => check.name !== 'store');
  if (others.length === 0) return null;
  const failed = others.some((check) => !check.ok);
  return componentCard(
    'checks',
    'Readiness checks',
    failed ? 'down' : 'ok',
    others.map((check) => [
      check.name,
      check.ok ? `ok · ${formatMs(check.durationMs)}` : `failed: ${show(check.error)}`,
    ]),
  );
}

/** Bars of the most recent calls, oldest left: height is latency, red when the call failed. */
function callsChart(calls) {
  const width = 300;
  const height = 56;
  const chart = svg('svg', {
    class: 'chart',
    viewBox: `0 0 ${width} ${height}`,
    preserveAspectRatio: 'none',
    role: 'img',
    'aria-label': `latency of the last ${calls.length} calls`,
    'data-bars': calls.length,
  });
  chart.append(svg('line', { class: 'grid-line', x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5 }));
  const maxLatency = Math.max(1, ...calls.map((call) => call.latencyMs));
  const slot = width / CALLS_PER_CHART;
  calls.forEach((call, index) => {
    const barHeight = Math.max(3, (call.latencyMs / maxLatency) * (height - 4));
    const bar = svg('rect', {
      class: call.outcome === 'error' ? 'bar-error' : 'bar-agent',
      x: width - (calls.length - index) * slot + slot * 0.15,
      y: height - 1 - barHeight,
      width: slot * 0.7,
      height: barHeight,
      rx: 1,
    });
    bar.append(
      svg('title', {}, [
        document.createTextNode(
          `${clockTime(call.at)} · ${call.model} · ${formatMs(call.latencyMs)}${call.outcome === 'error' ? ` · ${call.errorCategory || 'error'}` : ''}`,
        ),
      ]),
    );
    chart.append(bar);
  });
  return { chart, maxLatency };
}

function agentCard(name, agent, calls, trackerAgent) {
  const { chart, maxLatency } = callsChart(calls);
  return el('article', { className: 'card', dataset: { agent: name } }, [
    el('h3', {}, [
      el('span', { text: name }),
      el('span', { className: 'hint', text: agent?.lastCall ? `last ${timeAgo(agent.lastCall)}` : '' }),
    ]),
    el('dl', {}, [
      el('div', {}, [el('dt', { text: 'Calls (window)' }), el('dd', { text: formatNumber(agent?.callCount ?? 0) })]),
      el('div', {}, [
        el('dt', { text: 'Errors' }),
        el('dd', {
          text: `${formatNumber(agent?.errorCount ?? 0)} (${formatPercent(agent?.callCount ? agent.errorCount / agent.callCount : 0)})`,
        }),
      ]),
      el('div', {}, [
        el('dt', { text: 'Avg / p95' }),
        el('dd', { text: agent?.callCount ? `${formatMs(agent.avgLatency)} / ${formatMs(agent.p95Latency)}` : '–' }),
      ]),
    ]),
    chart,
    el('div', { className: 'chart-legend' }, [
      el('span', {
        className: 'legend-latency',
        text:
          calls.length === 1
            ? `last call: ${formatMs(maxLatency)}`
            : `last ${calls.length} calls, up to ${formatMs(maxLatency)}`,
      }),
      el('span', { className: 'legend-errors', text: 'failed' }),
      trackerAgent
        ? el('span', { text: `${formatNumber(trackerAgent.inputTokens + trackerAgent.outputTokens)} tok since start` })
        : null,
    ]),
  ]);
}

function errorSection(health) {
  const byCategory = Object.entries(health.errors?.byCategory || {}).filter(([, count]) => count > 0);
  const lastError = health.lastError
    ? el('p', {
        className: 'failure',
        dataset: { testid: 'last-error' },
        text: `Last error ${timeAgo(health.lastError.timestamp)}: ${show(health.lastError.category)} · ${show(health.lastError.message)}`,
      })
    : null;
  if (byCategory.length === 0) {
    return el('div', {}, [
      el('h4', { className: 'section-title', text: 'Errors in window' }),
      el('p', { className: 'hint', text: 'No errors in the window.' }),
      lastError,
    ]);
  }
  const total = byCategory.reduce((sum, [, count]) => sum + count, 0);
  return el('div', {}, [
    el('h4', { className: 'section-title', text: 'Errors in window' }),
    el('table', { className: 'error-table', dataset: { testid: 'error-table' } }, [
      el('thead', {}, [el('tr', {}, [el('th', { text: 'Category' }), el('th', { className: 'num', text: 'Count' })])]),
      el('tbody', {}, [
        ...byCategory.map(([category, count]) =>
          el('tr', {}, [el('td', { text: category }), el('td', { className: 'num', text: formatNumber(count) })]),
        ),
        el('tr', { className: 'total' }, [
          el('td', { text: 'Total' }),
          el('td', { className: 'num', text: formatNumber(total) }),
        ]),
      ]),
    ]),
    lastError,
  ]);
}

/**
 * Wires the Health tab; `refresh()` polls /health and the recent agent calls.
 *
 * @example
 * const health = createHealthView({ playgroundStatus: () => status, stats: () => stats, onStatus });
 * setInterval(health.refresh, 3_000);
 */
export function createHealthView({ playgroundStatus = () => null, stats = () => null, onStatus = () => {} } = {}) {
  const history = [];

  function render(health, calls) {
    const status = STATUSES.includes(health.status) ? health.status : 'unknown';
    const windowSeconds = health.window?.seconds;
    const top = el('div', { className: 'health-top' }, [
      el('span', { className: `pill pill-${status}`, text: status }),
      el('span', { className: 'hint', text: `uptime ${formatMs((health.uptime ?? 0) * 1_000)}` }),
      windowSeconds ? el('span', { className: 'hint', text: `window ${windowSeconds} s` }) : null,
      health.instance ? el('span', { className: 'hint', text: `instance ${health.instance}` }) : null,
      health.phase && health.phase !== 'ready' ? el('span', { className: 'hint', text: health.phase }) : null,
      el('span', { className: 'hint', text: `updated ${clockTime(Date.now())}` }),
    ]);
    const reasons =
      Array.isArray(health.reasons) && health.reasons.length > 0
        ? el(
            'ul',
            { className: 'reasons', dataset: { testid: 'health-reasons' } },
            [...new Set(health.reasons)].map((reason) => el('li', { text: reason })),
          )
        : null;

    const strip = svg('svg', {
      class: 'status-strip',
      viewBox: `0 0 ${HISTORY} 10`,
      preserveAspectRatio: 'none',
      'aria-label': 'status history',
    });
    history.forEach((sample, index) => {
      strip.append(
        svg('rect', { class: `strip-${sample}`, x: HISTORY - history.length + index, y: 0, width: 0.9, height: 10 }),
      );
    });

    const components = present([
      agentComponent(health, playgroundStatus()),
      feishuComponent(health.feishu),
      storeComponent(health),
      redisComponent(health.redis),
      ...mcpComponents(health.mcp),
      deliveriesComponent(health.deliveries, windowSeconds),
      rateLimitsComponent(health.rateLimits),
      concurrencyComponent(health.concurrency, health.models),
      processComponent(health.process),
      checksComponent(health.checks),
    ]);

    const byAgent = new Map();
    for (const call of calls) {
      const list = byAgent.get(call.agent) ?? [];
      list.push(call);
      byAgent.set(call.agent, list);
    }
    const names = [...new Set([...Object.keys(health.agents || {}), ...byAgent.keys()])].sort();
    const trackerAgents = stats()?.agents || {};
    const cards = names.map((name) =>
      agentCard(name, health.agents?.[name], (byAgent.get(name) ?? []).slice(-CALLS_PER_CHART), trackerAgents[name]),
    );

    $('health').replaceChildren(
      ...present([
        top,
        reasons,
        el('div', {}, [
          el('h4', { className: 'section-title', text: 'Components' }),
          el('div', { className: 'component-grid' }, components),
        ]),
        el('div', {}, [el('h4', { className: 'section-title', text: 'Status history' }), strip]),
        el('div', {}, [
          el('h4', { className: 'section-title', text: 'Agents' }),
          cards.length > 0
            ? el('div', { className: 'card-grid' }, cards)
            : el('p', { className: 'hint', text: 'No agent calls yet.' }),
        ]),
        errorSection(health),
      ]),
    );
  }

  async function refresh() {
    let health;
    try {
      health = await api('/health');
    } catch {
      onStatus('unknown', 'unreachable', null);
      return;
    }
    if (!health || typeof health !== 'object') return;
    const status = STATUSES.includes(health.status) ? health.status : 'unknown';
    onStatus(status, status, health.agent ?? null);
    history.push(status);
    if (history.length > HISTORY) history.shift();
    let calls = [];
    try {
      // Newest first from the ring; charts draw oldest first.
      calls = (await api(`/events?type=agent.call&limit=${CALLS_PER_CHART * 4}`)).events.reverse();
    } catch {
      // charts stay empty; the figures still show
    }
    render(health, calls);
  }

  return { refresh };
}
