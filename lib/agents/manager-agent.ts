import type { ModelMessage } from 'ai';
import type { Config } from '../config.js';
import type { TurnContent } from '../conversation/resolve-turn.js';
import type { FeishuClient } from '../feishu/feishu-client.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import type { HistoryMessage, Store } from '../store/store.js';
import { withTimeout } from '../util/with-timeout.js';
import { relayedResult, type SpecialistResult } from './answering-agent.js';
import type { ConversationContext } from './conversation-context.js';
import { createMcpCallLedger } from './mcp/mcp-call-ledger.js';
import { createMcpHub, type McpHub } from './mcp/mcp-hub.js';
import { loadMcpServersFile } from './mcp/mcp-servers-file.js';
import { createModelChain, type ModelChain } from './model-chain.js';
import { modelProvider } from './model-provider.js';
import { type AgentRunResult, runAgent } from './run-agent.js';
import {
  builtInSpecialists,
  createSpecialistRegistry,
  loadSpecialistsFile,
  type SpecialistRegistry,
} from './specialist-registry.js';
import { type AgentDependencies, specialistTool } from './specialist-tool.js';
import { BUILT_IN_TOOLS, defaultToolRegistry } from './tools/built-in-tools.js';
import { formatNow } from './tools/current-time.js';
import { readMessageText } from './tools/feishu-history.js';
import { feishuLinkHints, webLinkHints } from './tools/feishu-links.js';
import type { AnyToolDefinition } from './tools/tool-definition.js';
import { appendNotices, createToolNotices } from './tools/tool-notices.js';
import { createToolRegistry } from './tools/tool-registry.js';
import type { ToolApprovalGate } from './tools/tool-runtime.js';
import { createToolRuntime, type ToolRuntime } from './tools/tool-runtime.js';
import type { UserAuthorization } from './tools/user-authorization.js';
import { createSearchProvider } from './tools/web/create-search-provider.js';
import { createPageFetcher } from './tools/web/fetch-page.js';

export const MANAGER_AGENT_NAME = 'manager';

/** Tools the manager uses itself unless MANAGER_TOOLS says otherwise (specialists are its tools too). */
export const DEFAULT_MANAGER_TOOLS: readonly string[] = ['currentTime', 'readDocument', 'getUser', 'readWebPage'];
/** Characters of a quoted message put in the instructions at most. */
const MAX_QUOTED_CHARS = 2_000;

export interface AnswerOptions {
  context: ConversationContext;
  /** Earlier turns, oldest first (already within the memory budget). */
  history: readonly HistoryMessage[];
  /** The user's message as plain text (links in it are pointed out; commands and limits read it). */
  input: string;
  /**
   * What the model gets for the user's turn when the message had more than words: text, images,
   * documents' text, transcripts, in the user's order. Default: `input` as one text part.
   */
  content?: TurnContent;
  /**
   * The text of the message replied to, already read by the job; `undefined` lets the manager
   * read it itself through `readQuotedMessage`, `null` says there is none to read.
   */
  quoted?: string | null;
  /** Tried before MODEL for this turn (VISION_MODEL for a turn with images). */
  preferredModel?: string;
  /**
   * Text the model reads just before the question, such as the group's recent discussion the
   * bot was not mentioned in. Not stored in memory.
   */
  background?: string | undefined;
  /** What this chat's admins chose (docs/groups.md); absent: the defaults. */
  chat?: ChatAnswerSettings | undefined;
  /** Stops the model (shutdown, lease lost): the result is then 'aborted'. */
  signal?: AbortSignal;
  /** Lets write tools ask the person first; without it they are not offered. */
  approvals?: ToolApprovalGate | undefined;
  /**
   * Continues a run that paused for approval: the whole conversation as the model saw it, ending
   * with the person's decision (a tool-approval-response). History, input and background are
   * then not used.
   */
  continuation?: ModelMessage[] | undefined;
  /** Called with the FULL answer so far after every delta (feed it to ReplySink.update). */
  onText?: (fullText: string) => void;
}

