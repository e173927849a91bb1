/**
 * Feishu's documented limits for one CardKit card (cardkit-v1 `card.create` error codes): the card
 * JSON should stay within 30 KB (200860 "Card content exceeds limit"), and a schema 2.0 card holds
 * at most 200 components and elements together (300305 "The number of card components exceeds
 * 200"). Checked before a card is sent, so an over-limit card is re-planned instead of refused.
 */
export const CARD_LIMITS = { maxBytes: 30 * 1024, maxElements: 200 } as const;

/** Which documented limit a card is over. */
export type CardLimitProblem =
  | { limit: 'bytes'; actual: number; max: number }
  | { limit: 'elements'; actual: number; max: number };

/** Components and elements in a card body: every object that declares a `tag`. */
export function countCardElements(node: unknown): number {
  if (Array.isArray(node)) return node.reduce<number>((sum, item) => sum + countCardElements(item), 0);
  if (typeof node !== 'object' || node === null) return 0;
  let count = typeof (node as { tag?: unknown }).tag === 'string' ? 1 : 0;
  for (const value of Object.values(node)) count += countCardElements(value);
  return count;
}

/**
 * The limit `cardJson` (a `buildCardJson` string) is over, or undefined when Feishu accepts its
 * size and element count.
 *
 * @example
 * cardLimitProblem(buildCardJson({ body: { text: 'x'.repeat(40_000) }, streaming: true, summary: '' }));
 * // { limit: 'bytes', actual: 40…, max: 30720 }
 */
export function cardLimitProblem(
  cardJson: string,
  { maxBytes = CARD_LIMITS.maxBytes, maxElements = CARD_LIMITS.maxElements }: Partial<typeof CARD_LIMITS> = {},
): CardLimitProblem | undefined {
  const bytes = Buffer.byteLength(cardJson, 'utf8');
  if (bytes > maxBytes) return { limit: 'bytes', actual: bytes, max: maxBytes };
  const parsed: unknown = JSON.parse(cardJson);
  const body = typeof parsed === 'object' && parsed !== null ? (parsed as { body?: unknown }).body : undefined;
  const elements = countCardElements(body);
  if (elements > maxElements) return { limit: 'elements', actual: elements, max: maxElements };
  return undefined;
}

/** A card that would be over Feishu's limits, found before it was sent. */
export class CardOverLimitError extends Error {
  override readonly name = 'CardOverLimitError';
  constructor(readonly problem: CardLimitProblem) {
    super(`card over Feishu's ${problem.limit} limit (${problem.actual} > ${problem.max})`);
  }
}
