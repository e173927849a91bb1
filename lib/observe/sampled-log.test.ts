import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createSampledLog } from './sampled-log.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

describe('createSampledLog', () => {
  it('logs the first of each reason, then one line per reason per interval with the count it skipped', () => {
    const { log, lines } = capture();
    let clock = 1_000;
    const sampled = createSampledLog({ log, intervalMs: 10_000, now: () => clock });
    for (let index = 0; index < 2_000; index += 1) sampled('SIGNATURE_INVALID', { status: 401 }, 'rejected');
    sampled('INVALID_JSON', { status: 400 }, 'rejected');
    expect(lines.map((line) => line.reason)).toEqual(['SIGNATURE_INVALID', 'INVALID_JSON']);
    expect(lines[0]).toMatchObject({ status: 401, msg: 'rejected' });
    expect(lines[0]).not.toHaveProperty('suppressed');

    clock += 9_999;
    sampled('SIGNATURE_INVALID', { status: 401 }, 'rejected');
    expect(lines).toHaveLength(2);
    clock += 1;
    sampled('SIGNATURE_INVALID', { status: 401 }, 'rejected');
    expect(lines).toHaveLength(3);
    // 1 999 of the burst plus the one at +9 999 ms were not logged.
    expect(lines[2]).toMatchObject({ reason: 'SIGNATURE_INVALID', suppressed: 2_000 });
  });

  it('keeps its memory bounded: reasons beyond the cap share one budget', () => {
    const { log, lines } = capture();
    const sampled = createSampledLog({ log, maxReasons: 2, now: () => 0 });
    for (let index = 0; index < 100; index += 1) sampled(`reason-${index}`, {}, 'x');
    // Two tracked reasons and one shared 'other' line.
    expect(lines).toHaveLength(3);
  });
});