export type ManagerAnswer = AgentRunResult & {
  /** The agent whose text the answer is: a specialist the manager relayed, else the manager. */
  answeredBy: string;
  /** That agent's model (the manager's is `model`). */
  answeredByModel: string | undefined;
  /** With pending approvals: the conversation to continue from (request plus the model's reply). */
  conversation?: ModelMessage[];
};

/** The per-chat settings that shape one answer. */
export interface ChatAnswerSettings {
  /** Extra instructions from the chat's admins. */
  persona?: string | undefined;
  /** `auto` (or unset): the user's language. */
  language?: 'auto' | 'zh' | 'en' | undefined;
  /** Tried first, then the configured chain. */
  model?: string | undefined;
  /** Specialists not offered in this chat. */
  specialistsOff?: readonly string[] | undefined;
}

const LANGUAGE_LINE = {
  zh: '- Always answer in Simplified Chinese (简体中文), whatever language the user writes in.',
  en: '- Always answer in English, whatever language the user writes in.',
} as const;

export interface ManagerAgent {
  readonly name: string;
  /** The MCP servers (MCP_SERVERS_FILE) whose tools the agents get, when configured: health rows, shutdown. */
  readonly mcp?: McpHub;
  readonly specialists: SpecialistRegistry;
  readonly chain: ModelChain;
  answer(options: AnswerOptions): Promise<ManagerAnswer>;
}

/** What the specialists get too (AgentDependencies), plus the manager's own. */
export interface ManagerAgentOptions extends Omit<AgentDependencies, 'tools'> {
  specialists: SpecialistRegistry;
  /** Default: the built-in tools over `feishuClient`, with nobody authorized as a user. */
  tools?: ToolRuntime;
  /** Used by the default `tools` only. */
  feishuClient?: FeishuClient;
  /** Names of the tools the manager calls itself. Default DEFAULT_MANAGER_TOOLS. */
  ownTools?: readonly string[];
  /**
   * The text of the message a user replied to (`context.parentId`), so the model sees what "this"
   * refers to and links in it are read like links in the question. Failures and slowness
   * (over 2 s) leave it out.
   */
  readQuotedMessage?: (messageId: string) => Promise<string | undefined>;
  botName?: string;
}

/**
 * The manager's instructions for one call: today's date and time (computed now, not at start-up),
 * where it is talking (direct chat or group, thread), who asks, and which specialists exist.
 */
