// The Spend tab: who spends what, from the spend ledger in the store (every instance's spend):
// today and the days before it, each app's total and its biggest chats, people and models.
// Amounts arrive as micros (millionths of a dollar, exact integers).

import { api } from './api.js';
import { $, el } from './dom.js';

/** Micros as dollars: cents, or more decimals for amounts under a cent. */
export function formatMicros(micros) {
  if (!micros) return '$0.00';
  const digits = String(Math.round(micros)).padStart(7, '0');
  const fraction = digits.slice(-6).replace(/0+$/, '').padEnd(2, '0');
  return `$${Number(digits.slice(0, -6)).toLocaleString('en-US')}.${fraction}`;
}

/** A bar as wide as `share` (0–1) of its row; set through the CSSOM, which the CSP allows. */
function bar(share) {
  const node = el('span', { className: 'spend-bar' });
  node.style.width = `${Math.round(share * 100)}%`;
  return node;
}

/** One list (chats, people or models) of one app: the biggest first, the rest summed. */
function spendTable(title, testid, rows, total) {
  const listed = rows.reduce((sum, row) => sum + row.micros, 0);
  const body = rows.map((row) =>
    el('tr', { dataset: { testid: `${testid}-row`, id: row.id } }, [
      el('td', { className: 'wrap' }, [
        el('span', { text: row.name ?? row.id }),
        row.name ? el('span', { className: 'hint', text: ` ${row.id}` }) : null,
      ]),
      el('td', { className: 'num', text: formatMicros(row.micros) }),
      el('td', { className: 'num hint', text: total > 0 ? `${Math.round((row.micros / total) * 100)}%` : '' }),
    ]),
  );
  if (total - listed > 0) {
    body.push(
      el('tr', {}, [
        el('td', { className: 'hint', text: 'everyone else' }),
        el('td', { className: 'num', text: formatMicros(total - listed) }),
        el('td', {}),
      ]),
    );
  }
  return el('div', { className: 'spend-list' }, [
    el('h4', { text: title }),
    rows.length === 0
      ? el('p', { className: 'hint', text: 'Nothing yet.' })
      : el('table', { className: 'dead-table', dataset: { testid } }, [
          el('thead', {}, [
            el('tr', {}, [el('th', { text: '' }), el('th', { className: 'num', text: 'Spent' }), el('th', {})]),
          ]),
          el('tbody', {}, body),
        ]),
  ]);
}

/**
 * @example
 * const spend = createSpendView();
 * spend.refresh();
 */
export function createSpendView() {
  let report = null;
  let selectedDay = null;

  function renderDay() {
    const day = report.days.find((each) => each.day === selectedDay) ?? report.days[0];
    const detail = $('spend-detail');
    if (!day || day.apps.length === 0) {
      detail.replaceChildren(el('p', { className: 'empty', text: `Nothing spent on ${day?.day ?? 'this day'}.` }));
      return;
    }
    detail.replaceChildren(
      ...day.apps.map((app) =>
        el('section', { className: 'spend-app', dataset: { testid: 'spend-app', app: app.app } }, [
          el('h3', {}, [
            el('span', { text: `App ${app.app}` }),
            el('span', { className: 'hint', text: ` ${formatMicros(app.micros)}` }),
          ]),
          el('div', { className: 'spend-lists' }, [
            spendTable('Chats', 'spend-chats', app.chats, app.micros),
            spendTable('People', 'spend-people', app.users, app.micros),
            spendTable('Models', 'spend-models', app.models, app.micros),
          ]),
        ]),
      ),
    );
  }

  function renderDays() {
    const most = Math.max(1, ...report.days.map((day) => day.micros));
    $('spend-days').replaceChildren(
      ...report.days.map((day, index) =>
        el(
          'button',
          {
            className: `spend-day${day.day === selectedDay ? ' selected' : ''}`,
            attrs: { type: 'button', 'aria-pressed': String(day.day === selectedDay) },
            dataset: { testid: 'spend-day', day: day.day },
            onClick: () => {
              selectedDay = day.day;
              renderDays();
              renderDay();
            },
          },
          [
            el('span', { className: 'spend-day-label', text: index === 0 ? `Today (${day.day})` : day.day }),
            bar(day.micros / most),
            el('span', { className: 'num', text: formatMicros(day.micros) }),
          ],
        ),
      ),
    );
  }

  async function refresh() {
    try {
      report = await api('/spend?days=7&limit=20');
      if (!report.days.some((day) => day.day === selectedDay)) selectedDay = report.days[0]?.day ?? null;
      $('spend-zone').textContent =
        `Days in ${report.timeZone} (BUDGET_TIME_ZONE), estimated from the price table; all instances.`;
      renderDays();
      renderDay();
    } catch (error) {
      $('spend-detail').replaceChildren(
        el('p', { className: 'error', text: `Could not load spend: ${error.message}` }),
      );
    }
  }

  $('spend-refresh')?.addEventListener('click', () => refresh());
  return { refresh };
}
