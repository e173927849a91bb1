import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Writes a FEISHU_APPS_FILE (docs/operations.md, "Several bots") listing `apps` into a new
 * temporary folder; returns its path, for the service's env.
 *
 * @example
 * const [alpha, beta] = feishu.apps;
 * env.FEISHU_APPS_FILE = writeAppsFile([{ id: 'beta', appId: beta?.appId, appSecret: beta?.appSecret, encryptKey }]);
 */
export function writeAppsFile(apps: readonly Record<string, unknown>[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'feishu-apps-')), 'apps.json');
  writeFileSync(file, JSON.stringify(apps));
  return file;
}