export function buildManagerInstructions({
  context,
  specialists,
  now,
  botName = 'the team assistant',
  input = '',
  quoted,
  chat,
  readsWebLinks = false,
}: {
  context: ConversationContext;
  specialists: SpecialistRegistry;
  now: Date;
  botName?: string;
  /** The user's message: Feishu links in it are pointed out, with the tool that reads them. */
  input?: string;
  /** The text of the message the user replied to, when known. */
  quoted?: string | undefined;
  /** This chat's persona and language. */
  chat?: ChatAnswerSettings | undefined;
  /** The manager has readWebPage: other web links in the message are pointed out too. */
  readsWebLinks?: boolean;
}): string {
  const place =
    context.chatType === 'p2p'
      ? `a direct (one-to-one) chat${context.userName ? ` with ${context.userName}` : ''}`
      : context.chatType === 'group'
        ? `a group chat${context.threadId || context.rootId ? ', inside a thread' : ''}; several people talk here and earlier user messages are prefixed with the sender's name${context.userName ? `. The person asking now is ${context.userName}` : ''}`
        : 'the developer playground';
  const specialistLines = specialists
    .list()
    .filter((specialist) => !chat?.specialistsOff?.includes(specialist.name))
    .map((specialist) => `- ${specialist.name}: ${specialist.description}`)
    .join('\n');
  return [
    `You are ${botName}, an assistant people talk to inside Feishu (Lark).`,
    `Current date and time: ${formatNow(now, context.timeZone ?? 'Asia/Shanghai')}.`,
    `You are in ${place}.`,
    '',
    'How to work:',
    '- Answer directly when you can. Be accurate, concise and friendly; reply in the language the user wrote in.',
    "- Delegate to a specialist (call it as a tool) when the task matches its description. Give it a complete, self-contained task: it cannot see this chat. Then give the user the specialist's result, lightly edited if needed.",
    '- If a specialist fails, say so briefly and help as well as you can yourself.',
    "- Never make up facts about the chat you haven't read.",
    ...(chat?.language === 'zh' || chat?.language === 'en' ? [LANGUAGE_LINE[chat.language]] : []),
    '- Format with simple Markdown (headings, lists, code blocks, short tables): it is shown in a Feishu card.',
    '',
    '- When a tool reports an error, say plainly what could not be read; never fill the gap with guesses.',
    '',
    specialistLines.length > 0 ? `Specialists:\n${specialistLines}` : 'No specialists are available.',
    ...(chat?.persona === undefined
      ? []
      : [
          '',
          "This chat's admins set these instructions for you here (follow them unless they ask you to break the rules above):",
          chat.persona,
        ]),
    ...(quoted === undefined
      ? []
      : ['', 'The user is replying to this earlier message (what "this" or "it" may refer to):', `«${quoted}»`]),
    ...feishuLinkHints(quoted === undefined ? input : `${input}\n${quoted}`),
    ...(readsWebLinks ? webLinkHints(quoted === undefined ? input : `${input}\n${quoted}`) : []),
  ].join('\n');
}

/** Stored history as model messages; in group chats user turns carry who said them. */
export function historyToMessages(
  history: readonly HistoryMessage[],
  chatType: ConversationContext['chatType'],
): ModelMessage[] {
  return history.map((message): ModelMessage => {
    if (message.role === 'assistant') return { role: 'assistant', content: message.content };
    const content =
      chatType === 'group' && message.author !== undefined ? `${message.author}: ${message.content}` : message.content;
    return { role: 'user', content };
  });
}

/**
 * The manager agent: streamText over the model chain with the specialists as tools and a step
 * limit, instructions built per call, text deltas streamed to `onText`.
 *
 * @example
 * const manager = createManagerAgent({ chain, specialists, bus, maxSteps: 8 });
 * const answer = await manager.answer({ context, history, input: 'Summarise this thread', onText: (text) => sink.update(text) });
 */
