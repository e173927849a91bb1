/**
 * Schedules across instances: two real service processes (`node dist/server.js`) on one Redis,
 * both polling for due schedules every 100 ms. A schedule that comes due is run by one of them:
 * one reminder card in the chat, one run counted across both instances' /metrics.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { SchedulePayload } from '../../lib/schedules/schedule-payload.js';
import { openStore } from '../../lib/store/open-store.js';
import type { Store } from '../../lib/store/store.js';
import { type BotProcess, killBotProcesses, sleep, startBotProcess } from '../support/bot-process.js';
import { serviceEnvironment, useServiceFakes } from '../support/real-stack.js';
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
});
