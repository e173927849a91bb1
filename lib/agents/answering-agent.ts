/** Share of a specialist's words the answer must repeat for the answer to count as the specialist's. */
const RELAYED_SHARE = 0.8;
/** Longest text compared: the check stays cheap whatever the models say. */
const MAX_COMPARED_CHARS = 20_000;

const segmenter = new Intl.Segmenter(undefined, { granularity: 'word' });

function wordsOf(text: string): string[] {
  const words: string[] = [];
  for (const segment of segmenter.segment(text.slice(0, MAX_COMPARED_CHARS).toLowerCase())) {
    if (segment.isWordLike) words.push(segment.segment);
  }
  return words;
}

/** One specialist's finished result within a run. */
export interface SpecialistResult {
  agent: string;
  text: string;
  model?: string | undefined;
}

/**
 * Which agent's text the answer is: the last specialist whose result the answer relays (all of
 * it, or at least 80% of its words when the manager lightly edited it), else `manager`.
 * Names come from the caller's specialists, so a metric labelled with it stays bounded.
 *
 * @example
 * answeringAgent({ answer: 'Here it is: 你好', results: [{ agent: 'writer', text: '你好' }] }); // 'writer'
 */
export function answeringAgent({
  answer,
  results,
  manager = 'manager',
}: {
  answer: string;
  results: readonly SpecialistResult[];
  manager?: string;
}): string {
  return relayedResult({ answer, results })?.agent ?? manager;
}

/** The last specialist result the answer relays (see answeringAgent), if any. */
export function relayedResult({
  answer,
  results,
}: {
  answer: string;
  results: readonly SpecialistResult[];
}): SpecialistResult | undefined {
  const answerWords = new Set(wordsOf(answer));
  if (answerWords.size === 0) return undefined;
  for (const result of [...results].reverse()) {
    const words = wordsOf(result.text);
    if (words.length === 0) continue;
    const relayed = words.filter((word) => answerWords.has(word)).length;
    if (relayed / words.length >= RELAYED_SHARE) return result;
  }
  return undefined;
}