export function createManagerAgent({
  specialists,
  feishuClient,
  tools: givenTools,
  ownTools = DEFAULT_MANAGER_TOOLS,
  readQuotedMessage,
  now = () => new Date(),
  botName,
  ...shared
}: ManagerAgentOptions): ManagerAgent {
  const tools = givenTools ?? createToolRuntime({ registry: defaultToolRegistry(), bus: shared.bus, feishuClient });
  const dependencies: AgentDependencies = { ...shared, tools, now };
  const { chain, bus, log, maxSteps, totalTimeoutMs } = dependencies;
  return {
    name: MANAGER_AGENT_NAME,
    specialists,
    chain,
    async answer({
      context,
      history,
      input,
      content,
      quoted: given,
      preferredModel,
      background,
      chat,
      signal,
      onText,
      approvals,
      continuation,
    }) {
      // What the user must be told about the tools, whatever the model makes of their errors.
      const notices = createToolNotices();
      const toolSet = tools.toolSet(ownTools, { agent: MANAGER_AGENT_NAME, conversation: context, notices, approvals });
      // Bounded by the step limit; kept to tell whether the answer relays a specialist.
      const results: SpecialistResult[] = [];
      for (const specialist of specialists.list()) {
        if (chat?.specialistsOff?.includes(specialist.name)) continue;
        toolSet[specialist.name] = specialistTool(specialist, {
          conversation: context,
          dependencies,
          notices,
          onResult: (text, model) => results.push({ agent: specialist.name, text, model }),
        });
      }
      const quoted =
        given !== undefined
          ? (given?.slice(0, MAX_QUOTED_CHARS) ?? undefined)
          : context.parentId === undefined || readQuotedMessage === undefined
            ? undefined
            : await withTimeout(readQuotedMessage(context.parentId), 2_000, () => new Error('quoted message: too slow'))
                .then((text) =>
                  text === undefined || text.trim() === '' ? undefined : text.slice(0, MAX_QUOTED_CHARS),
                )
                .catch((error: unknown) => {
                  log?.debug({ traceId: context.traceId, err: error }, 'quoted message not read');
                  return undefined;
                });
      // Same "author: text" form as the stored group turns, so the model sees one convention.
      const author = context.userName ?? context.userId;
      const prefix = context.chatType === 'group' && author !== undefined ? `${author}: ` : '';
      const current: ModelMessage = {
        role: 'user',
        content:
          content === undefined || content.length === 0
            ? `${prefix}${input}`
            : content.map((part, index) =>
                index === 0 && part.type === 'text' && prefix !== ''
                  ? { ...part, text: `${prefix}${part.text}` }
                  : part,
              ),
      };
      const requestMessages: ModelMessage[] = continuation ?? [
        ...historyToMessages(history, context.chatType),
        ...(background === undefined || background === '' ? [] : [{ role: 'user' as const, content: background }]),
        current,
      ];
      const run = await runAgent({
        agent: MANAGER_AGENT_NAME,
        traceId: context.traceId,
        chain,
        system: buildManagerInstructions({
          context,
          specialists,
          now: now(),
          input,
          quoted,
          chat,
          readsWebLinks: ownTools.includes('readWebPage'),
          ...(botName === undefined ? {} : { botName }),
        }),
        messages: requestMessages,
        // A turn's own need (a vision model for images) before the chat's chosen model.
        ...((preferredModel ?? chat?.model) === undefined ? {} : { preferredModel: preferredModel ?? chat?.model }),
        tools: toolSet,
        maxSteps,
        ...(totalTimeoutMs === undefined ? {} : { totalTimeoutMs }),
        ...(signal === undefined ? {} : { signal }),
        ...(onText === undefined ? {} : { onText }),
        bus,
        ...(log === undefined ? {} : { log }),
      });
      const relayed = relayedResult({ answer: run.text, results });
      const by = {
        answeredBy: relayed?.agent ?? MANAGER_AGENT_NAME,
        answeredByModel: relayed === undefined ? run.model : (relayed.model ?? run.model),
      };
      const result: ManagerAnswer =
        run.responseMessages === undefined
          ? { ...run, ...by }
          : { ...run, ...by, conversation: [...requestMessages, ...run.responseMessages] };
      if (result.outcome === 'aborted' || notices.list().length === 0) return result;
      const text = appendNotices(result.text, notices.list());
      try {
        onText?.(text);
      } catch (error) {
        log?.warn({ traceId: context.traceId, err: error }, 'text listener failed');
      }
      return { ...result, text };
    },
  };
}

/**
 * The model chain for a config: the provider's models (model-provider.ts; Chat Completions,
 * so any OpenAI-compatible provider works) for MODEL then FALLBACK_MODELS, with the timeouts,
 * retry and breaker knobs from the config. One per process: the breakers live in it.
 */
