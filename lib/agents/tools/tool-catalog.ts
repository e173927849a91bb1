import { type Tool, tool } from 'ai';
import { z } from 'zod';
import type { FeishuClient } from '../../feishu/feishu-client.js';
import type { EventBus } from '../../observe/event-bus.js';
import { errorMessage } from '../../util/error-message.js';
import { toText } from '../../util/to-text.js';
import type { ConversationContext } from '../conversation-context.js';
import { listMessages } from './feishu-history.js';

/** What a tool may know about the call it serves. */
export interface ToolContext {
  conversation: ConversationContext;
  /** The agent using the tool (for its events). */
  agent: string;
  bus: EventBus;
  feishuClient?: FeishuClient;
}

/** Builds one tool for one call (tools close over the conversation they serve). */
export type ToolFactory = (context: ToolContext) => Tool;

/** Tools by the name specialists (also those in the JSON file) refer to them. */
export type ToolCatalog = Readonly<Record<string, ToolFactory>>;

const MAX_TRANSCRIPT_CHARS = 40_000;

/**
 * `readChatHistory`: the recent messages of the current thread (or chat), oldest first, as a
 * transcript. Bounded: at most 200 messages and 4 pages of the Feishu API per call.
 */
export const readChatHistoryTool: ToolFactory = ({ conversation, bus, feishuClient }) =>
  tool({
    description:
      'Read the recent messages of the current Feishu conversation (this thread if there is one, else the chat), oldest first.',
    inputSchema: z.object({
      limit: z.number().int().min(1).max(200).default(50).describe('How many of the newest messages to read'),
      scope: z
        .enum(['thread', 'chat'])
        .default('thread')
        .describe('"thread": only this thread when in one; "chat": the whole chat'),
    }),
    execute: async ({ limit, scope }) => {
      if (feishuClient === undefined || conversation.chatType === 'local') {
        return 'Chat history is not available here (no Feishu connection for this conversation).';
      }
      const inThread = scope === 'thread' && conversation.threadId !== undefined;
      const messages = await listMessages({
        client: feishuClient,
        bus,
        container: inThread
          ? { type: 'thread', id: conversation.threadId as string }
          : { type: 'chat', id: conversation.chatId },
        order: 'desc',
        maxMessages: limit,
        maxPages: Math.min(4, Math.ceil(limit / 50)),
      });
      if (messages.length === 0) return 'No messages found.';
      const lines = messages.map(
        (message) =>
          `[${new Date(message.createTime).toISOString().slice(0, 16).replace('T', ' ')}] ${message.senderType === 'app' ? 'bot' : message.senderId}: ${message.text}`,
      );
      let transcript = lines.join('\n');
      // Keep the newest part when it is too long: a summary of recent talk matters most.
      if (transcript.length > MAX_TRANSCRIPT_CHARS) transcript = `…${transcript.slice(-MAX_TRANSCRIPT_CHARS)}`;
      return transcript;
    },
  });

/** `currentTime`: the exact time now in a time zone (the instructions carry the date already). */
export const currentTimeTool: ToolFactory = ({ conversation }) =>
  tool({
    description: 'The current date and time, optionally in a given IANA time zone such as Europe/Berlin.',
    inputSchema: z.object({ timeZone: z.string().max(64).optional() }),
    execute: async ({ timeZone }) => {
      const zone = timeZone ?? conversation.timeZone ?? 'Asia/Shanghai';
      try {
        return formatNow(new Date(), zone);
      } catch {
        return `Unknown time zone "${zone}". ${formatNow(new Date(), 'UTC')}`;
      }
    },
  });

export function formatNow(now: Date, timeZone: string): string {
  const text = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'long',
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(now);
  return `${text} (${timeZone})`;
}

export function defaultToolCatalog(): ToolCatalog {
  return { readChatHistory: readChatHistoryTool, currentTime: currentTimeTool };
}

/** Capped JSON-ish text of a tool's input or output for events (devtools shows it verbatim). */
export function capText(value: unknown, max = 500): string {
  const text = toText(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Wraps a tool's execute so each call emits one 'tool.call' event (input and output capped,
 * latency, error). The tool's own behaviour is unchanged; its errors still reach the model.
 */
export function instrumentTool(
  target: Tool,
  {
    name,
    agent,
    traceId,
    bus,
    now = Date.now,
  }: { name: string; agent: string; traceId: string; bus: EventBus; now?: () => number },
): Tool {
  const execute = target.execute;
  if (execute === undefined) return target;
  return {
    ...target,
    execute: async (input: unknown, options: Parameters<typeof execute>[1]) => {
      const startedAt = now();
      const report = (output: string, error?: string) =>
        bus.emit({
          type: 'tool.call',
          traceId,
          agent,
          tool: name,
          input: capText(input),
          output,
          latencyMs: now() - startedAt,
          ...(error === undefined ? {} : { error }),
        });
      try {
        // Tools here return promises, not async iterables: awaiting is enough.
        const output: unknown = await execute(input, options);
        report(capText(output));
        return output;
      } catch (error) {
        report('', capText(errorMessage(error), 300));
        throw error;
      }
    },
  } as Tool;
}
