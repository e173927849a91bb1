// DOM and formatting helpers shared by the devtools UI modules. Every piece of data goes into the
// page through textContent or an attribute, never parsed as markup (Markdown goes through
// markdown.js, which sanitises).

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Children worth appending: drops null, undefined and false, so optional parts never print "null". */
export function present(nodes) {
  return nodes.filter((node) => node !== null && node !== undefined && node !== false);
}

/** Creates an element; `text` goes through textContent, never innerHTML. */
export function el(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.text !== undefined && options.text !== null) node.textContent = String(options.text);
  if (options.title) node.title = String(options.title);
  if (options.id) node.id = options.id;
  if (options.attrs) for (const [name, value] of Object.entries(options.attrs)) node.setAttribute(name, String(value));
  if (options.dataset) for (const [name, value] of Object.entries(options.dataset)) node.dataset[name] = String(value);
  if (options.onClick) node.addEventListener('click', options.onClick);
  node.append(...present(children));
  return node;
}

export function svg(tag, attrs = {}, children = []) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  node.append(...present(children));
  return node;
}

export const $ = (id) => document.getElementById(id);

/** A value for display: '–' for anything missing or not a number where one was expected. */
export function show(value) {
  if (value === null || value === undefined || value === '') return '–';
  if (typeof value === 'number' && !Number.isFinite(value)) return '–';
  return String(value);
}

export function formatMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} m ${Math.round((ms % 60_000) / 1_000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} m`;
}

export function formatNumber(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (value >= 1_000_000) return `${(value / 1_000_000).toFixed(1)}M`;
  if (value >= 10_000) return `${(value / 1_000).toFixed(1)}k`;
  return value.toLocaleString('en-US');
}

export function formatCost(usd, unpriced = []) {
  if (!usd && unpriced.length > 0) return 'unknown';
  if (!usd) return '$0';
  if (usd < 0.01) return `$${usd.toFixed(5)}`;
  return `$${usd.toFixed(3)}`;
}

export function formatPercent(rate) {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return '–';
  return `${(rate * 100).toFixed(rate > 0 && rate < 0.1 ? 1 : 0)}%`;
}

export function clockTime(at) {
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return '–';
  const pad = (value, length = 2) => String(value).padStart(length, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** "12s ago" for an epoch-ms or ISO time; '–' when there is none. */
export function timeAgo(at) {
  const ms = typeof at === 'string' ? Date.parse(at) : at;
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  const seconds = Math.max(0, Math.round((Date.now() - ms) / 1_000));
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3_600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3_600)}h ago`;
  return new Date(ms).toLocaleDateString();
}

export function shortId(id) {
  if (!id) return '';
  const tail = id.includes(':') ? id.slice(id.indexOf(':') + 1) : id;
  return tail.length > 14 ? `…${tail.slice(-10)}` : tail;
}

/** Runs `fn` at most once per `ms`, trailing call included. */
export function throttle(fn, ms) {
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