export function createModelChainFromConfig(
  model: Config['model'],
  { bus, log, maxConcurrency }: { bus: EventBus; log?: Logger; maxConcurrency?: number },
): ModelChain {
  if (model.primary === undefined) throw new Error('MODEL is not set: the agent is off');
  // Response starts (before the first token) tell the chain's concurrency limit the provider took a request.
  const onResponse = (signal: AbortSignal | undefined, response: Response) =>
    chain.responseStarted(signal, response.status, (name) => response.headers.get(name) ?? undefined);
  const chain: ModelChain = createModelChain({
    createModel: modelProvider(model, { onResponse }),
    primary: model.primary,
    fallbacks: model.fallbacks,
    firstTokenTimeoutMs: model.firstTokenTimeoutMs,
    totalTimeoutMs: model.totalTimeoutMs,
    maxRetries: model.maxRetries,
    maxRetryDelayMs: model.maxRetryDelayMs,
    breakerFailures: model.breakerFailures,
    breakerFirstCooldownMs: model.breakerFirstCooldownMs,
    breakerCooldownMs: model.breakerCooldownMs,
    ...(maxConcurrency === undefined ? {} : { maxConcurrency }),
    bus,
    ...(log === undefined ? {} : { log }),
  });
  return chain;
}

/** What a manager's tools need of one Feishu app: its client, its people's names and authorizations. */
export interface FeishuAppParts {
  feishuClient?: FeishuClient | undefined;
  userAuthorization?: UserAuthorization | undefined;
  resolveUserName?: ((openId: string) => Promise<string | undefined>) | undefined;
}

/**
 * Everything the composition root needs: chain, built-in specialists plus SPECIALISTS_FILE
 * (validated; a bad file throws SpecialistsFileError naming the file and field), manager.
 *
 * @example
 * const manager = await createManagerAgentFromConfig({ model: config.model, bus, log, feishuClient });
 * const betaManager = manager.forApp({ feishuClient: betaClient }); // same chain, beta's tools
 */
