import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../lib/store/sqlite-store.js';
import { buildMessageEvent, postEvent } from '../fakes/event-sender.js';
import { type FakeFeishu, startFakeFeishu } from '../fakes/fake-feishu.js';

const encryptKey = 'crash-encrypt-key';
const token = 'crash-verification-token';
const LEASE_MS = 1_500;
/** Two child start-ups (tsx + the SDK import take seconds on a loaded 2-core machine). */
const CRASH_TEST_TIMEOUT_MS = 120_000;

type Milestone = { listening?: number; started?: string; replied?: string; attempt?: number };

/** One run of test/support/ingress-server.ts; resolves milestones as the child prints them. */
function startServer(env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'test/support/ingress-server.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const milestones: Milestone[] = [];
  const waiters: { match: (line: Milestone) => boolean; resolve: (line: Milestone) => void }[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: Milestone;
    try {
      line = JSON.parse(text) as Milestone;
    } catch {
      return;
    }
    milestones.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.match(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    milestones,
    until(match: (line: Milestone) => boolean, timeoutMs = 60_000): Promise<Milestone> {
      const seen = milestones.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`child never printed the milestone; stderr:\n${stderr}`)),
          timeoutMs,
        );
        waiters.push({
          match,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void exited.then((code) => reject(new Error(`child exited (${code}) first; stderr:\n${stderr}`)));
      });
    },
  };
}

describe('crash recovery: SIGKILL mid-answer, restart, answered exactly once', () => {
  let fake: FakeFeishu;
  let directory: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    fake = await startFakeFeishu();
  });
  afterEach(() => {
    for (const child of children.splice(0))
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
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
    const first = startServer(env);
    children.push(first.child);
    const { listening } = await first.until((line) => line.listening !== undefined);
    const event = buildMessageEvent({ fake, chatType: 'p2p', text: `kill at ${killAt}`, token });
    const messageId = event.event.message.message_id;
    expect((await postEvent(`http://127.0.0.1:${listening}/webhook/event`, event, { encryptKey })).status).toBe(200);
    await first.until((line) => line[killAt] === `message:${messageId}`);
    first.child.kill('SIGKILL');
    await first.exited;

    const second = startServer(env);
    children.push(second.child);
    // A new process (new lease owner) picks the job up once the dead holder's lease expires.
    const resumed = await second.until((line) => line.replied === `message:${messageId}`);
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
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
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
