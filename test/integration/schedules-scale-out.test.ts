/**
 * Schedules across instances and restarts, with real service processes (`node dist/server.js`)
 * on one Redis, polling for due schedules every 100 ms:
 *
 * - two instances: a schedule that comes due is run by one of them (one reminder card, one run
 *   counted across both instances' /metrics);
 * - a restart mid-run: the instance writing a scheduled run's answer is SIGKILLed; the next one
 *   takes the run over after the lease and finishes the same card, once.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { SchedulePayload } from '../../lib/schedules/schedule-payload.js';
import { openStore } from '../../lib/store/open-store.js';
import type { Store } from '../../lib/store/store.js';
import { type BotProcess, killBotProcesses, sleep, startBotProcess } from '../support/bot-process.js';
import { answerWith, serviceEnvironment, useServiceFakes } from '../support/real-stack.js';
import { removeRedisPrefix } from '../support/redis-prefix.js';
import { REDIS_URL, requireRedis } from '../support/requirements.js';

const redisAvailable = await requireRedis();

async function scheduleRuns(instance: BotProcess, outcome: string): Promise<number> {
  const text = await (await fetch(`${instance.url}/metrics`)).text();
  const line = text.split('\n').find((each) => each.startsWith(`feishu_bot_schedule_runs_total{outcome="${outcome}"`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describe.runIf(redisAvailable)('schedules on two service processes sharing one Redis', () => {
  const fakes = useServiceFakes();
  let prefix = '';
  let store: Store | undefined;
  afterEach(async () => {
    await killBotProcesses();
    await store?.close();
    store = undefined;
    await removeRedisPrefix(REDIS_URL, prefix);
  });

  it('a due schedule both instances poll for is run once: one reminder card', async () => {
    prefix = `schedules-scale:${randomUUID()}:`;
    const storeUrl = `${REDIS_URL}/0?prefix=${prefix}`;
    store = await openStore(storeUrl);
    const start = (instance: string) =>
      startBotProcess({
        name: instance,
        env: serviceEnvironment({
          ...fakes,
          storeUrl,
          extra: { INSTANCE_ID: instance, SCHEDULE_POLL_SECONDS: '0.1' },
        }),
      });
    const [a, b] = await Promise.all([start('sched-a'), start('sched-b')]);

    const chatId = `oc_pair_${randomUUID().slice(0, 8)}`;
    const at = Date.now() + 1_500;
    const payload: SchedulePayload = {
      when: { kind: 'once', at },
      action: 'remind',
      text: 'Pair reminder: only once',
      target: { chatId, chatType: 'group' },
      timeZone: 'Asia/Shanghai',
    };
    expect(await store.addSchedule({ id: 'pair0001', scope: `chat:${chatId}`, nextRunAt: at, payload }, 20)).toBe(
      'added',
    );

    await fakes.feishu.waitFor(
      () => {
        const [post] = fakes.feishu.messages({ chatId, fromBot: true });
        return post !== undefined && fakes.feishu.cardForMessage(post.messageId)?.streaming === false;
      },
      { timeoutMs: 20_000, description: `the reminder card in ${chatId}` },
    );
    // Both keep polling: give the other a good number of rounds to (wrongly) run it again.
    await sleep(1_500);
    const posts = fakes.feishu.messages({ chatId, fromBot: true });
    expect(posts).toHaveLength(1);
    expect(fakes.feishu.visibleText(posts[0]?.messageId ?? '')).toContain('Pair reminder: only once');
    expect(await store.getSchedule('pair0001')).toBeNull();
    expect((await scheduleRuns(a, 'ran')) + (await scheduleRuns(b, 'ran'))).toBe(1);
    expect((await scheduleRuns(a, 'duplicate')) + (await scheduleRuns(b, 'duplicate'))).toBe(0);
  });

  it('SIGKILL the instance writing a scheduled run: the restarted service finishes the same card once', async () => {
    prefix = `schedules-restart:${randomUUID()}:`;
    const storeUrl = `${REDIS_URL}/0?prefix=${prefix}`;
    store = await openStore(storeUrl);
    const answer = Array.from({ length: 10 }, (_, index) => `Week part ${index + 1}.`).join(' ');
    answerWith(fakes.openai, () => answer, { chunkSize: 8, chunkDelayMs: 60 });
    const start = (instance: string) =>
      startBotProcess({
        name: instance,
        env: serviceEnvironment({
          ...fakes,
          storeUrl,
          extra: { INSTANCE_ID: instance, SCHEDULE_POLL_SECONDS: '0.1' },
        }),
      });
    const first = await start('sched-first');
    const chatId = `oc_restart_${randomUUID().slice(0, 8)}`;
    const at = Date.now() + 500;
    const payload: SchedulePayload = {
      when: { kind: 'once', at },
      action: 'run',
      text: "Summarize this chat's week",
      target: { chatId, chatType: 'group' },
      timeZone: 'Asia/Shanghai',
    };
    await store.addSchedule({ id: 'restart1', scope: `chat:${chatId}`, nextRunAt: at, payload }, 20);

    const post = () => fakes.feishu.messages({ chatId, fromBot: true })[0];
    const updates = () => {
      const card = post() ? fakes.feishu.cardForMessage(post()?.messageId ?? '') : undefined;
      return card ? Object.values(card.elements).reduce((sum, element) => sum + element.contentHistory.length, 0) : 0;
    };
    await fakes.feishu.waitFor(() => updates() >= 3, { timeoutMs: 30_000, description: 'a few streamed updates' });
    first.kill('SIGKILL');
    await first.exited;
    const interrupted = fakes.feishu.cardForMessage(post()?.messageId ?? '');
    expect(interrupted?.streaming).toBe(true);

    await start('sched-second');
    await fakes.feishu.waitFor(() => fakes.feishu.cardForMessage(post()?.messageId ?? '')?.streaming === false, {
      timeoutMs: 40_000,
      description: 'the scheduled run finished by the restarted service',
    });
    const posts = fakes.feishu.messages({ chatId, fromBot: true });
    expect(posts).toHaveLength(1);
    expect(fakes.feishu.cardForMessage(posts[0]?.messageId ?? '')?.cardId).toBe(interrupted?.cardId);
    expect(fakes.feishu.visibleText(posts[0]?.messageId ?? '')).toContain('Week part 10.');
    // One job for the due time, run twice (the second attempt after the lease), never re-enqueued.
    const jobs = (await store.listJobs({ limit: 10 })).filter((job) => job.kind === 'proactive');
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.attempts).toBe(2);
    expect(await store.getSchedule('restart1')).toBeNull();
  }, 90_000);
});
