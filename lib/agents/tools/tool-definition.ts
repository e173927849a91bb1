import type { z } from 'zod';
import type { FeishuAccess } from '../../feishu/feishu-access.js';
import type { Language } from '../../i18n/language.js';
import type { ConversationContext } from '../conversation-context.js';
import type { FetchPage } from './web/fetch-page.js';
import type { SearchProvider } from './web/search-provider.js';

/**
 * Whether a tool only reads or also changes something. Write tools are meant to ask the user
 * first (the AI SDK's `needsApproval`); the registry refuses to build one until that exists.
 */
export type ToolAccess = 'read' | 'write';

/**
 * Whose permissions a tool acts with: the app's tenant token, the asking user's own
 * authorization (see `UserAuthorization`), or none (a tool that calls no Feishu API).
 */
export type ToolIdentity = 'tenant' | 'user' | 'none';

/** What a person approves before a write tool acts: the exact change, in words they can check. */
export interface ApprovalSummary {
  /** What will happen, e.g. "Create a task". */
  action: string;
  /** Where: the chat, calendar, base table or document it lands in. */
  target: string;
  /** Every field that will be written, in order. */
  fields: ReadonlyArray<{ label: string; value: string }>;
}

/** Bounds on what one tool call may hand back to the model. */
export interface ToolLimits {
  /** Characters of the result at most; longer results are cut with a "truncated" note. */
  maxChars: number;
  /** Items (rows, records, events, documents…) a list result shows at most. */
  maxItems: number;
}

export type { FeishuAccess, FeishuRequestOptions } from '../../feishu/feishu-access.js';

/** The web as tools may reach it: the configured search provider and the guarded page fetcher. */
export interface WebAccess {
  /** Undefined when SEARCH_PROVIDER is not set: web search is off. */
  search: SearchProvider | undefined;
  /** Results one search lists at most (SEARCH_MAX_RESULTS, within `limits.maxItems`). */
  maxSearchResults: number;
  /** Fetches a public page within FETCH_MAX_BYTES and FETCH_TIMEOUT_MS, never a private address. */
  fetchPage: FetchPage;
}

/** What a tool's `execute` gets besides its input. */
export interface ToolRunContext {
  conversation: ConversationContext;
  /** The agent calling the tool (manager or a specialist). */
  agent: string;
  /** Aborts when the tool's deadline passes or the answer is stopped. */
  signal: AbortSignal;
  /** The model's id for this call: the same when a run continued after approval replays it. */
  toolCallId?: string | undefined;
  limits: ToolLimits;
  /** Feishu with this tool's identity; undefined when the Feishu channel is off. */
  feishu: FeishuAccess | undefined;
  web: WebAccess;
  /** A person's display name (Feishu contacts, cached), for transcripts; undefined when unknown. */
  userName?: ((openId: string) => Promise<string | undefined>) | undefined;
  now(): Date;
}

/**
 * One tool the agents can use: plain data plus `execute`. The registry turns it into an AI SDK
 * tool per call with identity, timeout, result bounds, error handling and reporting around it,
 * so a tool file holds only what the tool itself does.
 *
 * @example
 * export const currentTimeTool = defineTool({
 *   name: 'currentTime', description: 'The current date and time.', access: 'read', identity: 'none', scopes: [],
 *   inputSchema: z.object({ timeZone: z.string().optional() }),
 *   execute: async ({ timeZone }, { now }) => formatNow(now(), timeZone ?? 'UTC'),
 * });
 */
export interface ToolDefinition<Schema extends z.ZodType = z.ZodType> {
  /** The name the model calls and specialists list: letters and digits, camelCase (OpenAI allows no dots). */
  readonly name: string;
  /** Tells the model when to use the tool and what it returns. */
  readonly description: string;
  readonly inputSchema: Schema;
  /** Feishu scopes to grant the app (tenant) or to request from the user (user), least privilege first. */
  readonly scopes: readonly string[];
  readonly access: ToolAccess;
  /**
   * For a write tool that changes only the bot's own state for this conversation, is confirmed in
   * the answer and undone by a command (a schedule: `/schedules cancel`): why it needs no approval.
   * Any other write tool is refused until approvals exist.
   */
  readonly withoutApproval?: string;
  /**
   * For a write tool: the change in words the person checks before approving (target and every
   * field written). The run pauses on the AI SDK's `needsApproval` until they press Approve, Always
   * allow in this chat, or Deny.
   */
  /** The change, worded in the asker's language (the card is theirs to read). */
  readonly approval?: { describe(input: z.output<Schema>, language: Language): ApprovalSummary };
  readonly identity: ToolIdentity;
  /**
   * Does the work and returns text the model can read (Markdown welcome). Throw a `ToolError`
   * (or let a `FeishuApiError` through) for failures: the registry words them for the model and
   * the user. Results are bounded by the registry too, but a list should stop at `limits.maxItems`.
   */
  execute(input: z.output<Schema>, context: ToolRunContext): Promise<string>;
}

/** Keeps the schema's type for `execute` while the registry holds tools of any schema. */
export function defineTool<Schema extends z.ZodType>(definition: ToolDefinition<Schema>): ToolDefinition<Schema> {
  return definition;
}

/** A tool of any input, as the registry stores it. */
// biome-ignore lint/suspicious/noExplicitAny: each tool's execute takes its own schema's output; the registry validates input with that schema before calling it.
export type AnyToolDefinition = ToolDefinition<any>;
