import type { ApprovalSummary } from '../agents/tools/tool-definition.js';
import { controlValue } from './card-actions.js';

/** The control actions of an approval card (card-actions router keys). */
export const APPROVAL_ACTIONS = {
  approve: 'approval-approve',
  always: 'approval-always',
  deny: 'approval-deny',
} as const;

export type ApprovalDecision = 'approved' | 'always' | 'denied' | 'expired';

/** Card JSON 2.0 markdown of one change: bold action, its target, then every field. */
function changeText(summary: ApprovalSummary): string {
  const fields = summary.fields.map(({ label, value }) => {
    const shown = value.length > 500 ? `${value.slice(0, 499)}…` : value;
    return `- **${label}**: ${shown.replace(/\n/g, ' ')}`;
  });
  return [`**${summary.action}** · ${summary.target}`, ...fields].join('\n');
}

function button(text: string, type: 'primary' | 'default' | 'danger', value: Record<string, string>) {
  return {
    tag: 'button',
    element_id: value.action,
    text: { tag: 'plain_text', content: text },
    type,
    behaviors: [{ type: 'callback', value }],
  };
}

const DECIDED_TEXT: Record<ApprovalDecision, { title: string; template: string; line: string }> = {
  approved: { title: 'Approved', template: 'green', line: 'Approved: going ahead.' },
  always: {
    title: 'Approved (always in this chat)',
    template: 'green',
    line: 'Approved, and allowed without asking in this chat from now on.',
  },
  denied: { title: 'Denied', template: 'red', line: 'Denied: nothing was changed.' },
  expired: { title: 'Expired', template: 'grey', line: 'Nobody answered in time: nothing was changed.' },
};

/**
 * The card asking the person to approve what the bot is about to change: every change with its
 * target and fields, and Approve / Always allow in this chat / Deny; or, once decided, the same
 * changes with the decision and no buttons.
 *
 * @example
 * approvalCard({ run: 'job-1', asker: 'ou_a', changes: [summary], timeoutMinutes: 60 });
 */
export function approvalCard({
  run,
  asker,
  changes,
  timeoutMinutes,
  decided,
  decidedBy,
}: {
  run: string;
  asker: string;
  changes: readonly ApprovalSummary[];
  timeoutMinutes: number;
  decided?: ApprovalDecision;
  decidedBy?: string;
}): string {
  const body: Array<Record<string, unknown>> = changes.map((summary) => ({
    tag: 'markdown',
    content: changeText(summary),
  }));
  if (decided === undefined) {
    body.push({
      tag: 'markdown',
      content: `Only the person who asked (or a chat admin) can decide. Without an answer within ${timeoutMinutes} min nothing is changed.`,
    });
    body.push(
      button('Approve', 'primary', controlValue({ action: APPROVAL_ACTIONS.approve, run, asker })),
      button('Always allow in this chat', 'default', controlValue({ action: APPROVAL_ACTIONS.always, run, asker })),
      button('Deny', 'danger', controlValue({ action: APPROVAL_ACTIONS.deny, run, asker })),
    );
  } else {
    const by = decidedBy === undefined ? '' : ` (<at id=${decidedBy}></at>)`;
    body.push({ tag: 'markdown', content: `${DECIDED_TEXT[decided].line}${by}` });
  }
  const title = decided === undefined ? 'Approval needed' : DECIDED_TEXT[decided].title;
  const template = decided === undefined ? 'orange' : DECIDED_TEXT[decided].template;
  return JSON.stringify({
    schema: '2.0',
    header: { title: { tag: 'plain_text', content: title }, template },
    body: { elements: body },
  });
}
