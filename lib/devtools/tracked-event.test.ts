import { describe, expect, it } from 'vitest';
import type { StampedBotEvent } from '../observe/bot-event.js';
import { createRedactor, REDACTED } from '../observe/redact.js';
import { createEventSanitiser } from './tracked-event.js';

describe('createEventSanitiser', () => {
  const sanitise = createEventSanitiser({ redact: createRedactor(['configured-secret']), maxTextChars: 40 });

  it('numbers the copy and keeps numbers and flags as they are', () => {
    const event: StampedBotEvent = { type: 'feishu.connection', state: 'connected', reconnects: 2, at: 5 };
    expect(sanitise(event, 7)).toEqual({ ...event, seq: 7 });
  });

  it('redacts configured secrets and credential shapes in every string field', () => {
    const tracked = sanitise(
      {
        type: 'tool.call',
        traceId: 't',
        agent: 'manager',
        tool: 'http',
        input: 'configured-secret',
        output: 'Bearer abcdefghijklmnop',
        latencyMs: 1,
        error: 'sk-abcdefghijklmnop',
        at: 1,
      },
      1,
    );
    if (tracked.type !== 'tool.call') throw new Error('wrong type');
    expect(tracked.input).toBe(REDACTED);
    expect(tracked.output).toBe(`Bearer ${REDACTED}`);
    expect(tracked.error).toBe(REDACTED);
  });

  it('caps long text after redacting it, saying how much was cut', () => {
    const tracked = sanitise(
      { type: 'message.ignored', traceId: 't', reason: `configured-secret ${'y'.repeat(100)}`, at: 1 },
      1,
    );
    if (tracked.type !== 'message.ignored') throw new Error('wrong type');
    expect(tracked.reason).toBe(`${REDACTED} ${'y'.repeat(29)}… [+71 chars]`);
  });

  it('gives the text the bot sent more room than other fields, and still redacts and caps it', () => {
    const withReply = createEventSanitiser({
      redact: createRedactor(['configured-secret']),
      maxTextChars: 40,
      maxReplyChars: 100,
    });
    const answer = `The key is configured-secret. ${'z'.repeat(5_000)}`;
    const tracked = withReply(
      { type: 'reply.finished', traceId: 't', mode: 'card', length: answer.length, cards: 1, text: answer, at: 1 },
      1,
    );
    if (tracked.type !== 'reply.finished') throw new Error('wrong type');
    const kept = `The key is ${REDACTED}. ${'z'.repeat(100 - 13 - REDACTED.length)}`;
    expect(tracked.text).toBe(
      `${kept}… [+${answer.length - 'configured-secret'.length + REDACTED.length - 100} chars]`,
    );
    const card = withReply({ type: 'reply.card', traceId: 't', cardId: 'c', index: 0, text: 'x'.repeat(90), at: 1 }, 2);
    expect(card.type === 'reply.card' && card.text).toBe('x'.repeat(90));
    // Other fields of the same events keep the ordinary cap.
    const noticed = withReply(
      {
        type: 'reply.finished',
        traceId: 't',
        mode: 'text',
        length: 1,
        cards: 0,
        text: '.',
        notice: 'n'.repeat(60),
        at: 1,
      },
      3,
    );
    expect(noticed.type === 'reply.finished' && noticed.notice).toBe(`${'n'.repeat(40)}… [+20 chars]`);
  });

  it('drops nested values instead of showing them unchecked', () => {
    const nested = {
      type: 'message.ignored',
      traceId: 't',
      reason: 'x',
      at: 1,
      extra: { token: 'hidden' },
    } as unknown as StampedBotEvent;
    expect(sanitise(nested, 3)).toEqual({ type: 'message.ignored', traceId: 't', reason: 'x', at: 1, seq: 3 });
  });
});
