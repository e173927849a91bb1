import type { SpecialistRegistry } from '../agents/specialist-registry.js';

export type CommandName = 'reset' | 'new' | 'help' | 'config';

const COMMAND = /^[/／](reset|new|help|config)(?:\s|$)/i;

/**
 * The command a message starts with, if any. Commands are the first word, with an ASCII or a
 * full-width slash (Chinese input methods type ／). Anything else (including unknown `/words`)
 * goes to the agent.
 *
 * @example
 * parseCommand('/reset');        // 'reset'
 * parseCommand('/help me');      // 'help'
 * parseCommand('how do I /reset'); // undefined
 */
export function parseCommand(text: string): CommandName | undefined {
  const match = COMMAND.exec(text.trim());
  return match ? (match[1]?.toLowerCase() as CommandName) : undefined;
}

export interface CommandContext {
  /** Forgets this conversation (chat or thread). */
  clearMemory(): Promise<void>;
  specialists?: SpecialistRegistry;
  inThread: boolean;
  /** `/config`: reads or changes this chat's settings (config-command.ts); absent: not available. */
  config?: () => Promise<string>;
}

/** Runs a command and returns the reply text. */
export async function runCommand(name: CommandName, context: CommandContext): Promise<string> {
  switch (name) {
    case 'reset':
    case 'new':
      await context.clearMemory();
      return context.inThread
        ? 'Done: I have forgotten our conversation in this thread. What shall we talk about?'
        : 'Done: I have forgotten our conversation in this chat. What shall we talk about?';
    case 'help':
      return helpText(context.specialists);
    case 'config':
      return context.config === undefined ? 'Chat settings are not available here.' : context.config();
  }
}

export function helpText(specialists?: SpecialistRegistry): string {
  const lines = [
    '**How to talk to me**',
    '- In a group, @mention me; in a direct chat, just write.',
    '- I remember the conversation (per chat, or per thread), so you can ask follow-up questions.',
    '- Replying inside a thread keeps that topic separate.',
    '',
    '**Commands**',
    '- `/reset` or `/new`: forget this conversation and start fresh',
    '- `/help`: this message',
    "- `/config`: this chat's settings (owners and admins change them; `/config help`)",
  ];
  const list = specialists?.list() ?? [];
  if (list.length > 0) {
    lines.push('', '**What I can delegate to specialists**');
    for (const specialist of list) lines.push(`- **${specialist.name}**: ${specialist.description}`);
  }
  return lines.join('\n');
}