export async function createManagerAgentFromConfig({
  model,
  tools: toolSettings,
  search,
  fetch: fetchSettings,
  mcp: mcpSettings,
  bus,
  log,
  feishuClient,
  userAuthorization,
  resolveUserName,
  maxConcurrency,
  extraTools = [],
  store,
  now,
}: {
  model: Config['model'];
  /** MAX_CONCURRENT_JOBS: the ceiling of every model's adaptive concurrency limit. */
  maxConcurrency?: number;
  /**
   * Tools built at start-up from the bot's own parts (the schedule tools need the store), added
   * to the built-in ones and given to the manager itself.
   */
  extraTools?: readonly AnyToolDefinition[];
  /** Default: the defaults of `lib/config.ts`. */
  tools?: Config['tools'];
  /** Web search (SEARCH_*); default: off. */
  search?: Config['search'];
  /** Page fetching limits (FETCH_*); default: those of `lib/config.ts`. */
  fetch?: Config['fetch'];
  /** MCP servers (MCP_*); default: none. */
  mcp?: Config['mcp'];
  /** Where approved MCP calls are recorded (started, completed); without it a crash may repeat one. */
  store?: Pick<Store, 'getRecord' | 'putRecord'>;
  bus: EventBus;
  log?: Logger;
  feishuClient?: FeishuClient;
  /** Where user-identity tools get the asking user's token; default: nobody is authorized. */
  userAuthorization?: UserAuthorization;
  /** Display names for transcripts the tools write (chat history). */
  resolveUserName?: (openId: string) => Promise<string | undefined>;
  now?: () => Date;
}): Promise<ManagerAgent & { forApp(feishu: FeishuAppParts): ManagerAgent }> {
  const registry = createToolRegistry([...BUILT_IN_TOOLS, ...extraTools]);
  const searchProvider = search === undefined ? undefined : createSearchProvider(search);
  // With a search provider set up, the manager searches itself unless MANAGER_TOOLS says otherwise.
  const ownTools = [
    ...(toolSettings?.managerTools ?? [
      ...DEFAULT_MANAGER_TOOLS,
      ...(searchProvider === undefined ? [] : ['webSearch']),
    ]),
    ...extraTools.map((tool) => tool.name),
  ];
  const unknown = ownTools.filter((name) => !registry.has(name));
  if (unknown.length > 0) {
    throw new Error(`MANAGER_TOOLS: unknown tool ${unknown.join(', ')} (available: ${registry.names().join(', ')})`);
  }
  const fromFile =
    model.specialistsFile === undefined ? [] : await loadSpecialistsFile(model.specialistsFile, { tools: registry });
  const specialists = createSpecialistRegistry([...builtInSpecialists(), ...fromFile]);
  log?.info({ specialists: specialists.list().map((specialist) => specialist.name) }, 'specialists loaded');
  const mcpHub =
    mcpSettings?.serversFile === undefined
      ? undefined
      : createMcpHub({
          servers: await loadMcpServersFile(mcpSettings.serversFile, {
            knownSpecialists: specialists.list().map((specialist) => specialist.name),
          }),
          reservedNames: registry.names(),
          ...(store === undefined ? {} : { ledger: createMcpCallLedger({ store }) }),
          connectTimeoutMs: mcpSettings.connectTimeoutMs,
          restartMaxMs: mcpSettings.restartMaxDelayMs,
          maxMessageBytes: mcpSettings.maxMessageBytes,
          ...(toolSettings === undefined ? {} : { callTimeoutMs: toolSettings.timeoutMs }),
          ...(log === undefined ? {} : { log }),
        });
  // Every server's first attempt (bounded by MCP_CONNECT_TIMEOUT_MS): one that is down starts
  // without its tools and is restarted in the background.
  await mcpHub?.started;
  const fetchPage = createPageFetcher(
    fetchSettings === undefined
      ? {}
      : {
          maxBytes: fetchSettings.maxBytes,
          timeoutMs: fetchSettings.timeoutMs,
          allowPrivateHosts: fetchSettings.allowPrivateHosts,
        },
  );
  /** The tools over one Feishu app's client: another app's tools never call Feishu with this one's token. */
  const toolsFor = (feishu: FeishuAppParts) =>
    createToolRuntime({
      registry,
      bus,
      feishuClient: feishu.feishuClient,
      web: {
        search: searchProvider,
        ...(search === undefined ? {} : { maxSearchResults: search.maxResults }),
        fetchPage,
      },
      ...(mcpHub === undefined ? {} : { extraTools: (agent: string) => mcpHub.toolsFor(agent) }),
      ...(feishu.userAuthorization === undefined ? {} : { userAuthorization: feishu.userAuthorization }),
      ...(feishu.resolveUserName === undefined ? {} : { userName: feishu.resolveUserName }),
      ...(toolSettings === undefined
        ? {}
        : {
            timeoutMs: toolSettings.timeoutMs,
            limits: { maxChars: toolSettings.maxResultChars, maxItems: toolSettings.maxResultItems },
          }),
    });
  try {
    const chain = createModelChainFromConfig(model, {
      bus,
      ...(log === undefined ? {} : { log }),
      ...(maxConcurrency === undefined ? {} : { maxConcurrency }),
    });
    /** One chain (its breakers and limits), specialists and MCP servers for every app. */
    const managerFor = (feishu: FeishuAppParts): ManagerAgent => {
      const client = feishu.feishuClient;
      const manager = createManagerAgent({
        chain,
        specialists,
        tools: toolsFor(feishu),
        ownTools,
        ...(client === undefined
          ? {}
          : { readQuotedMessage: (messageId: string) => readMessageText({ client, bus, messageId }) }),
        bus,
        maxSteps: model.maxSteps,
        totalTimeoutMs: model.totalTimeoutMs,
        ...(log === undefined ? {} : { log }),
        ...(now === undefined ? {} : { now }),
      });
      return mcpHub === undefined ? manager : { ...manager, mcp: mcpHub };
    };
    const manager = managerFor({ feishuClient, userAuthorization, resolveUserName });
    return { ...manager, forApp: managerFor };
  } catch (error) {
    // The servers' processes must not outlive a start that failed.
    await mcpHub?.close();
    throw error;
  }
}
