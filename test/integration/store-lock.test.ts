import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBot, startBot } from '../../lib/bot.js';
import { loadConfig } from '../../lib/config.js';
import { silentLogger } from '../../lib/log.js';
import { buildMessageEvent, postEvent } from '../fakes/event-sender.js';
import { type FakeFeishu, startFakeFeishu } from '../fakes/fake-feishu.js';
import { holdSqliteWriteLock } from '../support/sqlite-lock-holder.js';

const encryptKey = 'store-lock-encrypt-key';
const token = 'store-lock-verification-token';

describe('a SQLite write lock held by another process', () => {
  const directory = mkdtempSync(join(tmpdir(), 'store-lock-test-'));
  const path = join(directory, 'bot.db');
  let fake: FakeFeishu;
  let bot: RunningBot;
  let base: string;

  beforeAll(async () => {
    fake = await startFakeFeishu();
    bot = await startBot(
      loadConfig({
        NODE_ENV: 'test',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
        ...fake.env(),
        FEISHU_ENCRYPT_KEY: encryptKey,
        FEISHU_VERIFICATION_TOKEN: token,
        STORE_URL: `sqlite:${path}`,
      }),
      {
        log: silentLogger(),
        // Jobs stay queued: this is about the ack, not the answer.
        handlers: () => ({}),
      },
    );
    base = `http://127.0.0.1:${bot.port}`;
  });

  afterAll(async () => {
    await bot?.stop();
    await fake?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('keeps /health/live answering while a webhook waits for the lock, then acks once it is free', async () => {
    const holder = await holdSqliteWriteLock(path);
    let webhook: Promise<Response> | undefined;
    try {
      const event = buildMessageEvent({ fake, chatType: 'p2p', text: 'while locked', token });
      webhook = postEvent(`${base}/webhook/event`, event, { encryptKey });
      // Let the webhook reach the store and meet the lock.
      await new Promise((resolve) => setTimeout(resolve, 200));
      // A synchronous busy wait would hold the event loop for seconds: this would time out.
      const live = await fetch(`${base}/health/live`, { signal: AbortSignal.timeout(3_000) });
      expect(live.status).toBe(200);
      await holder.release();
      expect((await webhook).status).toBe(200);
      expect(await bot.store.getJob(`message:${event.event.message.message_id}`)).toMatchObject({ status: 'pending' });
    } finally {
      await holder.release();
      await webhook?.catch(() => undefined);
    }
  });

  it('answers 503 once the wait exceeds its budget, and the redelivery after the lock is freed is acked', async () => {
    const holder = await holdSqliteWriteLock(path);
    const event = buildMessageEvent({ fake, chatType: 'p2p', text: 'locked too long', token });
    try {
      // Held until the webhook gives up: Feishu then delivers again.
      const refused = await postEvent(`${base}/webhook/event`, event, { encryptKey });
      expect(refused.status).toBe(503);
    } finally {
      await holder.release();
    }
    expect((await postEvent(`${base}/webhook/event`, event, { encryptKey })).status).toBe(200);
    expect(await bot.store.getJob(`message:${event.event.message.message_id}`)).toMatchObject({ status: 'pending' });
  });
});
