import { DEFAULT_PRICE_TABLE, type PriceTable } from '../cost/price-table.js';
import { appOfKey } from '../inbox/app-scope.js';
import type { EventSource, ReplyMode } from '../observe/bot-event.js';
import type { ErrorCategory } from '../observe/error-category.js';
import type { TrackedEvent } from './tracked-event.js';

export type TraceStatus = 'running' | 'done' | 'failed' | 'dead';
export const TRACE_STATUSES: readonly TraceStatus[] = ['running', 'done', 'failed', 'dead'];

/** One inbound message from receipt to final card, summarised for lists and filters. */
export interface TraceSummary {
  id: string;
  /** The Feishu app (bot) the message came in through: `default` unless several apps are served. */
  app: string;
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
  /** The start of the answer the bot sent; empty until the reply finished. */
  replyPreview: string;
  agents: string[];
  tools: string[];
  models: string[];
  agentCalls: number;
  toolCalls: number;
  inputTokens: number;
  outputTokens: number;
  /** Estimate from the configured price table (lib/cost); models it does not know count as zero. */
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
  /** The asker's rating of the answer (👍 up, 👎 down; the latest counts), null when not rated. */
  feedback: 'up' | 'down' | null;
}

/** One card an answer filled before it continued in the next. */
export interface SentCard {
  index: number;
  cardId: string;
  /** The part of the answer this card holds. */
  text: string;
}

/**
 * What the bot sent, kept beside the timeline so it survives the per-trace event cap (a long
 * streamed answer emits many card updates before it finishes).
 */
export interface SentReply {
  /** The whole answer as the user sees it (see `reply.finished`); null until it finished. */
  text: string | null;
  /** The cards the answer rolled over from, by index; the last card holds the rest of `text`. */
  cards: SentCard[];
}

export interface Trace extends TraceSummary {
  /** The timeline, oldest first. */
  events: TrackedEvent[];
  sent: SentReply;
}

/** Cards remembered per answer (the reply layer stops at 20). */
const MAX_SENT_CARDS = 32;

/**
 * Records what a reply event says was sent; other events leave `sent` as it is.
 *
 * @example
 * const sent = { text: null, cards: [] };
 * recordSent(sent, event);
 */
export function recordSent(sent: SentReply, event: TrackedEvent): void {
  if (event.type === 'reply.finished') {
    sent.text = event.text;
    return;
  }
  if (event.type !== 'reply.card') return;
  const card = { index: event.index, cardId: event.cardId, text: event.text };
  const at = sent.cards.findIndex((known) => known.index === event.index);
  if (at >= 0) sent.cards[at] = card;
  else if (sent.cards.length < MAX_SENT_CARDS) {
    sent.cards.push(card);
    sent.cards.sort((a, b) => a.index - b.index);
  }
}

const PREVIEW_CHARS = 200;
/** Agent, tool and model names kept per trace: they come from config, but stay bounded anyway. */
const MAX_NAMES = 32;

/** The summary of a trace before its first event. */
export function emptySummary(id: string, at: number): TraceSummary {
  return {
    id,
    app: appOfKey(id),
    firstAt: at,
    lastAt: at,
    durationMs: 0,
    status: 'running',
    source: null,
    chatId: null,
    chatType: null,
    userId: null,
    textPreview: '',
    replyPreview: '',
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
    feedback: null,
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
export function reduceTrace(
  summary: TraceSummary,
  event: TrackedEvent,
  prices: PriceTable = DEFAULT_PRICE_TABLE,
): void {
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
      const cost = prices.estimate(event.model, event.inputTokens, event.outputTokens);
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
      summary.replyPreview = preview(event.text);
      if (event.notice) summary.notice = event.notice;
      break;
    case 'answer.feedback':
      summary.feedback = event.rating;
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
