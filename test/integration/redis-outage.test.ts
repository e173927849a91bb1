/**
 * Redis stopped and started under load, nothing lost or answered twice: the real service (`node dist/server.js`) on a
 * PRIVATE redis-server (AOF, fsync always, as docs/scaling.md recommends), a few hundred distinct
 * events posted while Redis is killed and brought back on the same port and data directory.
 *
 * - while Redis is down the webhook answers 503 (never 500, never a hang) and /health/ready is 503;
 * - every event that got 200 is answered exactly once (it was durable before the ack);
 * - every event that got 503 is re-posted, as Feishu would, and then answered exactly once;
 * - nothing is answered twice; /health/ready is 200 again once Redis is back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../lib/store/open-store.js';
import { httpStatus, killBotProcesses, sleep, startBotProcess, waitForStatus } from '../support/bot-process.js';
import { type PrivateRedis, requireRedisServer, startPrivateRedis } from '../support/private-redis.js';
import {
  answerWith,
  deliver,
  directMessage,
  expectAnsweredOnce,
  serviceEnvironment,
  useServiceFakes,
} from '../support/real-stack.js';

const EVENTS = 200;
/** 200 events over about 4 s. */
const SEND_INTERVAL_MS = 20;
const OUTAGE_AFTER_MS = 1_000;
const OUTAGE_MS = 1_500;
/**
 * Shorter than the outage plus ioredis' reconnect back-off on purpose: jobs running when Redis
 * goes away lose their lease, and the resumed attempt must finish the card the user already sees
 * (this is what found the unsaved-checkpoint case in lib/feishu/reply/card-deck.ts).
 */
const LEASE_MS = 2_000;

describe.runIf(requireRedisServer())('Redis outage under load', () => {
  const fakes = useServiceFakes();
  let redis: PrivateRedis | undefined;
  afterEach(async () => {
    await killBotProcesses();
    await redis?.close();
    redis = undefined;
  });

  it('no acked event is lost, 503s are redelivered and answered, nothing is answered twice', async () => {
    redis = await startPrivateRedis();
    const storeUrl = `${redis.url}/0?prefix=outage:`;
    answerWith(fakes.openai, (text) => `Outage answer: ${text}`, { chunkSize: 400 });
    const bot = await startBotProcess({
      name: 'outage',
      env: serviceEnvironment({
        ...fakes,
        storeUrl,
        leaseMs: LEASE_MS,
        extra: { INSTANCE_ID: 'outage', MAX_CONCURRENT_JOBS: '8' },
      }),
    });
    const events = Array.from({ length: EVENTS }, (_, index) =>
      directMessage(fakes.feishu, `load ${index}`, { senderOpenId: `ou_outage_${index}` }),
    );
    const firstStatus: number[] = new Array(EVENTS).fill(-1);

    const sending = (async () => {
      const deliveries: Promise<void>[] = [];
      for (const [index, event] of events.entries()) {
        deliveries.push(
          deliver(bot.url, event).then((status) => {
            firstStatus[index] = status;
          }),
        );
        await sleep(SEND_INTERVAL_MS);
      }
      await Promise.all(deliveries);
    })();

    const readiness: {
      down?: number | 'down';
      healthDown?: number | 'down';
      storeUpMetric?: string;
      up?: number | 'down';
    } = {};
    const chaos = (async () => {
      await sleep(OUTAGE_AFTER_MS);
      await redis!.stop('kill');
      const outageStarted = Date.now();
      readiness.down = await waitForStatus(`${bot.url}/health/ready`, (status) => status === 503, 5_000);
      readiness.healthDown = await httpStatus(`${bot.url}/health`);
      // A scrape still answers, and says the store is down.
      const metrics = await (await fetch(`${bot.url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
      readiness.storeUpMetric = metrics.match(/^feishu_bot_store_up\{[^}]*\} (\d)$/m)?.[1];
      await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageStarted)));
      await redis!.start();
      readiness.up = await waitForStatus(`${bot.url}/health/ready`, (status) => status === 200, 15_000);
    })();
    await Promise.all([sending, chaos]);

    expect(readiness).toEqual({ down: 503, healthDown: 503, storeUpMetric: '0', up: 200 });
    // Only ever 200 (persisted or a duplicate) or 503 (not persisted: Feishu retries): no 500, no hang.
    const counts = { ok: 0, unavailable: 0 };
    for (const status of firstStatus) {
      expect([200, 503]).toContain(status);
      if (status === 200) counts.ok += 1;
      else counts.unavailable += 1;
    }
    // The outage really hit the load (else this test proves nothing), and the service came back.
    expect(counts.unavailable).toBeGreaterThan(0);
    expect(counts.ok).toBeGreaterThan(0);

    // Feishu re-delivers what was not acknowledged; the redelivery is accepted now.
    for (const [index, event] of events.entries()) {
      if (firstStatus[index] === 200) continue;
      let status = 0;
      for (let attempt = 0; attempt < 20 && status !== 200; attempt++) {
        status = await deliver(bot.url, event);
        if (status !== 200) await sleep(250);
      }
      expect(status, `redelivery of event ${index}`).toBe(200);
    }

    // Every message is answered: one reply each, closed, with its own answer.
    const messageIds = events.map((event) => event.event.message.message_id);
    const answered = (messageId: string) => {
      const [reply] = fakes.feishu.repliesTo(messageId, { fromBot: true });
      const card = reply ? fakes.feishu.cardForMessage(reply.messageId) : undefined;
      return card !== undefined && !card.streaming;
    };
    await fakes.feishu
      .waitFor(() => messageIds.every(answered), { timeoutMs: 45_000, description: 'a closed card for every message' })
      .catch(async (error: Error) => {
        const diagnosis = await openStore(storeUrl);
        const missing: string[] = [];
        const problems: string[] = [];
        for (const [index, messageId] of messageIds.entries()) {
          if (answered(messageId)) continue;
          const job = await diagnosis.getJob(`message:${messageId}`);
          const replies = fakes.feishu.repliesTo(messageId, { fromBot: true }).length;
          missing.push(
            `#${index} (first status ${firstStatus[index]}, replies ${replies}, job ${job ? `${job.status}/${job.attempts}/${job.lastError}` : 'none'})`,
          );
          problems.push(
            ...bot
              .logs()
              .filter((line) => JSON.stringify(line).includes(messageId))
              .map((line) => {
                const { time, level, msg, err } = line as {
                  time: string;
                  level: number;
                  msg: string;
                  err?: { message?: string };
                };
                return `${time} ${level} ${msg}${err?.message ? `: ${err.message.slice(0, 120)}` : ''}`;
              }),
          );
        }
        await diagnosis.close();
        throw new Error(
          `${missing.length} of ${EVENTS} unanswered: ${missing.slice(0, 20).join(', ')}\n` +
            `their log lines:\n${problems.slice(0, 30).join('\n')}\n${error.message.slice(0, 300)}`,
        );
      });
    const store = await openStore(storeUrl);
    try {
      const deadline = Date.now() + 15_000;
      while ((await store.countJobs()).done < EVENTS && Date.now() < deadline) await sleep(100);
      expect(await store.countJobs()).toEqual({ pending: 0, leased: 0, done: EVENTS, dead: 0 });
    } finally {
      await store.close();
    }
    // Nothing was answered twice, including by a job resumed after the outage.
    for (const [index, messageId] of messageIds.entries()) {
      expectAnsweredOnce(fakes.feishu, messageId, `Outage answer: load ${index}`);
    }
    expect(fakes.feishu.messages({ fromBot: true })).toHaveLength(EVENTS);
  }, 120_000);
});
