import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../lib/store/sqlite-store.js';
import { buildMessageEvent, postEvent } from '../fakes/event-sender.js';
import { type FakeFeishu, startFakeFeishu } from '../fakes/fake-feishu.js';
import { killBotProcesses, type LogLine, startBotProcess } from '../support/bot-process.js';

const encryptKey = 'crash-encrypt-key';
const token = 'crash-verification-token';
const LEASE_MS = 1_500;
/** Two child start-ups (tsx + the SDK import take seconds on a loaded 2-core machine). */
const CRASH_TEST_TIMEOUT_MS = 120_000;

/**
 * One run of test/support/ingress-server.ts (the echo stand-in answer): it prints milestones as
 * JSON lines, {"listening":port}, {"started":jobId,"attempt":n}, {"replied":jobId,"attempt":n}.
 * The real answer path is covered by crash-recovery-real.test.ts.
 */
function startServer(env: Record<string, string>) {
  return startBotProcess({ args: ['--import', 'tsx', 'test/support/ingress-server.ts'], env, startTimeoutMs: 60_000 });
}

describe('crash recovery: SIGKILL mid-answer, restart, answered exactly once', () => {
  let fake: FakeFeishu;
  let directory: string;

  beforeAll(async () => {
    fake = await startFakeFeishu();
  });
  afterEach(async () => {
    await killBotProcesses();
    rmSync(directory, { recursive: true, force: true });
  });
  afterAll(async () => {
    await fake?.close();
  });

  function serverEnv(extra: Record<string, string>): Record<string, string> {
    directory = mkdtempSync(join(tmpdir(), 'crash-recovery-'));
    return {
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...fake.env(),
      FEISHU_ENCRYPT_KEY: encryptKey,
      FEISHU_VERIFICATION_TOKEN: token,
      STORE_URL: `sqlite:${join(directory, 'bot.db')}`,
      JOB_LEASE_MS: String(LEASE_MS),
      DISPATCHER_POLL_MS: '100',
      // Less to start twice per test; devtools play no part here.
      ENABLE_DEVTOOLS: 'false',
      ...extra,
    };
  }

  async function runCrash(env: Record<string, string>, killAt: 'started' | 'replied') {
    const first = await startServer(env);
    const event = buildMessageEvent({ fake, chatType: 'p2p', text: `kill at ${killAt}`, token });
    const messageId = event.event.message.message_id;
    expect((await postEvent(`${first.url}/webhook/event`, event, { encryptKey })).status).toBe(200);
    await first.waitForLog((line) => line[killAt] === `message:${messageId}`, 60_000);
    first.kill('SIGKILL');
    await first.exited;

    const second = await startServer(env);
    // A new process (new lease owner) picks the job up once the dead holder's lease expires.
    const resumed: LogLine = await second.waitForLog((line) => line.replied === `message:${messageId}`, 60_000);
    expect(resumed.attempt).toBe(2);
    await fake.waitFor(() => fake.repliesTo(messageId, { fromBot: true }).length > 0);
    // Wait for the job to be marked done, then stop the server cleanly.
    const store = openSqliteStore(env.STORE_URL?.slice('sqlite:'.length) ?? '');
    try {
      const deadline = Date.now() + 10_000;
      while ((await store.getJob(`message:${messageId}`))?.status !== 'done') {
        if (Date.now() > deadline) throw new Error('job never completed after restart');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await store.getJob(`message:${messageId}`)).toMatchObject({ status: 'done', attempts: 2 });
    } finally {
      await store.close();
    }
    expect((await second.stop()).code).toBe(0);
    return messageId;
  }

  it(
    'killed while the answer is being produced: the restarted process answers it, once',
    async () => {
      const messageId = await runCrash(serverEnv({ ECHO_DELAY_MS: '1500' }), 'started');
      const replies = fake.repliesTo(messageId, { fromBot: true });
      expect(replies).toHaveLength(1);
      expect(fake.visibleText(replies[0]?.messageId ?? '')).toBe('Echo: kill at started');
    },
    CRASH_TEST_TIMEOUT_MS,
  );

  it(
    'killed after the answer was posted but before the job was marked done: the resend is absorbed by uuid',
    async () => {
      const messageId = await runCrash(serverEnv({ ECHO_DELAY_MS: '0', ECHO_HOLD_AFTER_REPLY_MS: '5000' }), 'replied');
      // Two reply calls reached Feishu (one per attempt), with the same uuid, and one message exists.
      const replyCalls = fake.callsTo('im.message.reply').filter((call) => call.path.includes(messageId));
      expect(replyCalls).toHaveLength(2);
      const uuids = replyCalls.map((call) => (call.body as { uuid?: string }).uuid);
      expect(uuids[0]).toBeDefined();
      expect(uuids[1]).toBe(uuids[0]);
      expect(fake.repliesTo(messageId, { fromBot: true })).toHaveLength(1);
    },
    CRASH_TEST_TIMEOUT_MS,
  );
});
