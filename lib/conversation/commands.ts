import type { SpecialistRegistry } from '../agents/specialist-registry.js';
import { textsFor } from '../i18n/bot-texts.js';
import type { Language } from '../i18n/language.js';

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

/** Any stop word anywhere, also JSON-escaped (`\u505c` is 停): absent, the message cannot be a stop request. */
const STOP_WORD_ANYWHERE = /stop|停|\\u505c/i;

/**
 * Whether a message's raw content (before it is read) may be a stop request: false only when it
 * certainly is not, so the caller can skip reading a message that has no stop word in it.
 *
 * @example
 * mayBeStopRequest('{"text":"@_user_1 stop"}'); // true
 * mayBeStopRequest('{"text":"hello"}');         // false
 */
export function mayBeStopRequest(rawContent: string): boolean {
  return STOP_WORD_ANYWHERE.test(rawContent);
}

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
  /** The language of the reply; absent: English. */
  language?: Language | undefined;
}

/** Runs a command and returns the reply text. */
export async function runCommand(name: CommandName, context: CommandContext): Promise<string> {
  const say = textsFor(context.language ?? 'en').commands;
  switch (name) {
    case 'reset':
    case 'new':
      await context.clearMemory();
      return say.forgotten(context.inThread);
    case 'help':
      return helpText(context.specialists, context.language);
    case 'logout': {
      if (context.forgetUserAuthorization === undefined) return say.noAuthorization;
      return (await context.forgetUserAuthorization()) ? say.authorizationWithdrawn : say.nothingToWithdraw;
    }
    case 'config':
      return context.config === undefined ? say.configUnavailable : context.config();
    case 'remind':
    case 'schedules':
      return context.schedules === undefined ? say.schedulesUnavailable : context.schedules(name, context.args ?? '');
  }
}

export function helpText(specialists?: SpecialistRegistry, language: Language = 'en'): string {
  const say = textsFor(language).commands;
  const lines = [...say.help];
  const list = specialists?.list() ?? [];
  if (list.length > 0) {
    lines.push('', say.specialistsHeading);
    for (const specialist of list) lines.push(`- **${specialist.name}**: ${specialist.description}`);
  }
  return lines.join('\n');
}
