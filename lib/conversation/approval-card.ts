import type { ApprovalSummary } from '../agents/tools/tool-definition.js';
import { textsFor } from '../i18n/bot-texts.js';
import type { Language } from '../i18n/language.js';
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

const DECIDED_TEMPLATE: Record<ApprovalDecision, string> = {
  approved: 'green',
  always: 'green',
  denied: 'red',
  expired: 'grey',
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
  language = 'en',
}: {
  run: string;
  asker: string;
  changes: readonly ApprovalSummary[];
  timeoutMinutes: number;
  decided?: ApprovalDecision;
  decidedBy?: string;
  /** The language of the card's own words and of its buttons' toasts. */
  language?: Language | undefined;
}): string {
  const say = textsFor(language).approval;
  const body: Array<Record<string, unknown>> = changes.map((summary) => ({
    tag: 'markdown',
    content: changeText(summary),
  }));
  if (decided === undefined) {
    body.push({
      tag: 'markdown',
      content: say.whoDecides(timeoutMinutes),
    });
    body.push(
      button(say.approve, 'primary', controlValue({ action: APPROVAL_ACTIONS.approve, run, asker, language })),
      button(say.always, 'default', controlValue({ action: APPROVAL_ACTIONS.always, run, asker, language })),
      button(say.deny, 'danger', controlValue({ action: APPROVAL_ACTIONS.deny, run, asker, language })),
    );
  } else {
    const by = decidedBy === undefined ? '' : ` (<at id=${decidedBy}></at>)`;
    body.push({ tag: 'markdown', content: `${say.decided[decided].line}${by}` });
  }
  const title = decided === undefined ? say.title : say.decided[decided].title;
  const template = decided === undefined ? 'orange' : DECIDED_TEMPLATE[decided];
  return JSON.stringify({
    schema: '2.0',
    header: { title: { tag: 'plain_text', content: title }, template },
    body: { elements: body },
  });
}
