import { describe, expect, it } from 'vitest';
import {
  BOT_OPEN_ID,
  createRecordingReplySink,
  jobContext,
  messageEvent,
  type RecordingReplySink,
} from '../../test/support/agent-test-kit.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../log.js';
import { createEventBus } from '../observe/event-bus.js';
import { openStore } from '../store/open-store.js';
import { createNoticeHandler } from './notice-handlers.js';

const config = loadConfig({ NODE_ENV: 'test' });
const log = createLogger({ level: 'silent' });

describe('createNoticeHandler', () => {
  it('answers a message the bot would answer with a busy notice, and ignores the rest', async () => {
    const bus = createEventBus();
    const sinks: RecordingReplySink[] = [];
    const notice = createNoticeHandler({
      bus,
      log,
      botOpenId: BOT_OPEN_ID,
      replySinkFor: () => {
        const sink = createRecordingReplySink();
        sinks.push(sink);
        return sink;
      },
      policy: config.policy,
    });
    await notice(jobContext(messageEvent({ text: 'hello' })));
    await notice(jobContext(messageEvent({ text: 'not for the bot', mentionBot: false })));
    expect(sinks).toHaveLength(1);
    expect(sinks[0]?.finalText).toMatch(/lot of messages/);
    // A Chinese message gets the notice in Chinese, its card labelled in Chinese too.
    const contexts: Array<string | undefined> = [];
    const chinese = createNoticeHandler({
      bus,
      log,
      botOpenId: BOT_OPEN_ID,
      replySinkFor: (context) => {
        contexts.push(context.language);
        const sink = createRecordingReplySink();
        sinks.push(sink);
        return sink;
      },
      policy: config.policy,
    });
    await chinese(jobContext(messageEvent({ text: '你好，帮我看看' })));
    expect(sinks[1]?.finalText).toBe('我现在要处理的消息太多了，请一分钟后再试。');
    expect(contexts).toEqual(['zh']);
  });

  /** A notice handler whose replies are counted, and the bus events of one type it emitted. */
  function countingNotice(policy: typeof config.policy, eventType: 'message.ignored' | 'message.bot-skipped') {
    const bus = createEventBus();
    const seen: string[] = [];
    bus.subscribe((event) => {
      if (event.type === 'message.ignored' && eventType === event.type) seen.push(event.reason);
      if (event.type === 'message.bot-skipped' && eventType === event.type) seen.push(event.sender);
    });
    const counted = { sinks: 0, seen };
    const notice = createNoticeHandler({
      bus,
      log,
      botOpenId: BOT_OPEN_ID,
      replySinkFor: () => {
        counted.sinks += 1;
        return createRecordingReplySink();
      },
      policy,
    });
    return { notice, counted };
  }

  it('sends no notice where the allowlists say the bot may not talk', async () => {
    const { notice, counted } = countingNotice(
      { ...config.policy, allowedChatIds: ['oc_somewhere_else'] },
      'message.ignored',
    );
    await notice(jobContext(messageEvent({ text: 'hello' })));
    expect(counted.sinks).toBe(0);
    expect(counted.seen).toEqual(['not allowed']);
  });

  it('counts busy notices against the per-user and per-chat limits: a flood gets its one rate-limit reply, then silence', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      const sinks: RecordingReplySink[] = [];
      const notice = createNoticeHandler({
        bus: createEventBus(),
        log,
        botOpenId: BOT_OPEN_ID,
        replySinkFor: () => {
          const sink = createRecordingReplySink();
          sinks.push(sink);
          return sink;
        },
        policy: { ...config.policy, userMessagesPerMinute: 2 },
        store,
      });
      for (let index = 0; index < 6; index++) await notice(jobContext(messageEvent({ text: `flood ${index}` })));
      const texts = sinks.map((sink) => sink.finalText ?? '');
      expect(texts).toHaveLength(3);
      expect(texts.slice(0, 2).every((text) => /lot of messages/.test(text))).toBe(true);
      expect(texts[2]).toMatch(/faster than I can answer/);
    } finally {
      await store.close();
    }
  });

  it.each([
    ['sender_type bot', { senderType: 'bot' }, 'bot'],
    ['sender_type app', { senderType: 'app' }, 'app'],
    ['our own open_id, typed as a user', { userId: BOT_OPEN_ID }, 'self'],
  ] as const)('sends no busy notice to a bot (%s), and counts it skipped', async (_name, sender, form) => {
    const { notice, counted } = countingNotice(config.policy, 'message.bot-skipped');
    await notice(jobContext(messageEvent({ text: 'ping', ...sender })));
    expect(counted.sinks).toBe(0);
    expect(counted.seen).toEqual([form]);
  });
});
