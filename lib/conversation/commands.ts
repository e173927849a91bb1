import type { SpecialistRegistry } from '../agents/specialist-registry.js';

export type CommandName = 'reset' | 'new' | 'help' | 'remind' | 'schedules' | 'logout' | 'config';

const COMMAND = /^[/／](reset|new|help|remind|schedules|logout|config)(?:\s|$)/i;

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

/** "stop" / "停止" (optionally `/stop`, trailing punctuation), the whole message: stop the running answer. */
const STOP_REQUEST = /^[/／]?(?:stop|停止|停)[.!。！]*$/i;

/**
 * Whether a message asks to stop the answer running in its conversation. Only the whole message
 * counts, so "how do I stop a container" is a question, not a request.
 *
 * @example
 * isStopRequest('stop');    // true
 * isStopRequest(' 停止 ');   // true
 * isStopRequest('stop the build'); // false
 */
export function isStopRequest(text: string): boolean {
  return STOP_REQUEST.test(text.trim());
}

export interface CommandContext {
  /** Forgets this conversation (chat or thread). */
  clearMemory(): Promise<void>;
  /** What follows the command word (`/remind tomorrow 9:00 …`). */
  args?: string;
  /** Runs `/remind` and `/schedules` (lib/schedules); absent where schedules are off. */
  schedules?: (name: 'remind' | 'schedules', args: string) => Promise<string>;
  specialists?: SpecialistRegistry;
  inThread: boolean;
  /** Forgets the asker's own Feishu authorization; undefined when per-person authorization is off. */
  forgetUserAuthorization?: (() => Promise<boolean>) | undefined;
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
    case 'logout': {
      if (context.forgetUserAuthorization === undefined) {
        return 'Nothing to withdraw: this bot never reads with your own Feishu authorization.';
      }
      return (await context.forgetUserAuthorization())
        ? 'Done: I no longer hold your Feishu authorization. I will ask again if a question needs it.'
        : 'You had not authorized me, so there was nothing to withdraw.';
    }
    case 'config':
      return context.config === undefined ? 'Chat settings are not available here.' : context.config();
    case 'remind':
    case 'schedules':
      return context.schedules === undefined
        ? 'Schedules post into Feishu chats; they are not available here.'
        : context.schedules(name, context.args ?? '');
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
    '- `/remind tomorrow 9:00 …`: a reminder in this chat (`/remind` shows every form)',
    '- `/schedules`: this chat’s schedules; `/schedules cancel <id>` cancels one',
    '- `/help`: this message',
    '- `/logout`: withdraw the Feishu authorization you gave me for reading as you',
    "- `/config`: this chat's settings (owners and admins change them; `/config help`)",
  ];
  const list = specialists?.list() ?? [];
  if (list.length > 0) {
    lines.push('', '**What I can delegate to specialists**');
    for (const specialist of list) lines.push(`- **${specialist.name}**: ${specialist.description}`);
  }
  return lines.join('\n');
}
