import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFeishuApps, readFeishuAppsFile } from './feishu-apps.js';

const alpha = { id: 'alpha', appId: 'cli_a000000000000001', appSecret: 'alpha-secret', encryptKey: 'alpha-key' };
const beta = { id: 'beta', appId: 'cli_b000000000000002', appSecret: 'beta-secret', eventMode: 'websocket' };
const parse = (apps: unknown) =>
  parseFeishuApps(JSON.stringify(apps), { path: 'apps.json', defaultEventMode: 'webhook' });

describe('parseFeishuApps', () => {
  it('reads every app with its defaults: webhook mode from FEISHU_EVENT_MODE, signed, the global allowlists', () => {
    const { apps, problems } = parse([
      alpha,
      { ...beta, persona: 'You are the release bot.', allowedChatIds: ['oc_1'] },
    ]);
    expect(problems).toEqual([]);
    expect(apps).toEqual([
      {
        ...alpha,
        verificationToken: undefined,
        allowUnsignedWebhook: false,
        eventMode: 'webhook',
        persona: undefined,
        allowedChatIds: undefined,
        allowedUserIds: undefined,
      },
      expect.objectContaining({
        id: 'beta',
        eventMode: 'websocket',
        persona: 'You are the release bot.',
        allowedChatIds: ['oc_1'],
      }),
    ]);
  });

  it('refuses an unknown field, naming the field and the app', () => {
    const { problems } = parse([alpha, { ...beta, encryptkey: 'typo' }]);
    expect(problems).toEqual([expect.stringMatching(/apps\.json app "beta".*unknown field "encryptkey"/)]);
  });

  it('refuses ids that cannot name a path or a label, and ids or app ids used twice', () => {
    const { problems } = parse([
      alpha,
      { ...beta, id: 'Alpha Bot' },
      { ...beta, id: 'alpha', appId: 'cli_c000000000000003' },
      { ...beta, id: 'gamma', appId: alpha.appId },
    ]);
    expect(problems).toEqual([
      expect.stringMatching(/app "Alpha Bot"\.id: must be 1–32 characters/),
      expect.stringContaining('id "alpha" is used by more than one app'),
      expect.stringContaining(`appId "${alpha.appId}" is used by more than one app`),
    ]);
  });

  it('names an entry without an id by its position, and missing credentials by field', () => {
    const { problems } = parse([alpha, { appSecret: 'x' }]);
    expect(problems).toEqual(
      expect.arrayContaining([expect.stringContaining('app #2.id'), expect.stringContaining('app #2.appId')]),
    );
  });

  it('refuses what is not a non-empty array of apps, and text that is not JSON', () => {
    expect(parse({ alpha }).problems).toEqual([expect.stringContaining('must be a non-empty JSON array')]);
    expect(parse([]).problems).toEqual([expect.stringContaining('must be a non-empty JSON array')]);
    expect(parseFeishuApps('[{', { path: 'apps.json', defaultEventMode: 'webhook' }).problems[0]).toContain(
      'not valid JSON',
    );
  });

  it('reports a file that cannot be read as one problem, and reads one that can', () => {
    const folder = mkdtempSync(join(tmpdir(), 'feishu-apps-'));
    expect(readFeishuAppsFile(join(folder, 'missing.json'), { defaultEventMode: 'webhook' }).problems).toEqual([
      expect.stringContaining('cannot be read (ENOENT)'),
    ]);
    const path = join(folder, 'apps.json');
    writeFileSync(path, JSON.stringify([alpha]));
    expect(readFeishuAppsFile(path, { defaultEventMode: 'websocket' }).apps[0]?.eventMode).toBe('websocket');
  });
});
