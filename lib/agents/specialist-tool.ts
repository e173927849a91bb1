import { type Tool, tool } from 'ai';
import { z } from 'zod';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import type { ConversationContext } from './conversation-context.js';
import type { ModelChain } from './model-chain.js';
import { runAgent } from './run-agent.js';
import type { SpecialistDefinition } from './specialist-registry.js';
import { formatNow } from './tools/current-time.js';
import type { ToolNotices } from './tools/tool-notices.js';
import { capText, type ToolRuntime } from './tools/tool-runtime.js';

/** What every agent run needs, the manager's and each specialist's. */
export interface AgentDependencies {
  chain: ModelChain;
  /** Builds each agent's tools (registry, Feishu client, user authorization, limits, deadline). */
  tools: ToolRuntime;
  bus: EventBus;
  log?: Logger;
  /** Default tool-loop step limit (AGENT_MAX_STEPS). */
  maxSteps: number;
  /** MODEL_TOTAL_TIMEOUT_MS: deadline for one agent run, tool steps included. */
  totalTimeoutMs?: number;
  /** Injected in tests; instructions read it on every call, never at start-up. */
  now?: () => Date;
}

/** A specialist's system prompt for one call: its own instructions plus date and chat context. */
export function buildSpecialistInstructions(
  specialist: SpecialistDefinition,
  conversation: ConversationContext,
  now: Date,
): string {
  return [
    specialist.instructions,
    '',
    `Current date and time: ${formatNow(now, conversation.timeZone ?? 'Asia/Shanghai')}.`,
    `You work for a manager agent answering in a Feishu ${conversation.chatType === 'p2p' ? 'direct chat' : 'group chat'}. Your answer goes back to it, not straight to the user.`,
  ].join('\n');
}

/**
 * Agent-as-tool: the manager calls the specialist like a tool with a self-contained task. Each
 * call is its own tracked agent call ('agent.delegation' + 'agent.call' with the specialist's
 * name, model, latency and tokens). A failure becomes a tool error the manager can work around.
 */
export function specialistTool(
  specialist: SpecialistDefinition,
  {
    conversation,
    dependencies,
    notices,
    from = 'manager',
    onResult,
  }: {
    conversation: ConversationContext;
    dependencies: AgentDependencies;
    notices: ToolNotices;
    from?: string;
    /** Told the specialist's finished text and model (to tell whose words the answer is). */
    onResult?: (text: string, model: string | undefined) => void;
  },
): Tool {
  return tool({
    description: specialist.description,
    inputSchema: z.object({
      task: z
        .string()
        .min(1)
        .max(20_000)
        .describe('The complete, self-contained task, with all text and details it needs (it cannot see this chat).'),
    }),
    execute: async ({ task }, { abortSignal }) => {
      dependencies.bus.emit({
        type: 'agent.delegation',
        traceId: conversation.traceId,
        from,
        to: specialist.name,
        task: capText(task, 300),
      });
      const now = dependencies.now?.() ?? new Date();
      const result = await runAgent({
        agent: specialist.name,
        traceId: conversation.traceId,
        chain: dependencies.chain,
        ...(specialist.model === undefined ? {} : { preferredModel: specialist.model }),
        system: buildSpecialistInstructions(specialist, conversation, now),
        messages: [{ role: 'user', content: task }],
        tools: dependencies.tools.toolSet(specialist.tools ?? [], { agent: specialist.name, conversation, notices }),
        maxSteps: specialist.maxSteps ?? dependencies.maxSteps,
        ...(dependencies.totalTimeoutMs === undefined ? {} : { totalTimeoutMs: dependencies.totalTimeoutMs }),
        ...(abortSignal === undefined ? {} : { signal: abortSignal }),
        bus: dependencies.bus,
        ...(dependencies.log === undefined ? {} : { log: dependencies.log }),
      });
      if (result.outcome === 'success') {
        onResult?.(result.text, result.model);
        return result.text;
      }
      if (result.outcome === 'aborted') throw new Error(`${specialist.name} was stopped`);
      // The model sees this as a tool error and can answer without the specialist.
      throw new Error(`${specialist.name} could not finish: ${result.notice ?? 'unknown error'}`);
    },
  });
}
