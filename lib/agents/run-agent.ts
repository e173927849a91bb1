import { type ModelMessage, stepCountIs, streamText, type ToolSet } from 'ai';
import type { Logger } from '../log.js';
import type { ErrorCategory } from '../observe/error-category.js';
import type { EventBus } from '../observe/event-bus.js';
import { classifyModelError, ModelTimeoutError, userMessageFor } from './classify-model-error.js';
import { type ModelChain, ModelChainError } from './model-chain.js';

/** How one agent call (manager or specialist) ended. */
export interface AgentRunResult {
  /** Everything the agent said (on failure: what it said before failing). */
  text: string;
  /** 'aborted' only when the caller's signal stopped it (shutdown, lease lost). */
  outcome: 'success' | 'error' | 'aborted';
  /** The model that served the last step. */
  model: string | undefined;
  inputTokens: number;
  outputTokens: number;
  latencyMs: number;
  errorCategory?: ErrorCategory;
  /** The short sentence to show the user when outcome is 'error'. */
  notice?: string;
  finishReason?: string;
  /**
   * Write tools the model called that wait for the person's approval (the AI SDK's
   * tool-approval-request); the run stopped there. Empty or absent: nothing waits.
   */
  pendingApprovals?: PendingToolApproval[];
  /** With pending approvals: the messages the model produced (to send again with the decision). */
  responseMessages?: ModelMessage[];
}

/** One tool call waiting for approval, as the AI SDK asked for it. */
export interface PendingToolApproval {
  approvalId: string;
  toolCallId: string;
  toolName: string;
  input: unknown;
}

export interface RunAgentOptions {
  agent: string;
  traceId: string;
  chain: ModelChain;
  preferredModel?: string;
  system: string;
  messages: ModelMessage[];
  tools?: ToolSet;
  maxSteps: number;
  /** Deadline for the whole call including tool steps. */
  totalTimeoutMs?: number;
  signal?: AbortSignal;
  /** Called with the FULL text so far after every text delta. */
  onText?: (fullText: string) => void;
  bus: EventBus;
  log?: Logger;
  now?: () => number;
}

/**
 * Runs one agent call with streamText over the model chain and reports it as one 'agent.call'
 * event. Never throws for model failures: it returns what was said plus a category and a user
 * notice, so the caller can close the reply honestly. The SDK's retries are off (the chain
 * owns retry policy).
 *
 * Text of consecutive steps is joined with a blank line, so "Let me check." followed by the
 * answer after a tool call does not run together.
 */
export async function runAgent({
  agent,
  traceId,
  chain,
  preferredModel,
  system,
  messages,
  tools,
  maxSteps,
  totalTimeoutMs,
  signal,
  onText,
  bus,
  log,
  now = Date.now,
}: RunAgentOptions): Promise<AgentRunResult> {
  const startedAt = now();
  const call = chain.call({ traceId, agent, ...(preferredModel === undefined ? {} : { preferredModel }) });
  const controller = new AbortController();
  let deadlineHit: ModelTimeoutError | undefined;
  const onCallerAbort = () => controller.abort(signal?.reason);
  if (signal?.aborted) onCallerAbort();
  else signal?.addEventListener('abort', onCallerAbort, { once: true });
  const deadline =
    totalTimeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          deadlineHit = new ModelTimeoutError('total', totalTimeoutMs);
          controller.abort(deadlineHit);
        }, totalTimeoutMs);

  let text = '';
  let stepHasText = false;
  let inputTokens = 0;
  let outputTokens = 0;
  let failure: unknown;
  let finishReason: string | undefined;
  let aborted = false;
  const pendingApprovals: PendingToolApproval[] = [];
  let responseMessages: ModelMessage[] | undefined;

  try {
    const result = streamText({
      model: call.model,
      system,
      messages,
      ...(tools === undefined ? {} : { tools }),
      stopWhen: stepCountIs(maxSteps),
      maxRetries: 0,
      abortSignal: controller.signal,
      // Errors arrive as 'error' parts below; this stops the SDK printing them to the console.
      onError: () => {},
    });
    for await (const part of result.fullStream) {
      switch (part.type) {
        case 'start-step':
          stepHasText = false;
          break;
        case 'text-delta':
          if (part.text.length === 0) break;
          if (!stepHasText && text.length > 0 && !text.endsWith('\n\n')) text += text.endsWith('\n') ? '\n' : '\n\n';
          stepHasText = true;
          text += part.text;
          try {
            onText?.(text);
          } catch (error) {
            // A broken reply must not stop the answer: it still ends up in finish/fail and memory.
            log?.warn({ traceId, agent, err: error }, 'text listener failed');
          }
          break;
        case 'finish-step':
          inputTokens += part.usage.inputTokens ?? 0;
          outputTokens += part.usage.outputTokens ?? 0;
          finishReason = part.finishReason;
          break;
        case 'error':
          failure ??= part.error;
          break;
        case 'abort':
          aborted = true;
          break;
        case 'tool-approval-request':
          pendingApprovals.push({
            approvalId: part.approvalId,
            toolCallId: part.toolCall.toolCallId,
            toolName: part.toolCall.toolName,
            input: part.toolCall.input,
          });
          break;
        default:
          break;
      }
    }
    // The conversation so far must be kept to continue once the person decides.
    if (pendingApprovals.length > 0 && failure === undefined) responseMessages = (await result.response).messages;
  } catch (error) {
    failure ??= error;
  } finally {
    if (deadline !== undefined) clearTimeout(deadline);
    signal?.removeEventListener('abort', onCallerAbort);
  }

  const latencyMs = now() - startedAt;
  const model = call.servedBy;
  const base = { text, model, inputTokens, outputTokens, latencyMs, ...(finishReason ? { finishReason } : {}) };

  if (signal?.aborted && deadlineHit === undefined) {
    // Not a model failure: the job is being handed back. No agent.call, so health is not skewed.
    log?.info({ traceId, agent, reason: String(signal.reason) }, 'agent call stopped by its caller');
    return { ...base, outcome: 'aborted' };
  }

  let category: ErrorCategory | undefined;
  if (deadlineHit !== undefined || (aborted && failure === undefined)) category = 'TIMEOUT';
  else if (failure !== undefined) category = classifyModelError(failure).category;
  else if (finishReason === 'content-filter') category = 'CONTENT_FILTER';

  // One report per call: the health monitor counts a failed agent.call as an error of its
  // category, so no separate 'error' event here (that would count it twice).
  if (failure !== undefined && !ModelChainError.isInstance(failure)) {
    log?.warn({ traceId, agent, err: failure }, 'agent call failed outside the model chain');
  }
  bus.emit({
    type: 'agent.call',
    traceId,
    agent,
    model: model ?? call.attempts[0]?.model ?? preferredModel ?? chain.models[0] ?? 'unknown',
    latencyMs,
    outcome: category === undefined ? 'success' : 'error',
    inputTokens,
    outputTokens,
    ...(category === undefined ? {} : { errorCategory: category }),
  });

  if (category === undefined) {
    return responseMessages === undefined
      ? { ...base, outcome: 'success' }
      : { ...base, outcome: 'success', pendingApprovals, responseMessages };
  }
  log?.warn({ traceId, agent, category, model, partial: text.length > 0 }, 'agent call failed');
  return { ...base, outcome: 'error', errorCategory: category, notice: userMessageFor(category) };
}
