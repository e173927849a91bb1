import { createHash } from 'node:crypto';

/**
 * A UUID-shaped key that is the same for the same change in the same run, so a retried job (the
 * approval's continuation re-run after a crash) sends Feishu the same `client_token` / `uuid` and
 * the change happens once.
 *
 * @example
 * changeKey('job-1:approval', 'createTask', { summary: 'Ship it' }); // 'a3f1…-…'
 */
export function changeKey(runId: string, tool: string, input: unknown): string {
  const hex = createHash('sha256')
    .update(`${runId}\u0000${tool}\u0000${JSON.stringify(input)}`)
    .digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
