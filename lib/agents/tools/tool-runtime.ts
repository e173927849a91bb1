import * as lark from '@larksuiteoapi/node-sdk';
import { type ToolSet, tool } from 'ai';
import { callFeishu } from '../../feishu/call-feishu.js';
import type { FeishuClient } from '../../feishu/feishu-client.js';
import { withRequestSignal } from '../../feishu/request-signal.js';
import { textsFor } from '../../i18n/bot-texts.js';
import type { Language } from '../../i18n/language.js';
import type { EventBus } from '../../observe/event-bus.js';
import { toText } from '../../util/to-text.js';
import type { ConversationContext } from '../conversation-context.js';
import type {
  AnyToolDefinition,
  FeishuAccess,
  FeishuRequestOptions,
  ToolLimits,
  ToolRunContext,
  WebAccess,
} from './tool-definition.js';
import { ToolError, type ToolErrorCategory, toToolError } from './tool-error.js';
import type { ToolNotices } from './tool-notices.js';
import type { ToolRegistry } from './tool-registry.js';
import { boundText } from './tool-result.js';
import { notAuthorizedUserAuthorization, type UserAuthorization } from './user-authorization.js';
import { createPageFetcher } from './web/fetch-page.js';

/**
 * The notice a tool failure shows under the answer, in the question's language: English keeps the
 * failure's own detailed notice; Chinese words it by the failure's stable code.
 */
function localNotice(
  failure: ToolError,
  { name, identity }: { name: string; identity: string },
  language: Language | undefined,
): string {
  const english = failure.userNotice ?? '';
  if (language === undefined || language === 'en') return english;
  const say = textsFor(language).tools;
  const asUser = identity === 'user' || failure.feishuCode === 99991679;
  switch (failure.code) {
    case 'NO_SCOPE':
      return say.missingScope(name, (failure.scopes ?? []).map((scope) => `\`${scope}\``).join(' / '), asUser);
    case 'NO_PERMISSION':
      return say.noAccess(name, asUser);
    case 'NEEDS_USER_AUTH':
      // Feishu said the person's token expired; the bot's own refusals keep their specific English reason.
      return failure.feishuCode === undefined ? english : say.authorizationExpired(name);
    default:
      return english;
  }
}
export const DEFAULT_TOOL_LIMITS: ToolLimits = { maxChars: 20_000, maxItems: 100 };
export const DEFAULT_TOOL_TIMEOUT_MS = 20_000;
/** Arguments and results in `tool.call` events are capped to this (devtools shows them verbatim). */
const EVENT_TEXT_MAX = 500;

export interface ToolRuntimeOptions {
  registry: ToolRegistry;
  bus: EventBus;
  /** Without it, tools that call Feishu answer that Feishu is not connected. */
  feishuClient?: FeishuClient | undefined;
  /** Where user-identity tools get the asking user's token. Default: nobody is authorized. */
  userAuthorization?: UserAuthorization;
  limits?: Partial<ToolLimits>;
  /** One tool call's deadline, Feishu requests included. */
  timeoutMs?: number;
  /** The web search provider, its result count and the page fetcher; default: search off, fetch with default limits. */
  web?: Partial<WebAccess>;
  /**
   * Tools beyond the registry for one agent, looked up per call (MCP servers' tools, which come
   * and go with their connections): offered besides the named ones, with the same deadline,
   * bounds and reporting.
   */
  extraTools?: (agent: string) => readonly AnyToolDefinition[];
  /** Display names for the people tools mention (chat transcripts). */
  userName?: ((openId: string) => Promise<string | undefined>) | undefined;
  now?: () => Date;
}

/** Who the tools of one agent call serve, and where the user notices of this answer collect. */
export interface ToolSetRequest {
  agent: string;
  conversation: ConversationContext;
  notices: ToolNotices;
  /**
   * Where write tools ask before acting. Without it (a specialist, the devtools playground, a
   * scheduled run) write tools that need approval are not offered at all.
   */
  approvals?: ToolApprovalGate | undefined;
}

/** Whether a write tool may act without asking (the chat's "Always allow" for it). */
export interface ToolApprovalGate {
  /** `toolCallId` lets a continuing run keep asking for the calls it holds decisions for. */
  alwaysAllowed(tool: string, toolCallId: string): Promise<boolean>;
}

/** Turns registered tool definitions into AI SDK tools for one agent call. */
export interface ToolRuntime {
  readonly registry: ToolRegistry;
  /** The named tools (unknown names are skipped), each wrapped with identity, deadline, bounds and reporting. */
  toolSet(names: readonly string[], request: ToolSetRequest): ToolSet;
}

