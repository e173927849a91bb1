import type { CheckResult, CheckStatus } from './doctor-check.js';

const MARK: Record<CheckStatus, string> = { pass: '✔', warn: '!', fail: '✖', skip: '–' };
const COLOUR: Record<CheckStatus, number> = { pass: 32, warn: 33, fail: 31, skip: 90 };
const TITLE_WIDTH = 22;

/**
 * One check as the doctor prints it: mark, title, what was found, then its details and fix.
 *
 * @example
 * process.stdout.write(formatCheck(result, { colour: process.stdout.isTTY }));
 */
export function formatCheck(result: CheckResult, { colour = false }: { colour?: boolean } = {}): string {
  const paint = (code: number, text: string) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
  const lines = [
    `${paint(COLOUR[result.status], MARK[result.status])} ${result.title.padEnd(TITLE_WIDTH)} ${result.summary}`,
  ];
  for (const detail of result.details ?? []) lines.push(`    ${detail}`);
  if (result.fix !== undefined) lines.push(`    ${paint(COLOUR[result.status], 'fix:')} ${result.fix}`);
  return `${lines.join('\n')}\n`;
}

/** The closing line: how many failed and warned, and what the exit code means. */
export function formatVerdict(results: readonly CheckResult[], { colour = false }: { colour?: boolean } = {}): string {
  const count = (status: CheckStatus) => results.filter((result) => result.status === status).length;
  const failed = count('fail');
  const warned = count('warn');
  const text =
    failed > 0
      ? `${failed} failed, ${warned} warning(s): the bot is not ready (exit 1)`
      : `ready${warned > 0 ? `, with ${warned} warning(s)` : ''} (exit 0)`;
  return `\n${colour ? `\u001b[1m${text}\u001b[0m` : text}\n`;
}

/** The whole checklist at once (for tests and logs). */
export function formatChecklist(results: readonly CheckResult[], options: { colour?: boolean } = {}): string {
  return results.map((result) => formatCheck(result, options)).join('') + formatVerdict(results, options);
}
