import type { ReplyProgress, ReplyStep } from '../../conversation/reply-sink.js';

function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
}

function stepLine(step: ReplyStep): string {
  const icon = step.state === 'running' ? '⏳' : step.state === 'failed' ? '⚠️' : '✓';
  const what = step.kind === 'specialist' ? `Asked **${step.name}**` : `Used \`${step.name}\``;
  return `${icon} ${what} · ${seconds(step.elapsedMs)}${step.state === 'running' ? '…' : ''}`;
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
export function renderStepsPanel(progress: ReplyProgress): StepsPanel {
  const count = progress.steps.length + progress.omitted;
  const lines = progress.steps.map(stepLine);
  if (progress.omitted > 0) lines.unshift(`… ${progress.omitted} earlier step${progress.omitted === 1 ? '' : 's'}`);
  if (progress.done) {
    return {
      title: `${count} step${count === 1 ? '' : 's'} · ${seconds(progress.elapsedMs)}`,
      content: lines.length > 0 ? lines.join('\n') : 'No steps.',
    };
  }
  // The title is fixed while streaming (only the list element is rewritten); the list says the time.
  lines.push(`⏳ Working… ${seconds(progress.elapsedMs)}`);
  return { title: 'Steps', content: lines.join('\n') };
}