/** Capped JSON-ish text of a tool's input or output for events (devtools shows it verbatim). */
export function capText(value: unknown, max = EVENT_TEXT_MAX): string {
  const text = toText(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** What the model reads when a tool failed: what happened, and what to do about it. */
function errorForModel(failure: ToolError): string {
  const advice: Record<ToolErrorCategory, string> = {
    NO_SCOPE:
      'The user is shown how an admin grants the permission. Do not guess the content; say you could not read it.',
    NO_PERMISSION:
      'The user is shown how to share it with the bot. Do not guess the content; say you could not read it.',
    NEEDS_USER_AUTH: 'The user is told that this needs their authorization. Do not guess the content.',
    NOT_FOUND: 'Check the link or id with the user; do not guess the content.',
    BAD_INPUT: 'Fix the arguments and try once more, or ask the user.',
    RATE_LIMIT: 'The service asks to slow down: try once more later in this answer, or say it is busy.',
    TIMEOUT: 'Say you could not read it in time; do not guess the content.',
    UNAVAILABLE: 'The service is not answering: say so; do not guess the content.',
    BAD_RESPONSE: 'The service sent something unreadable: say so; do not guess the content.',
    OTHER: 'Say the tool failed; do not guess the content.',
  };
  return `TOOL ERROR (${failure.code}): ${failure.message}. ${failure.advice ?? advice[failure.code]}`;
}

/**
 * The tool runtime of a process: one registry, the Feishu client, the user-authorization seam,
 * limits and the deadline. Each tool call:
 *
 * - acts with the tool's identity: the tenant token, or the asking user's token from
 *   `userAuthorization` (refused → "this needs your authorization", the tool never runs);
 * - has `timeoutMs` for everything, Feishu requests included, and an abort signal;
 * - returns text the model can read: results within `limits` with a "truncated" note, failures
 *   as a categorised explanation (never a stack trace);
 * - adds the failure's user notice (missing scope, no access) to the answer's notices;
 * - is announced as `tool.started` before it runs (the card's live steps show it at once), then
 *   reported once as `tool.call`: input, output, latency, identity, result size, error category.
 *
 * @example
 * const runtime = createToolRuntime({ registry: defaultToolRegistry(), bus, feishuClient });
 * const tools = runtime.toolSet(['readDocument'], { agent: 'manager', conversation, notices });
 */
export function createToolRuntime({
  registry,
  bus,
  feishuClient,
  userAuthorization = notAuthorizedUserAuthorization,
  limits: givenLimits = {},
  timeoutMs = DEFAULT_TOOL_TIMEOUT_MS,
  web: givenWeb = {},
  extraTools = () => [],
  userName,
  now = () => new Date(),
}: ToolRuntimeOptions): ToolRuntime {
  const limits: ToolLimits = { ...DEFAULT_TOOL_LIMITS, ...givenLimits };
  const web: WebAccess = {
    search: givenWeb.search,
    maxSearchResults: givenWeb.maxSearchResults ?? 5,
    fetchPage: givenWeb.fetchPage ?? createPageFetcher(),
  };

  async function feishuFor(
    definition: AnyToolDefinition,
    conversation: ConversationContext,
    deadline: number,
    signal: AbortSignal,
  ): Promise<FeishuAccess | undefined> {
    if (definition.identity === 'none') return undefined;
    if (feishuClient === undefined) return undefined;
    let options: FeishuRequestOptions;
    if (definition.identity === 'user') {
      const userId = conversation.userId;
      const refused = (message?: string) =>
        new ToolError('NEEDS_USER_AUTH', `${definition.name} acts as the asking user, who has not authorized the bot`, {
          userNotice: `${definition.name}: ${message ?? 'this needs your own Feishu authorization of the bot.'}`,
        });
      if (userId === undefined || userId === '') throw refused('there is no Feishu user to act for here.');
      const result = await userAuthorization.tokenFor({
        userId,
        tool: definition.name,
        scopes: definition.scopes,
        conversation,
        signal,
      });
      if (!result.ok) throw refused(result.message);
      options = lark.withUserAccessToken(result.accessToken);
    }
    const client = feishuClient;
    return {
      client,
      call: (api, request) =>
        callFeishu(bus, api, () => request(options), {
          timeoutMs: Math.max(1, deadline - Date.now()),
          // Evicting and refetching on 99991663 applies to the tenant token only.
          ...(definition.identity === 'tenant' ? { client } : {}),
        }),
    };
  }

  async function run(
    definition: AnyToolDefinition,
    input: unknown,
    { agent, conversation, notices }: ToolSetRequest,
    callerSignal: AbortSignal | undefined,
    toolCallId: string | undefined,
  ): Promise<string> {
    const startedAt = performance.now();
    const callId = toolCallId === undefined ? {} : { toolCallId };
    bus.emit({ type: 'tool.started', traceId: conversation.traceId, agent, tool: definition.name, ...callId });
    const deadline = Date.now() + timeoutMs;
    const controller = new AbortController();
    const onCallerAbort = () => controller.abort(callerSignal?.reason);
    if (callerSignal?.aborted) onCallerAbort();
    else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    const timer = setTimeout(
      () => controller.abort(new ToolError('TIMEOUT', `${definition.name} took longer than ${timeoutMs} ms`)),
      timeoutMs,
    );
    const report = (output: string, extra: { truncated: boolean; failure?: ToolError }) =>
      bus.emit({
        type: 'tool.call',
        traceId: conversation.traceId,
        agent,
        tool: definition.name,
        ...callId,
        input: capText(input),
        output: capText(output),
        latencyMs: Math.round(performance.now() - startedAt),
        identity: definition.identity,
        resultChars: output.length,
        truncated: extra.truncated,
        ...(extra.failure === undefined
          ? {}
          : { error: capText(extra.failure.message, 300), errorCategory: extra.failure.code }),
      });
    try {
      const work = async () => {
        const feishu = await feishuFor(definition, conversation, deadline, controller.signal);
        // Not a failure of the tool: this deployment (or the playground) has no Feishu app.
        if (feishu === undefined && definition.identity !== 'none') {
          return `${definition.name} is not available here: the bot is not connected to Feishu.`;
        }
        const context: ToolRunContext = {
          conversation,
          agent,
          signal: controller.signal,
          toolCallId,
          limits,
          feishu,
          web,
          userName,
          now,
        };
        // Its Feishu requests are closed when the call is stopped or times out, not left running.
        return withRequestSignal(controller.signal, () => definition.execute(input, context));
      };
      // The deadline and a stopped answer both abort the controller: whichever comes first ends the call.
      const stopped = new Promise<never>((_, reject) => {
        if (controller.signal.aborted) reject(controller.signal.reason);
        controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
      });
      const output = await Promise.race([work(), stopped]);
      if (typeof output !== 'string') {
        throw new ToolError('OTHER', `${definition.name} returned no text`);
      }
      const bounded = boundText(output.trim() === '' ? '(empty result)' : output, limits.maxChars);
      report(bounded.text, { truncated: bounded.truncated });
      return bounded.text;
    } catch (error) {
      // A stopped answer (shutdown, lease lost) is not the tool's failure: let the agent stop.
      if (callerSignal?.aborted) throw callerSignal.reason ?? error;
      const failure = toToolError(error, {
        tool: definition.name,
        identity: definition.identity,
        scopes: definition.scopes,
      });
      if (failure.userNotice !== undefined) notices.add(localNotice(failure, definition, conversation.language));
      const text = errorForModel(failure);
      report(text, { truncated: false, failure });
      return text;
    } finally {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    }
  }

  return {
    registry,
    toolSet(names, request) {
      const tools: ToolSet = {};
      // A chat's admins may switch tools off (MCP tools too, by their registry name).
      const disabled = new Set(request.conversation.disabledTools ?? []);
      const definitions = names.map((name) => registry.get(name)).filter((definition) => definition !== undefined);
      for (const definition of [...definitions, ...extraTools(request.agent)]) {
        const name = definition.name;
        if (name in tools || disabled.has(name)) continue;
        const gate = definition.approval === undefined ? undefined : request.approvals;
        if (definition.approval !== undefined && gate === undefined) continue;
        tools[name] = tool({
          description: definition.description,
          inputSchema: definition.inputSchema,
          execute: (input: unknown, { abortSignal, toolCallId }) =>
            run(definition, input, request, abortSignal, toolCallId),
          // The AI SDK pauses the step with a tool-approval-request; the reply path asks the person.
          ...(gate === undefined
            ? {}
            : { needsApproval: async (_input, { toolCallId }) => !(await gate.alwaysAllowed(name, toolCallId)) }),
        });
      }
      return tools;
    },
  };
}
