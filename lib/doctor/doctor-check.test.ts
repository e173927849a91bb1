import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { silentLogger } from '../log.js';
import { createEventBus } from '../observe/event-bus.js';
import { type DoctorCheck, type DoctorContext, exitCodeFor, runChecks } from './doctor-check.js';
import { formatChecklist } from './format-checklist.js';

const context = (): DoctorContext => ({
  config: loadConfig({}),
  log: silentLogger(),
  bus: createEventBus(),
  webhookBaseUrl: 'http://127.0.0.1:3000',
  timeouts: { feishuMs: 1, connectMs: 1, modelMs: 1, storeMs: 1 },
});

const check = (id: string, run: DoctorCheck['run']): DoctorCheck => ({ id, title: id, run });

describe('runChecks', () => {
  it('runs in order, shares what earlier checks found, and turns a check that throws into its failure', async () => {
    const seen: string[] = [];
    const results = await runChecks(
      [
        check('first', async (shared) => {
          shared.modelAnswered = true;
          return { status: 'pass', summary: 'ok' };
        }),
        check('second', async (shared) => ({ status: shared.modelAnswered ? 'warn' : 'fail', summary: 'read it' })),
        check('third', async () => {
          throw new Error('boom');
        }),
        check('fourth', async () => ({ status: 'skip', summary: 'not configured' })),
      ],
      context(),
      (result) => seen.push(result.id),
    );
    expect(seen).toEqual(['first', 'second', 'third', 'fourth']);
    expect(results.map((result) => [result.id, result.status, result.summary])).toEqual([
      ['first', 'pass', 'ok'],
      ['second', 'warn', 'read it'],
      ['third', 'fail', 'the check itself failed: boom'],
      ['fourth', 'skip', 'not configured'],
    ]);
  });

  it('exits 0 with warnings and skips, 1 as soon as one check failed', async () => {
    const fine = await runChecks(
      [
        check('a', async () => ({ status: 'warn', summary: '' })),
        check('b', async () => ({ status: 'skip', summary: '' })),
      ],
      context(),
    );
    expect(exitCodeFor(fine)).toBe(0);
    const failed = await runChecks([check('a', async () => ({ status: 'fail', summary: '' }))], context());
    expect(exitCodeFor(failed)).toBe(1);
  });
});

describe('formatChecklist', () => {
  it('prints a mark per status, the details and the fix, and the verdict, coloured only when asked', async () => {
    const results = await runChecks(
      [
        check('Model', async () => ({ status: 'fail', summary: 'no model', details: ['✖ MODEL'], fix: 'Set MODEL' })),
        check('Redis', async () => ({ status: 'skip', summary: 'not configured' })),
      ],
      context(),
    );
    const plain = formatChecklist(results);
    expect(plain).toContain('✖ Model                  no model\n    ✖ MODEL\n    fix: Set MODEL\n');
    expect(plain).toContain('– Redis                  not configured\n');
    expect(plain).toContain('1 failed, 0 warning(s): the bot is not ready (exit 1)');
    expect(plain).not.toContain(String.fromCharCode(27));
    expect(formatChecklist(results, { colour: true })).toContain(`${String.fromCharCode(27)}[31m✖`);
  });
});
