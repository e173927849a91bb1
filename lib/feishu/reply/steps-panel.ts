import type { ReplyProgress, ReplyStep } from '../../conversation/reply-sink.js';
import { type BotTexts, textsFor } from '../../i18n/bot-texts.js';
import type { Language } from '../../i18n/language.js';

type StepsTexts = BotTexts['steps'];

function seconds(ms: number, say: StepsTexts): string {
  return say.seconds((Math.max(0, ms) / 1000).toFixed(1));
}

function stepLine(step: ReplyStep, say: StepsTexts): string {
  const icon = step.state === 'running' ? '⏳' : step.state === 'failed' ? '⚠️' : '✓';
  const what = step.kind === 'specialist' ? say.asked(step.name) : say.used(step.name);
  return `${icon} ${what} · ${seconds(step.elapsedMs, say)}${step.state === 'running' ? '…' : ''}`;
}

/** The steps panel as the card shows it: a title and the list (markdown, never empty). */
export interface StepsPanel {
  title: string;
  content: string;
}

/**
 * The card's steps panel for the agent's progress. While working, the list ends with
 * "⏳ Working…" and the time so far (so a long silent phase is never an empty card); once done,
 * the title sums it up and the card folds the panel.
 *
 * @example
 * renderStepsPanel({ steps: [{ kind: 'tool', name: 'read_doc', state: 'done', elapsedMs: 1200 }],
 *   elapsedMs: 3000, omitted: 0, done: false });
 * // { title: 'Steps', content: '✓ Used `read_doc` · 1.2 s\n⏳ Working… 3.0 s' }
 */
export function renderStepsPanel(progress: ReplyProgress, language: Language = 'en'): StepsPanel {
  const say = textsFor(language).steps;
  const count = progress.steps.length + progress.omitted;
  const lines = progress.steps.map((step) => stepLine(step, say));
  if (progress.omitted > 0) lines.unshift(`… ${say.earlier(progress.omitted)}`);
  if (progress.done) {
    return {
      title: `${say.count(count)} · ${seconds(progress.elapsedMs, say)}`,
      content: lines.length > 0 ? lines.join('\n') : say.none,
    };
  }
  // The title is fixed while streaming (only the list element is rewritten); the list says the time.
  lines.push(`⏳ ${say.working} ${seconds(progress.elapsedMs, say)}`);
  return { title: say.title, content: lines.join('\n') };
}
