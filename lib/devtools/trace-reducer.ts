import type { EventSource, ReplyMode } from '../observe/bot-event.js';
import type { ErrorCategory } from '../observe/error-category.js';
import { estimateCost } from './model-prices.js';
import type { TrackedEvent } from './tracked-event.js';

export type TraceStatus = 'running' | 'done' | 'failed' | 'dead';
export const TRACE_STATUSES: readonly TraceStatus[] = ['running', 'done', 'failed', 'dead'];

/** One inbound message from receipt to final card, summarised for lists and filters. */
export interface TraceSummary {
  id: string;
  firstAt: number;
  lastAt: number;
  durationMs: number;
  /**
   * running until the job finishes; done when it finished (also when the message was ignored);
   * failed when an attempt failed and waits for a retry, or the answer closed with a failure
   * notice; dead when the job went to the dead-letter list.
   */
  status: TraceStatus;
  source: EventSource | null;
  chatId: string | null;
  chatType: string | null;
  userId: string | null;
  textPreview: string;
  agents: string[];
  tools: string[];
  models: string[];
  agentCalls: number;
  toolCalls: number;
  inputTokens: number;
  outputTokens: number;
  /** Estimate from lib/devtools/model-prices.ts; models it does not know count as zero. */
  estimatedCostUsd: number;
  unpricedModels: string[];
  errorCount: number;
  errorCategory: ErrorCategory | null;
  error: string | null;
  attempts: number;
  replyMode: ReplyMode | null;
  notice: string | null;
  ignoredReason: string | null;
  eventCount: number;
  /** Events beyond the per-trace cap, counted but not kept. */
  droppedEvents: number;
}

export interface Trace extends TraceSummary {
  /** The timeline, oldest first. */
  events: TrackedEvent[];
}

const PREVIEW_CHARS = 200;
/** Agent, tool and model names kept per trace: they come from config, but stay bounded anyway. */
const MAX_NAMES = 32;

/** The summary of a trace before its first event. */
export function emptySummary(id: string, at: number): TraceSummary {
  return {
    id,
    firstAt: at,
    lastAt: at,
    durationMs: 0,
    status: 'running',
    source: null,
    chatId: null,
    chatType: null,
    userId: null,
    textPreview: '',
    agents: [],
    tools: [],
    models: [],
    agentCalls: 0,
    toolCalls: 0,
    inputTokens: 0,
    outputTokens: 0,
    estimatedCostUsd: 0,
    unpricedModels: [],
    errorCount: 0,
    errorCategory: null,
    error: null,
    attempts: 0,
    replyMode: null,
    notice: null,
    ignoredReason: null,
    eventCount: 0,
    droppedEvents: 0,
  };
}

/**
 * Folds one event of a trace into its summary: status, who was involved, tokens, cost, errors.
 * It updates `summary` in place, because it runs for every bus event and a trace has one summary.
 *
 * @example
 * const summary = emptySummary('message:om_1', Date.now());
 * for (const event of timeline) reduceTrace(summary, event);
 * summary.status; // 'done'
 */
export function reduceTrace(summary: TraceSummary, event: TrackedEvent): void {
  summary.lastAt = Math.max(summary.lastAt, event.at);
  summary.firstAt = Math.min(summary.firstAt, event.at);
  summary.durationMs = summary.lastAt - summary.firstAt;
  summary.eventCount++;

  switch (event.type) {
    case 'event.received':
      summary.source = event.source;
      break;
    case 'message.received':
      summary.chatId = event.chatId;
      summary.chatType = event.chatType;
      summary.userId = event.userId;
      summary.textPreview = preview(event.text);
      break;
    case 'message.ignored':
      summary.ignoredReason = event.reason;
      break;
    case 'job.started':
      summary.attempts = Math.max(summary.attempts, event.attempt);
      summary.status = 'running';
      break;
    case 'job.finished':
      if (event.outcome === 'done') summary.status = summary.notice ? 'failed' : 'done';
      else if (event.outcome === 'dead') summary.status = 'dead';
      else if (event.outcome === 'retry') summary.status = 'failed';
      if (event.error) summary.error = event.error;
      break;
    case 'agent.call': {
      addName(summary.agents, event.agent);
      addName(summary.models, event.model);
      summary.agentCalls++;
      summary.inputTokens += event.inputTokens;
      summary.outputTokens += event.outputTokens;
      const cost = estimateCost(event.model, event.inputTokens, event.outputTokens);
      summary.estimatedCostUsd += cost.usd;
      if (!cost.known) addName(summary.unpricedModels, event.model);
      if (event.outcome === 'error') {
        summary.errorCount++;
        summary.errorCategory = event.errorCategory ?? 'OTHER';
      }
      break;
    }
    case 'agent.delegation':
      addName(summary.agents, event.from);
      addName(summary.agents, event.to);
      break;
    case 'tool.call':
      addName(summary.agents, event.agent);
      addName(summary.tools, event.tool);
      summary.toolCalls++;
      if (event.error) summary.errorCount++;
      break;
    case 'reply.started':
      summary.replyMode = event.mode;
      break;
    case 'reply.finished':
      summary.replyMode = event.mode;
      if (event.notice) summary.notice = event.notice;
      break;
    case 'error':
      summary.errorCount++;
      summary.errorCategory = event.category;
      summary.error = event.message;
      break;
  }
}

/** A copy the caller may keep or change without touching the live summary. */
export function copySummary(summary: TraceSummary): TraceSummary {
  return {
    ...summary,
    agents: [...summary.agents],
    tools: [...summary.tools],
    models: [...summary.models],
    unpricedModels: [...summary.unpricedModels],
  };
}

function addName(list: string[], name: string): void {
  if (name && list.length < MAX_NAMES && !list.includes(name)) list.push(name);
}

function preview(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS)}…` : flat;
}
