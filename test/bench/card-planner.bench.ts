/**
 * Cost of planning a streamed answer into cards, per update, as the answer grows to ~780 KB
 * (about 33 cards of 24 KB, beyond any real answer).
 *
 *   node --import tsx test/bench/card-planner.bench.ts
 *
 * Prints milliseconds per update for the incremental planner the streaming sink uses
 * (`createCardPlanner`) next to two same-run baselines: re-planning the whole text on every
 * update (`planCardSegments`), and one plain `JSON.stringify` of the whole text (the least any
 * per-update work on the full text costs). The ratio to the re-plan baseline is the point: a
 * long answer must not make each update cost more as it grows.
 */
import { createCardPlanner, planCardSegments } from '../../lib/feishu/reply/markdown.js';

const paragraph = (index: number) =>
  index % 5 === 2
    ? `\`\`\`ts\nconst value${index} = compute(${index});\nconsole.log(value${index});\n\`\`\``
    : `Paragraph ${index}: ${'streamed words '.repeat(12)}— 中文段落也在这里。`;
const answer = Array.from({ length: 4000 }, (_, index) => paragraph(index)).join('\n\n');
const step = 2_000;
const maxBytes = 24 * 1024;

function timePerUpdate(plan: (text: string) => unknown): number {
  let updates = 0;
  const started = performance.now();
  for (let length = step; length <= answer.length; length += step) {
    plan(answer.slice(0, length));
    updates++;
  }
  return (performance.now() - started) / updates;
}

const planner = createCardPlanner({ maxBytes });
const incremental = timePerUpdate((text) => planner.plan(text));
const replanEverything = timePerUpdate((text) => planCardSegments(text, { maxBytes }));
const stringifyOnly = timePerUpdate((text) => JSON.stringify(text));
const cards = planCardSegments(answer, { maxBytes }).length;

const format = (ms: number) => `${ms.toFixed(3)} ms`;
process.stdout.write(
  [
    `answer: ${Buffer.byteLength(answer)} bytes, ${cards} cards, one update per ${step} characters`,
    `incremental planner:        ${format(incremental)} per update`,
    `baseline, re-plan all:      ${format(replanEverything)} per update (${(replanEverything / incremental).toFixed(1)}× the incremental cost)`,
    `baseline, JSON.stringify:   ${format(stringifyOnly)} per update (incremental is ${(incremental / stringifyOnly).toFixed(1)}× this)`,
    '',
  ].join('\n'),
);
