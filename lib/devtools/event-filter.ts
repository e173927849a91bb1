import type { TraceStatus, TraceSummary } from './trace-reducer.js';
import type { TrackedEvent } from './tracked-event.js';

export interface EventFilter {
  /** Event types to keep (any of). */
  types?: readonly string[];
  agent?: string;
  tool?: string;
  chat?: string;
  /** Status of the event's trace. */
  status?: TraceStatus;
  traceId?: string;
  /** Case-insensitive substring of the event's JSON. */
  text?: string;
}

/** The live summary of a trace, if devtools still holds it (the filters read chat and status from it). */
export type SummaryLookup = (traceId: string) => TraceSummary | undefined;

/**
 * Whether one event passes a filter: GET /events and the live feed apply the same rules. Chat
 * and status come from the event's trace, so every event of a message matches its chat.
 *
 * @example
 * eventMatches(event, { agent: 'researcher', status: 'failed' }, (id) => traces.summaryOf(id));
 */
export function eventMatches(event: TrackedEvent, filter: EventFilter, summaryOf: SummaryLookup): boolean {
  if (filter.types && filter.types.length > 0 && !filter.types.includes(event.type)) return false;
  const traceId = 'traceId' in event ? event.traceId : undefined;
  if (filter.traceId && traceId !== filter.traceId) return false;
  if (filter.agent) {
    const agents = [
      'agent' in event ? event.agent : undefined,
      'from' in event && event.type === 'agent.delegation' ? event.from : undefined,
      'to' in event && event.type === 'agent.delegation' ? event.to : undefined,
    ];
    if (!agents.includes(filter.agent)) return false;
  }
  if (filter.tool && !(event.type === 'tool.call' && event.tool === filter.tool)) return false;
  if (filter.chat || filter.status) {
    const summary = traceId ? summaryOf(traceId) : undefined;
    const chatId = event.type === 'message.received' ? event.chatId : summary?.chatId;
    if (filter.chat && chatId !== filter.chat) return false;
    if (filter.status && summary?.status !== filter.status) return false;
  }
  if (filter.text && !JSON.stringify(event).toLowerCase().includes(filter.text.toLowerCase())) return false;
  return true;
}
