/**
 * The built service (`node dist/server.js`) on a SQLite file whose disk fills up: the kernel is
 * told, through `prlimit`, to refuse the process every write past the first byte of a file, which
 * is what a full disk does to SQLite's journal (EFBIG here, ENOSPC on a real disk; both are a
 * failed write). `/health/ready` must turn 503 at the first failed write, stay 503 while reads
 * still work, and turn 200 again once a write succeeds, without a restart.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killBotProcesses, sleep, startBotProcess } from '../support/bot-process.js';
import {
  answerWith,
  deliver,
  directMessage,
  expectAnsweredOnce,
  serviceEnvironment,
  useServiceFakes,
  waitForClosedCard,
} from '../support/real-stack.js';

/** Sets the soft limit on the size of files the process may write (the hard limit stays). */
function limitFileSize(pid: number, bytes: number | 'unlimited'): void {
  const result = spawnSync('prlimit', ['--pid', String(pid), `--fsize=${bytes}:unlimited`], { encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`prlimit failed (${result.status}): ${result.error?.message ?? result.stderr}`);
}

async function ready(url: string): Promise<{ status: number; body: { reason?: string } }> {
  const response = await fetch(`${url}/health/ready`);
  return { status: response.status, body: (await response.json()) as { reason?: string } };
}

describe('a full disk under the running service', () => {
  const fakes = useServiceFakes();
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'store-full-'));
  });
  afterEach(() => killBotProcesses());
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('turns /health/ready 503 after a failed store write and 200 once writes succeed again', async () => {
    answerWith(fakes.openai, (text) => `echo: ${text}`);
    const env = serviceEnvironment({ ...fakes, storeUrl: `sqlite:${join(directory, 'bot.db')}` });
    const bot = await startBotProcess({ env, name: 'store-full' });

    const before = directMessage(fakes.feishu, 'before the disk filled', { senderOpenId: 'ou_full_1' });
    expect(await deliver(bot.url, before)).toBe(200);
    await waitForClosedCard(fakes.feishu, before.event.message.message_id);
    // Its job is recorded as done too (that write follows the closed card): a disk filling
    // before it would re-run the job, which is another test's subject.
    await bot.waitForLog((line) => line.msg === 'job finished');
    expect((await ready(bot.url)).status).toBe(200);

    limitFileSize(bot.pid, 1);
    const during = directMessage(fakes.feishu, 'while the disk is full', { senderOpenId: 'ou_full_2' });
    // Not persisted, so not acknowledged: Feishu delivers it again later.
    expect(await deliver(bot.url, during)).toBe(503);
    const unready = await ready(bot.url);
    expect(unready.status).toBe(503);
    expect(unready.body.reason).toMatch(/store-writes: store writes failing since/);
    await bot.waitForLog((line) => line.msg === 'store writes failing: not ready until one succeeds');
    // Reads still work (the store answers its ping), yet the instance stays out of rotation.
    await sleep(1_200);
    expect((await ready(bot.url)).status).toBe(503);
    expect((await fetch(`${bot.url}/health/live`)).status).toBe(200);
    const health = await fetch(`${bot.url}/health`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { store: { state: string; error: string } }).store).toMatchObject({
      state: 'down',
      error: expect.stringContaining('store writes failing'),
    });

    limitFileSize(bot.pid, 'unlimited');
    const deadline = Date.now() + 15_000;
    while ((await ready(bot.url)).status !== 200) {
      if (Date.now() > deadline) throw new Error('/health/ready stayed 503 after the disk had room again');
      await sleep(100);
    }
    await bot.waitForLog((line) => line.msg === 'store writes succeed again');

    // Feishu's re-delivery is taken and answered, once.
    expect(await deliver(bot.url, during)).toBe(200);
    await waitForClosedCard(fakes.feishu, during.event.message.message_id);
    expectAnsweredOnce(fakes.feishu, during.event.message.message_id, 'echo: while the disk is full');
    expectAnsweredOnce(fakes.feishu, before.event.message.message_id, 'echo: before the disk filled');
    expect((await bot.stop()).code).toBe(0);
  }, 90_000);
});
