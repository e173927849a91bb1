/**
 * Scale-out, several instances on one Redis: two real service processes (`node dist/server.js`) share one Redis
 * (STORE_URL=redis://…?prefix=<unique>:) and the fakes. Each test gets its own key prefix (so
 * its own queue, dedupe and lanes), removed afterwards.
 *
 * - the same event posted to both at once is answered once (and the model runs once);
 * - SIGKILL the holder mid-answer: the other instance takes the job over after the lease
 *   expires and finishes the same card, once;
 * - one conversation's messages posted alternately to both are answered in order, one at a time;
 * - /health and /metrics say which instance answered.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../lib/store/open-store.js';
import type { Job, Store } from '../../lib/store/store.js';
import { type BotProcess, killBotProcesses, sleep, startBotProcess } from '../support/bot-process.js';
import {
  answerWith,
  deliver,
  directMessage,
  expectAnsweredOnce,
  serviceEnvironment,
  streamedUpdates,
  useServiceFakes,
  waitForClosedCard,
} from '../support/real-stack.js';
import { removeRedisPrefix } from '../support/redis-prefix.js';
import { REDIS_URL, requireRedis } from '../support/requirements.js';

const redisAvailable = await requireRedis();
const LEASE_MS = 2_000;

async function waitForJob(store: Store, id: string, done: (job: Job | null) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await store.getJob(id);
    if (done(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} never reached the expected state: ${JSON.stringify(job)}`);
    await sleep(50);
  }
}

describe.runIf(redisAvailable)('two service processes on one Redis', () => {
  const fakes = useServiceFakes();
  let prefix: string;
  let storeUrl: string;
  let store: Store | undefined;
  afterEach(async () => {
    await killBotProcesses();
    await store?.close();
    store = undefined;
    await removeRedisPrefix(REDIS_URL, prefix);
  });

  /** Instances `scale-a` and `scale-b` on a fresh prefix, started in parallel. */
  async function startPair(extra: Record<string, string> = {}): Promise<[BotProcess, BotProcess]> {
    prefix = `scale-test:${randomUUID()}:`;
    storeUrl = `${REDIS_URL}/0?prefix=${prefix}`;
    store = await openStore(storeUrl);
    const start = (instance: string) =>
      startBotProcess({
        name: instance,
        env: serviceEnvironment({
          ...fakes,
          storeUrl,
          leaseMs: LEASE_MS,
          extra: { INSTANCE_ID: instance, ...extra },
        }),
      });
    const [a, b] = await Promise.all([start('scale-a'), start('scale-b')]);
    return [a, b];
  }

  it('the same event posted to both instances at once is answered once', async () => {
    answerWith(fakes.openai, (text) => `Once only: ${text}`);
    const [a, b] = await startPair();
    const event = directMessage(fakes.feishu, `concurrent ${randomUUID()}`, { senderOpenId: 'ou_scale_concurrent' });
    const messageId = event.event.message.message_id;
    const text = JSON.parse(event.event.message.content).text as string;

    // Both acknowledge (one persisted it, the other found it a duplicate): Feishu stops retrying.
    const statuses = await Promise.all([deliver(a.url, event), deliver(b.url, event), deliver(a.url, event)]);
    expect(statuses).toEqual([200, 200, 200]);
    await waitForClosedCard(fakes.feishu, messageId);
    expectAnsweredOnce(fakes.feishu, messageId, `Once only: ${text}`);
    const job = await waitForJob(store!, `message:${messageId}`, (current) => current?.status === 'done');
    expect(job).toMatchObject({ attempts: 1 });
    // Dedupe, not the Feishu uuid, kept it single: the model ran once for this message.
    await sleep(300);
    expect(fakes.openai.requests.filter((request) => JSON.stringify(request.messages).includes(text))).toHaveLength(1);
  }, 60_000);

  it('SIGKILL the instance answering: the other finishes the job once after the lease expires', async () => {
    const answer = Array.from({ length: 10 }, (_, index) => `Part ${index + 1} of the long answer.`).join(' ');
    answerWith(fakes.openai, () => answer, { chunkSize: 8, chunkDelayMs: 60 });
    const [a, b] = await startPair();
    const event = directMessage(fakes.feishu, 'a long question', { senderOpenId: 'ou_scale_failover' });
    const messageId = event.event.message.message_id;
    const jobId = `message:${messageId}`;
    expect(await deliver(a.url, event)).toBe(200);

    await fakes.feishu.waitFor(() => streamedUpdates(fakes.feishu, messageId) >= 3, {
      timeoutMs: 30_000,
      description: 'a few streamed card updates',
    });
    // Whoever claimed it (the poll of b may have beaten a's wake) is the one to kill.
    // Lease owners are `<instance>#<boot id>`: one incarnation never acts on another's lease.
    const holder = (await store!.getJob(jobId))?.owner?.split('#')[0];
    expect(['scale-a', 'scale-b']).toContain(holder);
    const [victim, survivor] = holder === 'scale-a' ? [a, b] : [b, a];
    victim.kill('SIGKILL');
    await victim.exited;
    const [interrupted] = fakes.feishu.repliesTo(messageId, { fromBot: true });
    const interruptedCard = fakes.feishu.cardForMessage(interrupted!.messageId)!;
    expect(interruptedCard.streaming).toBe(true);

    await waitForClosedCard(fakes.feishu, messageId, 40_000);
    const { card } = expectAnsweredOnce(fakes.feishu, messageId, answer);
    expect(card.cardId).toBe(interruptedCard.cardId);
    const job = await waitForJob(store!, jobId, (current) => current?.status === 'done');
    expect(job).toMatchObject({ attempts: 2 });
    // The survivor logged the job it resumed.
    expect(survivor.logs().some((line) => line.instance === survivor.name)).toBe(true);
  }, 60_000);

  it('one conversation posted alternately to both instances is answered in order, one at a time', async () => {
    // Slow enough that later messages arrive while earlier ones are still being answered.
    answerWith(fakes.openai, (text) => `In order: ${text}`, { chunkSize: 6, chunkDelayMs: 25 });
    const [a, b] = await startPair();
    const sender = 'ou_scale_ordering';
    const messageIds: string[] = [];
    for (let index = 0; index < 6; index++) {
      const event = directMessage(fakes.feishu, `message number ${index}`, { senderOpenId: sender });
      messageIds.push(event.event.message.message_id);
      expect(await deliver(index % 2 === 0 ? a.url : b.url, event)).toBe(200);
    }
    for (const [index, messageId] of messageIds.entries()) {
      await waitForClosedCard(fakes.feishu, messageId, 40_000);
      expectAnsweredOnce(fakes.feishu, messageId, `In order: message number ${index}`);
    }
    // Replies were created in message order.
    const chatId = fakes.feishu.message(messageIds[0]!)!.chatId;
    const replyParents = fakes.feishu.messages({ chatId, fromBot: true }).map((reply) => reply.parentId);
    expect(replyParents).toEqual(messageIds);
    // And the lane had one holder at a time: each model call started after the previous ended.
    const calls = fakes.openai.requests.filter((request) =>
      JSON.stringify(request.messages).includes('message number'),
    );
    expect(calls.map((request) => request.at).sort((x, y) => x - y)).toEqual(calls.map((request) => request.at));
    for (let index = 1; index < calls.length; index++) {
      expect(calls[index]!.at).toBeGreaterThanOrEqual(calls[index - 1]!.endedAt!);
    }
    // Both instances took part: each logged jobs it finished (an instance claims only what its lane allows).
    const finishedBy = (process: BotProcess) =>
      process
        .logs()
        .filter((line) => line.msg === 'job finished' && line.outcome === 'done' && line.instance === process.name)
        .length;
    // The card closes just before the job is marked done: give the last one a moment.
    const deadline = Date.now() + 5_000;
    while (finishedBy(a) + finishedBy(b) < messageIds.length && Date.now() < deadline) await sleep(50);
    await sleep(200);
    expect(finishedBy(a) + finishedBy(b)).toBe(messageIds.length);
  }, 60_000);

  it('/health and /metrics name the instance that answered', async () => {
    const [a, b] = await startPair();
    for (const instance of [a, b]) {
      const health = (await (await fetch(`${instance.url}/health`)).json()) as { instance?: string };
      expect(health.instance).toBe(instance.name);
      const ready = (await (await fetch(`${instance.url}/health/ready`)).json()) as {
        checks: Array<{ name: string; ok: boolean }>;
      };
      expect(ready.checks).toContainEqual(expect.objectContaining({ name: 'store', ok: true }));
      const metrics = await (await fetch(`${instance.url}/metrics`)).text();
      const samples = metrics.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
      expect(samples.length).toBeGreaterThan(10);
      for (const sample of samples) expect(sample).toContain(`instance="${instance.name}"`);
    }
  }, 60_000);
});
