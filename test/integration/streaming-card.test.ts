import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReplySink } from '../../lib/conversation/reply-sink.js';
import { type CardCheckpoint, parseCardCheckpoint } from '../../lib/feishu/reply/card-checkpoint.js';
import { createReplySinkForJob } from '../../lib/feishu/reply/reply-for-job.js';
import {
  createStreamingCardReply,
  type StreamingCardReplyOptions,
} from '../../lib/feishu/reply/streaming-card-reply.js';
import { silentLogger } from '../../lib/log.js';
import type { BotEvent } from '../../lib/observe/bot-event.js';
import { createEventBus, type EventBus } from '../../lib/observe/event-bus.js';
import { type CardState, type FakeMessage, FEISHU_CODES } from '../fakes/fake-feishu.js';
import { useFakeFeishuChat } from '../support/fake-feishu-chat.js';
import { jobAttempts } from '../support/job-attempts.js';

const UPDATES_PER_SECOND = 5;
const GROUP_CHAT = 'oc_streaming_group';
const THREAD = 'omt_streaming_thread';

const chat = useFakeFeishuChat((fake) => {
  // A group thread: its root, then the user's question inside it.
  fake.seedMessage({ chatId: GROUP_CHAT, chatType: 'group', threadId: THREAD, text: 'Release planning' });
  return fake.seedMessage({ chatId: GROUP_CHAT, threadId: THREAD, text: '@bot how do I stream?' });
});
let bus: EventBus;
let events: BotEvent[];

beforeEach(() => {
  bus = createEventBus();
  events = [];
  bus.subscribe((event) => events.push(event));
});

afterEach(() => {
  expect(chat.fake.rateLimitViolations()).toEqual([]);
});

function sinkFor(overrides: Partial<StreamingCardReplyOptions> = {}): ReplySink {
  return createStreamingCardReply({
    client: chat.client,
    bus,
    log: silentLogger(),
    traceId: 'job-1',
    target: { messageId: chat.userMessage.messageId, chatId: GROUP_CHAT, replyInThread: true },
    idempotencyKey: (part) => `job-1-${part}`,
    updatesPerSecond: UPDATES_PER_SECOND,
    backoff: { initialMs: 20, maxMs: 200, jitter: 0 },
    requestTimeoutMs: 5_000,
    ...overrides,
  });
}

/** A long answer with prose, lists and fenced code, like a model's. */
function longAnswer(paragraphs: number): string {
  const parts: string[] = [];
  for (let index = 0; index < paragraphs; index++) {
    if (index % 5 === 2) {
      parts.push(
        `\`\`\`ts\n// step ${index}\nexport function step${index}(input: string): string {\n  return input.trim().toUpperCase();\n}\n\`\`\``,
      );
    } else if (index % 5 === 4) {
      parts.push(`- item ${index}.a with **bold** text\n- item ${index}.b with \`inline code\`\n  1. nested ${index}`);
    } else {
      parts.push(
        `Paragraph ${index}: streaming answers arrive a few words at a time, and the card shows the full text so far. 中文也可以。`,
      );
    }
  }
  return parts.join('\n\n');
}

