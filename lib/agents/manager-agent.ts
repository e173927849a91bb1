import type { ModelMessage, ToolSet } from 'ai';
import type { Config } from '../config.js';
import type { FeishuClient } from '../feishu/feishu-client.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import type { HistoryMessage } from '../store/store.js';
import type { ConversationContext } from './conversation-context.js';
import { createModelChain, type ModelChain } from './model-chain.js';
import { modelProvider } from './model-provider.js';
import { type AgentRunResult, runAgent } from './run-agent.js';
import {
  builtInSpecialists,
  createSpecialistRegistry,
  loadSpecialistsFile,
  type SpecialistRegistry,
} from './specialist-registry.js';
import { type AgentDependencies, buildTools, specialistTool } from './specialist-tool.js';
import { defaultToolCatalog, formatNow, type ToolCatalog } from './tools/tool-catalog.js';

export const MANAGER_AGENT_NAME = 'manager';

/** Tools the manager uses itself (specialists are added as tools too). */
const MANAGER_OWN_TOOLS = ['currentTime'] as const;

export interface AnswerOptions {
  context: ConversationContext;
  /** Earlier turns, oldest first (already within the memory budget). */
  history: readonly HistoryMessage[];
  /** The user's message. */
  input: string;
  /** Stops the model (shutdown, lease lost): the result is then 'aborted'. */
  signal?: AbortSignal;
  /** Called with the FULL answer so far after every delta (feed it to ReplySink.update). */
  onText?: (fullText: string) => void;
}

export type ManagerAnswer = AgentRunResult;

export interface ManagerAgent {
  readonly name: string;
  readonly specialists: SpecialistRegistry;
  readonly chain: ModelChain;
  answer(options: AnswerOptions): Promise<ManagerAnswer>;
}

/** What the specialists get too (AgentDependencies), plus the manager's own. */
export interface ManagerAgentOptions extends Omit<AgentDependencies, 'toolCatalog'> {
  specialists: SpecialistRegistry;
  /** Default `defaultToolCatalog()`. */
  toolCatalog?: ToolCatalog;
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
}: {
  context: ConversationContext;
  specialists: SpecialistRegistry;
  now: Date;
  botName?: string;
}): string {
  const place =
    context.chatType === 'p2p'
      ? `a direct (one-to-one) chat${context.userName ? ` with ${context.userName}` : ''}`
      : context.chatType === 'group'
        ? `a group chat${context.threadId || context.rootId ? ', inside a thread' : ''}; several people talk here and earlier user messages are prefixed with the sender's name${context.userName ? `. The person asking now is ${context.userName}` : ''}`
        : 'the developer playground';
  const specialistLines = specialists
    .list()
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
    '- Format with simple Markdown (headings, lists, code blocks, short tables): it is shown in a Feishu card.',
    '',
    specialistLines.length > 0 ? `Specialists:\n${specialistLines}` : 'No specialists are available.',
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
  toolCatalog = defaultToolCatalog(),
  now = () => new Date(),
  botName,
  ...shared
}: ManagerAgentOptions): ManagerAgent {
  const dependencies: AgentDependencies = { ...shared, toolCatalog, now };
  const { chain, bus, log, maxSteps, totalTimeoutMs } = dependencies;
  return {
    name: MANAGER_AGENT_NAME,
    specialists,
    chain,
    async answer({ context, history, input, signal, onText }) {
      const tools: ToolSet = buildTools(MANAGER_OWN_TOOLS, {
        agent: MANAGER_AGENT_NAME,
        conversation: context,
        dependencies,
      });
      for (const specialist of specialists.list()) {
        tools[specialist.name] = specialistTool(specialist, { conversation: context, dependencies });
      }
      // Same "author: text" form as the stored group turns, so the model sees one convention.
      const author = context.userName ?? context.userId;
      const current = context.chatType === 'group' && author !== undefined ? `${author}: ${input}` : input;
      return runAgent({
        agent: MANAGER_AGENT_NAME,
        traceId: context.traceId,
        chain,
        system: buildManagerInstructions({
          context,
          specialists,
          now: now(),
          ...(botName === undefined ? {} : { botName }),
        }),
        messages: [...historyToMessages(history, context.chatType), { role: 'user', content: current }],
        tools,
        maxSteps,
        ...(totalTimeoutMs === undefined ? {} : { totalTimeoutMs }),
        ...(signal === undefined ? {} : { signal }),
        ...(onText === undefined ? {} : { onText }),
        bus,
        ...(log === undefined ? {} : { log }),
      });
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
  { bus, log }: { bus: EventBus; log?: Logger },
): ModelChain {
  if (model.primary === undefined) throw new Error('MODEL is not set: the agent is off');
  return createModelChain({
    createModel: modelProvider(model),
    primary: model.primary,
    fallbacks: model.fallbacks,
    firstTokenTimeoutMs: model.firstTokenTimeoutMs,
    totalTimeoutMs: model.totalTimeoutMs,
    maxRetries: model.maxRetries,
    maxRetryDelayMs: model.maxRetryDelayMs,
    breakerFailures: model.breakerFailures,
    breakerCooldownMs: model.breakerCooldownMs,
    bus,
    ...(log === undefined ? {} : { log }),
  });
}

/**
 * Everything the composition root needs: chain, built-in specialists plus SPECIALISTS_FILE
 * (validated; a bad file throws SpecialistsFileError naming the file and field), manager.
 *
 * @example
 * const manager = await createManagerAgentFromConfig({ model: config.model, bus, log, feishuClient });
 */
export async function createManagerAgentFromConfig({
  model,
  bus,
  log,
  feishuClient,
  now,
}: {
  model: Config['model'];
  bus: EventBus;
  log?: Logger;
  feishuClient?: FeishuClient;
  now?: () => Date;
}): Promise<ManagerAgent> {
  const toolCatalog = defaultToolCatalog();
  const fromFile =
    model.specialistsFile === undefined ? [] : await loadSpecialistsFile(model.specialistsFile, { toolCatalog });
  const specialists = createSpecialistRegistry([...builtInSpecialists(), ...fromFile]);
  log?.info({ specialists: specialists.list().map((specialist) => specialist.name) }, 'specialists loaded');
  return createManagerAgent({
    chain: createModelChainFromConfig(model, { bus, ...(log === undefined ? {} : { log }) }),
    specialists,
    toolCatalog,
    bus,
    maxSteps: model.maxSteps,
    totalTimeoutMs: model.totalTimeoutMs,
    ...(log === undefined ? {} : { log }),
    ...(feishuClient === undefined ? {} : { feishuClient }),
    ...(now === undefined ? {} : { now }),
  });
}
