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
