import { describe, expect, it } from 'vitest';
import { answeringAgent } from './answering-agent.js';

describe('answeringAgent', () => {
  it('names the specialist whose result the answer relays', () => {
    expect(
      answeringAgent({
        answer: 'Here is the translation: 你好，世界',
        results: [{ agent: 'writer', text: '你好，世界' }],
      }),
    ).toBe('writer');
  });

  it('still names it when the manager lightly edited the result', () => {
    const text = 'The meeting moved to Friday at ten, in room four, with the whole design team invited.';
    const answer = 'Quick update: the meeting moved to Friday at 10, in room four, with the whole design team invited!';
    expect(answeringAgent({ answer, results: [{ agent: 'summarizer', text }] })).toBe('summarizer');
  });

  it('says manager when the answer is the manager’s own words', () => {
    expect(
      answeringAgent({
        answer: 'The writer failed, so here is my own attempt: bonjour.',
        results: [{ agent: 'writer', text: 'A long careful translation into German about something else entirely.' }],
      }),
    ).toBe('manager');
    expect(answeringAgent({ answer: 'Paris.', results: [] })).toBe('manager');
  });

  it('prefers the last specialist the answer relays', () => {
    expect(
      answeringAgent({
        answer: 'Done: hello there',
        results: [
          { agent: 'summarizer', text: 'hello' },
          { agent: 'writer', text: 'hello there' },
        ],
      }),
    ).toBe('writer');
  });
});
