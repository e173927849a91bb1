/**
 * PM2 cluster mode on one host, every event answered exactly once: the real ecosystem.config.js with BOT_INSTANCES=2 runs
 * two processes of `dist/server.js` on one port, sharing one SQLite file (WAL). Distinct events
 * and duplicates of them (the same event twice at once, and once more later) are each answered
 * exactly once, and both instances take work (they say so in the merged log, by `instance`).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../lib/store/sqlite-store.js';
import { type FakeFeishu, startFakeFeishu } from '../fakes/fake-feishu.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/fake-openai.js';
import { ensureBuilt, freePort, sleep, waitForStatus } from '../support/bot-process.js';
import { type Pm2Harness, startPm2Harness } from '../support/pm2-harness.js';
import {
  answerWith,
  deliver,
  directMessage,
  expectAnsweredOnce,
  serviceEnvironment,
  waitForClosedCard,
} from '../support/real-stack.js';

const APP = 'feishu-bot-cluster-e2e';
const EVENTS = 16;
/** Per instance: with answers of about a second, one instance alone cannot hold every lane. */
const CONCURRENCY = 3;

describe('PM2 cluster mode, 2 instances, one SQLite file', () => {
  let feishu: FakeFeishu;
  let openai: FakeOpenAI;
  let pm2: Pm2Harness | undefined;
  let port: number;
  let storePath: string;

  beforeAll(async () => {
    ensureBuilt();
    feishu = await startFakeFeishu();
    openai = await startFakeOpenAI();
    pm2 = await startPm2Harness({ prefix: 'pm2-cluster-' });
    port = await freePort();
    storePath = join(pm2.home, 'bot.db');
    const env = serviceEnvironment({
      feishu,
      openai,
      storeUrl: `sqlite:${storePath}`,
      extra: {
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'info',
        MAX_CONCURRENT_JOBS: String(CONCURRENCY),
      },
    });
    // The production switch: the ecosystem file reads it when PM2 loads the file (in this process).
    const previous = process.env.BOT_INSTANCES;
    process.env.BOT_INSTANCES = '2';
    try {
      await pm2.startApp({ name: APP, env });
    } finally {
      if (previous === undefined) delete process.env.BOT_INSTANCES;
      else process.env.BOT_INSTANCES = previous;
    }
    await waitForStatus(`http://127.0.0.1:${port}/health/ready`, (status) => status === 200, 30_000);
  }, 120_000);

  afterAll(async () => {
    await pm2?.close();
    await openai?.close();
    await feishu?.close();
  }, 60_000);

  it('runs two online instances in cluster mode with distinct instance ids', async () => {
    const processes = await pm2!.describe(APP);
    expect(processes).toHaveLength(2);
    for (const each of processes) {
      expect(each.pm2_env?.status).toBe('online');
      expect(each.pm2_env?.exec_mode).toBe('cluster_mode');
    }
    // INSTANCE_ID defaults to host:NODE_APP_INSTANCE under PM2: one per instance.
    const listening = pm2!.appLog().filter((line) => line.msg === 'listening');
    const instances = new Set(listening.map((line) => String(line.instance)));
    expect(instances.size).toBe(2);
    for (const instance of instances) expect(instance).toMatch(/:(0|1)$/);
  });

  it('answers each of many events once, duplicates included, with both instances taking work', async () => {
    answerWith(openai, (text) => `Cluster answer: ${text}`, { chunkSize: 4, chunkDelayMs: 40 });
    const url = `http://127.0.0.1:${port}`;
    const events = Array.from({ length: EVENTS }, (_, index) =>
      directMessage(feishu, `cluster question ${index}`, { senderOpenId: `ou_cluster_${index}` }),
    );
    // Each event twice at once (Feishu retrying while the first delivery is in flight).
    const statuses = await Promise.all(events.flatMap((event) => [deliver(url, event), deliver(url, event)]));
    expect(statuses.every((status) => status === 200)).toBe(true);

    const messageIds = events.map((event) => event.event.message.message_id);
    for (const messageId of messageIds) await waitForClosedCard(feishu, messageId, 60_000);
    // And once more after the answers: a late re-delivery.
    for (const event of events.slice(0, 4)) expect(await deliver(url, event)).toBe(200);

    const store = openSqliteStore(storePath);
    try {
      const deadline = Date.now() + 15_000;
      while ((await store.countJobs()).done < EVENTS && Date.now() < deadline) await sleep(100);
      expect(await store.countJobs()).toMatchObject({ pending: 0, leased: 0, done: EVENTS, dead: 0 });
      for (const messageId of messageIds) {
        expect(await store.getJob(`message:${messageId}`)).toMatchObject({ status: 'done', attempts: 1 });
      }
    } finally {
      await store.close();
    }
    await sleep(300);
    for (const [index, messageId] of messageIds.entries()) {
      expectAnsweredOnce(feishu, messageId, `Cluster answer: cluster question ${index}`);
    }
    // The model ran once per message: dedupe, not the reply uuid, kept them single.
    const modelCalls = openai.requests.filter((request) =>
      JSON.stringify(request.messages).includes('cluster question'),
    );
    expect(modelCalls).toHaveLength(EVENTS);

    const finished = pm2!.appLog().filter((line) => line.msg === 'job finished' && line.outcome === 'done');
    expect(finished).toHaveLength(EVENTS);
    const byInstance = new Map<string, number>();
    for (const line of finished)
      byInstance.set(String(line.instance), (byInstance.get(String(line.instance)) ?? 0) + 1);
    expect([...byInstance.keys()]).toHaveLength(2);
  }, 90_000);
});