/** Feeds growing prefixes of `text` to the sink the way a model stream would. */
async function feed(
  sink: ReplySink,
  text: string,
  {
    chunk = 60,
    intervalMs = 10,
    onProgress,
  }: { chunk?: number; intervalMs?: number; onProgress?: (sent: number) => void } = {},
): Promise<void> {
  for (let sent = chunk; ; sent += chunk) {
    sink.update(text.slice(0, Math.min(sent, text.length)));
    onProgress?.(sent);
    if (sent >= text.length) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function botReplies(): FakeMessage[] {
  return chat.fake.messages({ chatId: GROUP_CHAT, fromBot: true });
}

function cardOf(message: FakeMessage): CardState {
  const card = chat.fake.cardForMessage(message.messageId);
  if (!card) throw new Error(`message ${message.messageId} shows no CardKit card`);
  return card;
}

function expectStrictlyIncreasing(values: readonly number[]): void {
  for (let index = 1; index < values.length; index++) expect(values[index]!).toBeGreaterThan(values[index - 1]!);
}

/** No more than `perSecond` accepted operations in any one-second window. */
function expectAtMostPerSecond(times: readonly number[], perSecond: number): void {
  for (let index = perSecond; index < times.length; index++) {
    expect(times[index]! - times[index - perSecond]!).toBeGreaterThanOrEqual(1000);
  }
}

describe('streaming card reply (real lark SDK against the fake Feishu)', () => {
  it('streams one card into the thread with the exact final text, ordered sequences and throttled updates', async () => {
    const answer = longAnswer(40);
    const sink = sinkFor();
    await sink.start();
    // The "thinking" card is visible as soon as start() resolves, before the first words arrive.
    const [thinking] = botReplies();
    expect(thinking?.threadId).toBe(THREAD);
    expect(cardOf(thinking!).streaming).toBe(true);

    const feedStartedAt = Date.now();
    await feed(sink, answer);
    await sink.finish(answer);
    const streamedForMs = Date.now() - feedStartedAt;

    const replies = botReplies();
    expect(replies).toHaveLength(1);
    const reply = replies[0]!;
    expect(reply.threadId).toBe(THREAD);
    expect(reply.parentId).toBe(chat.userMessage.messageId);
    expect(reply.msgType).toBe('interactive');
    expect(reply.uuid).toBe('job-1-card-0');
    expect(chat.fake.visibleText(reply.messageId)).toBe(answer);

    const card = cardOf(reply);
    expect(card.streaming).toBe(false);
    expect(card.streamingClosedBy).toBe('settings');
    expect(card.rejectedSequences).toEqual([]);
    expectStrictlyIncreasing(card.sequenceHistory);
    expect(card.sequenceHistory[0]).toBeGreaterThan(1_000_000);
    expectAtMostPerSecond(card.updateTimes, UPDATES_PER_SECOND);
    // Coalesced: more than one write, but no more than the rate allows over the time it took
    // (the ~80 updates fed are not each sent).
    const contentCalls = chat.fake.callsTo('cardkit.cardElement.content');
    expect(contentCalls.length).toBeGreaterThan(2);
    expect(contentCalls.length).toBeLessThanOrEqual(Math.ceil((streamedForMs / 1000) * UPDATES_PER_SECOND) + 2);
    for (const call of contentCalls) {
      // Every write carries the FULL text so far, never a delta.
      const content = (call.body as { content: string }).content;
      expect(answer.startsWith(content) || content === '⏳ Thinking…').toBe(true);
    }
    const summary = (card.card.config as { summary?: { content?: string } }).summary?.content ?? '';
    expect(summary.startsWith('Paragraph 0')).toBe(true);

    const types = events.map((event) => event.type);
    expect(types).toContain('reply.started');
    expect(types).toContain('reply.update');
    expect(events.filter((event) => event.type === 'reply.finished')).toEqual([
      expect.objectContaining({ mode: 'card', cards: 1, length: answer.length, text: answer }),
    ]);
    // One card: nothing rolled over.
    expect(events.filter((event) => event.type === 'reply.card')).toEqual([]);
    const apiEvents = events.filter((event) => event.type === 'feishu.api');
    expect(apiEvents.map((event) => event.api)).toEqual(
      expect.arrayContaining(['cardkit.v1.card.create', 'im.v1.message.reply', 'cardkit.v1.cardElement.content']),
    );
    expect(apiEvents.every((event) => event.outcome === 'ok')).toBe(true);
  });

  it('backs off through a 230020 / 429 storm mid-stream and still lands the exact final text', async () => {
    const answer = longAnswer(30);
    const sink = sinkFor();
    await sink.start();
    let injected = false;
    await feed(sink, answer, {
      onProgress: (sent) => {
        if (injected || sent < answer.length / 3) return;
        injected = true;
        // Every card write: streamed text, or the one update that closes the card with its final text.
        const cardWrite = ({ path }: { path: string }) => path.endsWith('/content') || /\/cards\/[^/]+$/.test(path);
        chat.fake.inject({
          api: '*',
          match: cardWrite,
          times: 3,
          status: 400,
          code: FEISHU_CODES.messageRateLimited,
        });
        chat.fake.inject({
          api: '*',
          match: cardWrite,
          times: 1,
          status: 429,
          headers: { 'x-ogw-ratelimit-reset': '1' },
        });
      },
    });
    await sink.finish(answer);

    const [reply] = botReplies();
    expect(botReplies()).toHaveLength(1);
    expect(chat.fake.visibleText(reply!.messageId)).toBe(answer);
    expect(cardOf(reply!).streaming).toBe(false);
    // After the 429 that asked for a 1 s pause, the next write (more text, or the closing update) waited for it.
    const writes = chat.fake.calls.filter(
      (call) => call.api === 'cardkit.cardElement.content' || call.api === 'cardkit.card.update',
    );
    expect(writes.filter((call) => call.injected)).toHaveLength(4);
    const limited = writes.findIndex((call) => call.status === 429);
    expect(limited).toBeGreaterThanOrEqual(0);
    expect(writes[limited + 1]!.at - writes[limited]!.at).toBeGreaterThanOrEqual(950);
    const outcomes = events.filter((event) => event.type === 'feishu.api').map((event) => event.outcome);
    expect(outcomes.filter((outcome) => outcome === 'rate-limited')).toHaveLength(4);
  });

  it('recovers from 300317 (sequence out of order) by moving the sequence forward', async () => {
    const answer = longAnswer(12);
    const sink = sinkFor();
    await sink.start();
    chat.fake.inject({ api: 'cardkit.cardElement.content', times: 1, code: FEISHU_CODES.sequenceNotIncreasing });
    await feed(sink, answer);
    await sink.finish(answer);

    const [reply] = botReplies();
    expect(chat.fake.visibleText(reply!.messageId)).toBe(answer);
    const calls = chat.fake.callsTo('cardkit.cardElement.content');
    const rejected = calls.findIndex((call) => call.code === FEISHU_CODES.sequenceNotIncreasing);
    expect(rejected).toBeGreaterThanOrEqual(0);
    const sequenceOf = (index: number) => (calls[index]!.body as { sequence: number }).sequence;
    expect(sequenceOf(rejected + 1)).toBeGreaterThan(sequenceOf(rejected));
    expectStrictlyIncreasing(cardOf(reply!).sequenceHistory);
  });

  it('rolls over to further cards for an answer over 30 KB; every card closed, texts concatenate exactly', async () => {
    const answer = longAnswer(600);
    expect(Buffer.byteLength(answer)).toBeGreaterThan(60 * 1024);
    const sink = sinkFor({ updatesPerSecond: 10 });
    await sink.start();
    await feed(sink, answer, { chunk: 2_000, intervalMs: 15 });
    await sink.finish(answer);

    const replies = botReplies();
    expect(replies.length).toBeGreaterThanOrEqual(3);
    expect(replies.map((reply) => reply.uuid)).toEqual(replies.map((_, index) => `job-1-card-${index}`));
    for (const reply of replies) {
      expect(reply.threadId).toBe(THREAD);
      const card = cardOf(reply);
      expect(card.streaming).toBe(false);
      expect(Buffer.byteLength(JSON.stringify(card.card))).toBeLessThan(30 * 1024);
      expectStrictlyIncreasing(card.sequenceHistory);
      // Cut at a paragraph boundary, never inside a code block.
      const fences = chat.fake.visibleText(reply.messageId).match(/^```/gm) ?? [];
      expect(fences.length % 2).toBe(0);
    }
    expect(replies.map((reply) => chat.fake.visibleText(reply.messageId)).join('')).toBe(answer);
    expect(events.find((event) => event.type === 'reply.finished')).toMatchObject({
      cards: replies.length,
      text: answer,
    });
    // Each card the answer rolled over from is reported with the text it shows, in order.
    const rolledOver = events.flatMap((event) => (event.type === 'reply.card' ? [event] : []));
    const shown = replies.map((reply) => chat.fake.visibleText(reply.messageId));
    expect(rolledOver.map(({ index, cardId, text }) => ({ index, cardId, text }))).toEqual(
      replies.slice(0, -1).map((reply, index) => ({ index, cardId: cardOf(reply).cardId, text: shown[index] })),
    );
  });

  it('refreshes the tenant token after 99991663 mid-stream and carries on', async () => {
    const answer = longAnswer(20);
    const sink = sinkFor();
    await sink.start();
    let invalidated = false;
    await feed(sink, answer, {
      onProgress: (sent) => {
        if (!invalidated && sent > answer.length / 2) {
          invalidated = true;
          chat.fake.invalidateTokens();
        }
      },
    });
    await sink.finish(answer);

    const [reply] = botReplies();
    expect(chat.fake.visibleText(reply!.messageId)).toBe(answer);
    expect(chat.fake.issuedTokens().length).toBeGreaterThanOrEqual(2);
    expect(chat.fake.calls.some((call) => call.code === FEISHU_CODES.invalidAccessToken)).toBe(true);
    expect(cardOf(reply!).streaming).toBe(false);
  });

  it('falls back to a plain text reply with the full text when CardKit refuses to create cards', async () => {
    const answer = longAnswer(8);
    chat.fake.inject({
      api: 'cardkit.card.create',
      times: 5,
      status: 400,
      code: 99991672,
      msg: 'Access denied: cardkit',
    });
    const sink = sinkFor();
    await sink.start();
    // While the answer is produced, a reaction says the bot is on it.
    expect(chat.fake.reactions(chat.userMessage.messageId).map((reaction) => reaction.emojiType)).toEqual(['Typing']);
    await feed(sink, answer);
    await sink.finish(answer);

    const replies = botReplies();
    expect(replies).toHaveLength(1);
    expect(replies[0]!.msgType).toBe('text');
    expect(replies[0]!.threadId).toBe(THREAD);
    expect(chat.fake.visibleText(replies[0]!.messageId)).toBe(answer);
    expect(chat.fake.reactions(chat.userMessage.messageId)).toEqual([]);
    expect(chat.fake.callsTo('cardkit.cardElement.content')).toEqual([]);
    expect(events.find((event) => event.type === 'reply.finished')).toMatchObject({ mode: 'text' });
  });

  it('a resumed attempt continues the same card (re-opening its stream) instead of posting a second one', async () => {
    let saved: CardCheckpoint | undefined;
    const first = sinkFor({
      attempt: 1,
      saveCheckpoint: async (checkpoint) => {
        saved = checkpoint;
      },
    });
    await first.start();
    const partial = longAnswer(6);
    await feed(first, partial);
    await chat.fake.waitFor(() => chat.fake.cards()[0]?.elements.answer?.content === partial, {
      description: 'partial text',
    });
    // The process dies here: no finish. Ten minutes later streaming has closed itself.
    chat.fake.advanceClock(11 * 60 * 1000);
    expect(chat.fake.cards()[0]?.streaming).toBe(false);

    const checkpoint = parseCardCheckpoint(JSON.parse(JSON.stringify(saved)));
    expect(checkpoint?.cards).toHaveLength(1);
    const second = sinkFor({ attempt: 2, checkpoint });
    await second.start();
    const answer = `${longAnswer(10)}\n\nResumed.`;
    await feed(second, answer);
    await second.finish(answer);

    const replies = botReplies();
    expect(replies).toHaveLength(1);
    expect(chat.fake.visibleText(replies[0]!.messageId)).toBe(answer);
    const card = cardOf(replies[0]!);
    expect(card.streaming).toBe(false);
    expect(card.rejectedSequences).toEqual([]);
    expectStrictlyIncreasing(card.sequenceHistory);
    expect(card.sequenceHistory.at(-1)).toBeGreaterThan(2_000_000);
    // (chat.fake.reset() between tests revokes the SDK's cached token, so count only accepted creates.)
    expect(chat.fake.callsTo('cardkit.card.create').filter((call) => call.code === 0)).toHaveLength(1);
  });

  it('switches to a plain text reply mid-way when the card can no longer be written', async () => {
    const answer = longAnswer(15);
    const sink = sinkFor();
    await sink.start();
    let broken = false;
    await feed(sink, answer, {
      onProgress: (sent) => {
        if (!broken && sent > answer.length / 3) {
          broken = true;
          chat.fake.inject({ api: 'cardkit.cardElement.content', times: 1_000, status: 400, code: 99991672 });
        }
      },
    });
    await sink.finish(answer);

    const replies = botReplies();
    expect(replies.map((reply) => reply.msgType)).toEqual(['interactive', 'text']);
    expect(chat.fake.visibleText(replies[1]!.messageId)).toBe(answer);
    expect(replies[1]!.threadId).toBe(THREAD);
    // The abandoned card does not keep a typing cursor, and the trace says the card was given up.
    expect(cardOf(replies[0]!).streaming).toBe(false);
    expect(events.filter((event) => event.type === 'reply.fallback')).toEqual([
      expect.objectContaining({ to: 'text', reason: expect.stringContaining('final text could not be written') }),
    ]);
    expect(events.filter((event) => event.type === 'reply.finished')).toEqual([
      expect.objectContaining({ mode: 'text', length: answer.length }),
    ]);
  });

  it('createReplySinkForJob: an aborted attempt stops writing; the next attempt finishes the same card', async () => {
    const attempts = jobAttempts({ id: 'job-9', lane: GROUP_CHAT, initialCheckpoint: { memory: 'kept' } });
    const message = { messageId: chat.userMessage.messageId, chatId: GROUP_CHAT, threadId: THREAD };
    const common = { message, client: chat.client, bus, log: silentLogger(), updatesPerSecond: UPDATES_PER_SECOND };

    const firstAbort = new AbortController();
    const first = createReplySinkForJob({ context: attempts.context(1, firstAbort.signal), ...common });
    await first.start();
    await feed(first, longAnswer(4));
    await chat.fake.waitFor(() => chat.fake.cards()[0]?.elements.answer?.content === longAnswer(4), {
      description: 'partial',
    });
    firstAbort.abort('lease-lost');
    const writesBefore = chat.fake.callsTo('cardkit.cardElement.content').length;
    first.update(`${longAnswer(4)} more`);
    await first.fail(longAnswer(4), 'should not be shown');
    expect(chat.fake.callsTo('cardkit.cardElement.content')).toHaveLength(writesBefore);
    expect(attempts.checkpoint).toMatchObject({ memory: 'kept', reply: { kind: 'feishu-reply', mode: 'card' } });

    const second = createReplySinkForJob({ context: attempts.context(2), ...common });
    await second.start();
    const answer = longAnswer(8);
    await feed(second, answer);
    await second.finish(answer);

    const replies = botReplies();
    expect(replies).toHaveLength(1);
    expect(replies[0]!.threadId).toBe(THREAD);
    expect(replies[0]!.uuid).toBe('job-9-card-0');
    expect(chat.fake.visibleText(replies[0]!.messageId)).toBe(answer);
    expect(cardOf(replies[0]!).streaming).toBe(false);
    expectStrictlyIncreasing(cardOf(replies[0]!).sequenceHistory);
  });

  it('on shutdown the card is closed with the notice, and the next attempt continues that card', async () => {
    let checkpoint: unknown;
    const shutdown = new AbortController();
    const first = sinkFor({
      attempt: 1,
      signal: shutdown.signal,
      saveCheckpoint: async (value) => {
        checkpoint = value;
      },
    });
    await first.start();
    const partial = longAnswer(3);
    await feed(first, partial);
    shutdown.abort('shutdown');
    await first.fail(partial, 'I was interrupted by a restart.');
    const [reply] = botReplies();
    expect(chat.fake.visibleText(reply!.messageId)).toBe(`${partial}\n\nI was interrupted by a restart.`);
    expect(cardOf(reply!).streaming).toBe(false);

    const second = sinkFor({ attempt: 2, checkpoint: parseCardCheckpoint(checkpoint) });
    await second.start();
    const answer = longAnswer(7);
    await feed(second, answer);
    await second.finish(answer);
    expect(botReplies()).toHaveLength(1);
    expect(chat.fake.visibleText(reply!.messageId)).toBe(answer);
    expect(cardOf(reply!).streaming).toBe(false);
  });

  it('when the model starts over with a shorter answer, cards it no longer needs are recalled', async () => {
    const sink = sinkFor({ maxCardBytes: 4096, updatesPerSecond: 10 });
    await sink.start();
    const firstTry = longAnswer(80);
    await feed(sink, firstTry, { chunk: 1000, intervalMs: 20 });
    await chat.fake.waitFor(() => chat.fake.messages({ chatId: GROUP_CHAT, fromBot: true }).length >= 2, {
      description: 'a second card',
    });
    // The fallback model answers from scratch, and shorter.
    const answer = 'A short answer from the fallback model.';
    sink.update(answer);
    await sink.finish(answer);

    const replies = botReplies();
    const visible = replies.filter((reply) => !reply.deleted);
    expect(visible).toHaveLength(1);
    expect(chat.fake.visibleText(visible[0]!.messageId)).toBe(answer);
    expect(cardOf(visible[0]!).streaming).toBe(false);
    expect(chat.fake.callsTo('im.message.delete').length).toBe(replies.length - 1);
    expect(events.find((event) => event.type === 'reply.finished')).toMatchObject({ cards: 1 });
  });

  it('a retried reply with the same uuid does not create a second message', async () => {
    // The first reply answers too late; the sink times out and retries with the same uuid.
    chat.fake.inject({ api: 'im.message.reply', times: 1, latencyMs: 600 });
    const sink = sinkFor({ requestTimeoutMs: 200 });
    await sink.start();
    await chat.fake.waitFor(
      () => chat.fake.callsTo('im.message.reply').filter((call) => call.status !== 0).length >= 2,
      {
        description: 'both reply calls answered',
      },
    );
    const answer = 'Short answer.';
    sink.update(answer);
    await sink.finish(answer);

    expect(chat.fake.callsTo('im.message.reply').length).toBeGreaterThanOrEqual(2);
    expect(new Set(chat.fake.callsTo('im.message.reply').map((call) => (call.body as { uuid: string }).uuid))).toEqual(
      new Set(['job-1-card-0']),
    );
    const replies = botReplies();
    expect(replies).toHaveLength(1);
    expect(chat.fake.visibleText(replies[0]!.messageId)).toBe(answer);
  });

  it('fail() leaves a closed card with the partial text and the notice', async () => {
    const partial = longAnswer(5);
    const notice = '⚠️ The model timed out; this answer is incomplete.';
    const sink = sinkFor();
    await sink.start();
    await feed(sink, partial);
    await sink.fail(partial, notice);

    const [reply] = botReplies();
    expect(chat.fake.visibleText(reply!.messageId)).toBe(`${partial}\n\n${notice}`);
    expect(cardOf(reply!).streaming).toBe(false);
    expect(events.find((event) => event.type === 'reply.finished')).toMatchObject({ mode: 'card', notice });
  });

  it('finish(summary) adds a small footer element under the answer', async () => {
    const answer = 'The answer is **42**.';
    const sink = sinkFor();
    await sink.start();
    sink.update(answer);
    await sink.finish(answer, 'gpt-test · 12 tokens · 0.4 s');

    const [reply] = botReplies();
    const card = cardOf(reply!);
    expect(card.streaming).toBe(false);
    expect(card.elements.answer?.content).toBe(answer);
    expect(card.elements.footer?.content).toBe('gpt-test · 12 tokens · 0.4 s');
    expect(chat.fake.visibleText(reply!.messageId)).toBe(`${answer}\ngpt-test · 12 tokens · 0.4 s`);
  });

  it('re-opens a stream that closed itself mid-answer (200850) and finishes exactly', async () => {
    const answer = longAnswer(12);
    const sink = sinkFor();
    await sink.start();
    let advanced = false;
    await feed(sink, answer, {
      onProgress: (sent) => {
        if (!advanced && sent > answer.length / 2) {
          advanced = true;
          chat.fake.advanceClock(11 * 60 * 1000);
        }
      },
    });
    await sink.finish(answer);

    const [reply] = botReplies();
    expect(chat.fake.visibleText(reply!.messageId)).toBe(answer);
    expect(chat.fake.calls.some((call) => call.code === FEISHU_CODES.streamingTimeout)).toBe(true);
    expect(cardOf(reply!).streaming).toBe(false);
  });

  it('rolls over to smaller cards when Feishu reports an element limit (230099)', async () => {
    const answer = longAnswer(150);
    expect(Buffer.byteLength(JSON.stringify(answer))).toBeLessThan(24 * 1024);
    const sink = sinkFor({ updatesPerSecond: 10 });
    await sink.start();
    // Twice "too big": 24 KB → 16.8 KB → 11.8 KB per card, so this ~16 KB answer needs two cards.
    // The refusal may come on a streamed content write or on the closing card update (the final
    // text and the close go out in one update), depending on how far the stream got: refuse both.
    const large = (call: { body: unknown }) => JSON.stringify(call.body ?? '').length > 4000;
    chat.fake.inject({
      api: 'cardkit.cardElement.content',
      times: 2,
      code: FEISHU_CODES.cardContentFailed,
      match: large,
    });
    chat.fake.inject({ api: 'cardkit.card.update', times: 2, code: FEISHU_CODES.cardContentFailed, match: large });
    await feed(sink, answer, { chunk: 1500, intervalMs: 20 });
    await sink.finish(answer);

    const replies = botReplies();
    expect(
      chat.fake.calls.filter((call) => call.code === FEISHU_CODES.cardContentFailed).length,
    ).toBeGreaterThanOrEqual(2);
    expect(replies.length).toBeGreaterThanOrEqual(2);
    expect(replies.map((reply) => chat.fake.visibleText(reply.messageId)).join('')).toBe(answer);
    for (const reply of replies) expect(cardOf(reply).streaming).toBe(false);
  });
});
