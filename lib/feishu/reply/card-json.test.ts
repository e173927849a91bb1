import { describe, expect, it } from 'vitest';
import { cardVisibleText } from '../../../test/fakes/fake-feishu.js';
import { ANSWER_ELEMENT_ID, buildCardBody, buildCardJson, FOOTER_ELEMENT_ID } from './card-json.js';

describe('buildCardBody', () => {
  it('puts the answer in its own markdown element', () => {
    expect(buildCardBody({ text: 'Hello **world**' }).elements).toEqual([
      { tag: 'markdown', element_id: ANSWER_ELEMENT_ID, content: 'Hello **world**' },
    ]);
  });

  it('adds the footer as a small element after the answer', () => {
    const { elements } = buildCardBody({ text: 'Hello', footer: 'gpt-4o · 1.2 s' });
    expect(elements.map((element) => element.element_id)).toEqual([ANSWER_ELEMENT_ID, FOOTER_ELEMENT_ID]);
    expect(elements[1]).toMatchObject({ tag: 'markdown', text_size: 'notation', content: 'gpt-4o · 1.2 s' });
  });
});

describe('buildCardJson', () => {
  it('is a schema 2.0 card with its streaming mode, preview summary and body', () => {
    const card = JSON.parse(buildCardJson({ body: { text: '⏳ Thinking…' }, streaming: true, summary: 'Thinking' }));
    expect(card.schema).toBe('2.0');
    expect(card.config.streaming_mode).toBe(true);
    expect(card.config.summary).toEqual({ content: 'Thinking' });
    expect(card.config.streaming_config.print_strategy).toBe('fast');
    expect(card.body).toEqual(buildCardBody({ text: '⏳ Thinking…' }));
  });

  it('shows the answer then the footer, and not the summary, to the reader', () => {
    const json = buildCardJson({
      body: { text: 'The answer.', footer: 'gpt-4o' },
      streaming: false,
      summary: 'The a…',
    });
    expect(JSON.parse(json).config.streaming_mode).toBe(false);
    expect(cardVisibleText(JSON.parse(json))).toBe('The answer.\ngpt-4o');
  });
});
