/**
 * What the user must be told about the tools of one answer (a missing permission, a needed
 * authorization), whatever the model writes: collected while the agents run, shown under the
 * answer. Bounded and without repeats.
 *
 * @example
 * const notices = createToolNotices();
 * notices.add('The bot lacks the permission `docx:document:readonly`…');
 * appendNotices(answer, notices.list());
 */
export interface ToolNotices {
  add(notice: string): void;
  list(): readonly string[];
}

export function createToolNotices({ max = 5 }: { max?: number } = {}): ToolNotices {
  const notices: string[] = [];
  return {
    add(notice) {
      if (notices.length < max && !notices.includes(notice)) notices.push(notice);
    },
    list: () => notices,
  };
}

/** The answer with the notices under it, set apart so they read as the bot's own words. */
export function appendNotices(text: string, notices: readonly string[]): string {
  if (notices.length === 0) return text;
  const block = notices.map((notice) => `> ⚠️ ${notice}`).join('\n>\n');
  return text.trim() === '' ? block : `${text.trimEnd()}\n\n${block}`;
}
