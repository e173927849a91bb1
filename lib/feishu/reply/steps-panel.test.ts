import { describe, expect, it } from 'vitest';
import { renderStepsPanel } from './steps-panel.js';

describe('steps panel', () => {
  const progress = {
    steps: [
      { kind: 'tool' as const, name: 'readDocument', state: 'done' as const, elapsedMs: 1_200 },
      { kind: 'specialist' as const, name: 'writer', state: 'running' as const, elapsedMs: 300 },
    ],
    omitted: 2,
    elapsedMs: 3_000,
    done: false,
  };

  it('lists the steps while working and sums them up once done, in English', () => {
    expect(renderStepsPanel(progress)).toEqual({
      title: 'Steps',
      content: '… 2 earlier steps\n✓ Used `readDocument` · 1.2 s\n⏳ Asked **writer** · 0.3 s…\n⏳ Working… 3.0 s',
    });
    expect(renderStepsPanel({ ...progress, steps: [], omitted: 0, done: true })).toEqual({
      title: '0 steps · 3.0 s',
      content: 'No steps.',
    });
  });

  it('in Chinese', () => {
    expect(renderStepsPanel(progress, 'zh')).toEqual({
      title: '步骤',
      content: '… 之前的 2 个步骤\n✓ 使用了 `readDocument` · 1.2 秒\n⏳ 询问了 **writer** · 0.3 秒…\n⏳ 处理中… 3.0 秒',
    });
    expect(renderStepsPanel({ ...progress, done: true }, 'zh').title).toBe('4 个步骤 · 3.0 秒');
  });
});
