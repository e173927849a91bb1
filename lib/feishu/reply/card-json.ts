/** The markdown element every card streams its part of the answer into. */
export const ANSWER_ELEMENT_ID = 'answer';
/** The small line under a finished answer (model, tokens, time). */
export const FOOTER_ELEMENT_ID = 'footer';
/** The collapsible panel of the agent's steps, and the markdown list inside it. */
export const STEPS_PANEL_ID = 'steps_panel';
export const STEPS_ELEMENT_ID = 'steps';

/** A button under a streaming answer (Stop); its `value` comes back in the card callback. */
export interface CardControl {
  /** The element id (letters first, at most 20 characters). */
  id: string;
  label: string;
  value: Record<string, string>;
  style?: 'default' | 'primary' | 'danger';
}

/**
 * The pieces a reply card shows, each already rendered as card markdown. Every piece becomes its
 * own element with a stable `element_id`, so a later write can replace one piece without the
 * others; a further piece (a status line, a steps panel, buttons) is one more field here and one
 * more element in `buildCardBody`.
 */
export interface CardBodyParts {
  /** This card's part of the answer. Never empty: Feishu rejects an empty element. */
  text: string;
  /** Shown under the answer once it is complete. */
  footer?: string;
  /** Buttons under the answer while it streams (absent on a closed card). */
  controls?: readonly CardControl[];
  /** The steps panel above the answer: its list (markdown), its title, and whether it is open. */
  steps?: { content: string; title: string; expanded: boolean };
}

/** One element of a schema 2.0 card body. */
export type CardElement = { tag: string; element_id?: string } & Record<string, unknown>;

/**
 * The card's body, elements in reading order.
 *
 * @example
 * buildCardBody({ text: 'Hello', footer: 'gpt-4o · 1.2 s' }).elements.length; // 2
 */
export function buildCardBody({ text, footer, controls = [], steps }: CardBodyParts): { elements: CardElement[] } {
  const elements: CardElement[] = [];
  if (steps !== undefined) {
    elements.push({
      tag: 'collapsible_panel',
      element_id: STEPS_PANEL_ID,
      expanded: steps.expanded,
      header: { title: { tag: 'markdown', content: steps.title } },
      elements: [{ tag: 'markdown', element_id: STEPS_ELEMENT_ID, text_size: 'notation', content: steps.content }],
    });
  }
  elements.push({ tag: 'markdown', element_id: ANSWER_ELEMENT_ID, content: text });
  if (footer !== undefined) {
    elements.push({ tag: 'markdown', element_id: FOOTER_ELEMENT_ID, text_size: 'notation', content: footer });
  }
  for (const control of controls) {
    elements.push({
      tag: 'button',
      element_id: control.id,
      text: { tag: 'plain_text', content: control.label },
      type: control.style ?? 'default',
      size: 'small',
      behaviors: [{ type: 'callback', value: control.value }],
    });
  }
  return { elements };
}

export interface CardJsonOptions {
  body: CardBodyParts;
  /** Streaming mode: the card shows a typing cursor and accepts `cardElement.content` writes. */
  streaming: boolean;
  /** What the chat list previews for the card. */
  summary: string;
}

/**
 * The whole card as CardKit's `card_json` string (schema 2.0), for `card.create` and
 * `card.update`. While streaming, Feishu types new text out quickly rather than jumping to it.
 *
 * @example
 * client.cardkit.v1.card.create({ data: { type: 'card_json',
 *   data: buildCardJson({ body: { text: '⏳ Thinking…' }, streaming: true, summary: '⏳ Thinking…' }) } });
 */
export function buildCardJson({ body, streaming, summary }: CardJsonOptions): string {
  return JSON.stringify({
    schema: '2.0',
    config: {
      streaming_mode: streaming,
      summary: { content: summary },
      streaming_config: {
        print_frequency_ms: { default: 30 },
        print_step: { default: 2 },
        print_strategy: 'fast',
      },
    },
    body: buildCardBody(body),
  });
}
