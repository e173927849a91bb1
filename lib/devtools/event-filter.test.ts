import { describe, expect, it } from 'vitest';
import type { BotEvent } from '../observe/bot-event.js';
import { type EventFilter, eventMatches } from './event-filter.js';
import { emptySummary, type TraceSummary } from './trace-reducer.js';
import type { TrackedEvent } from './tracked-event.js';

const summaries = new Map<string, TraceSummary>([
  ['t1', { ...emptySummary('t1', 0), chatId: 'oc_a', status: 'failed' }],
  ['t2', { ...emptySummary('t2', 0), chatId: 'oc_b', status: 'done' }],
]);
const summaryOf = (id: string) => summaries.get(id);
const tracked = (event: BotEvent): TrackedEvent => ({ ...event, at: 0, seq: 1 }) as TrackedEvent;

const delegation = tracked({ type: 'agent.delegation', traceId: 't1', from: 'manager', to: 'researcher', task: 'x' });
const tool = tracked({
  type: 'tool.call',
  traceId: 't2',
  agent: 'researcher',
  tool: 'search',
  input: '{"q":"Paris"}',
  output: '',
  latencyMs: 1,
});
const received = tracked({
  type: 'message.received',
  traceId: 'unknown',
  chatId: 'oc_c',
  chatType: 'p2p',
  userId: 'ou_1',
  text: 'hi',
});
const api = tracked({ type: 'feishu.api', api: 'im.message.reply', outcome: 'ok', latencyMs: 3 });

describe('eventMatches', () => {
  it.each<[string, EventFilter, TrackedEvent[]]>([
    ['no filter', {}, [delegation, tool, received, api]],
    ['types (any of)', { types: ['tool.call', 'feishu.api'] }, [tool, api]],
    ['an empty type list', { types: [] }, [delegation, tool, received, api]],
    ['trace id', { traceId: 't1' }, [delegation]],
    ['agent as caller, delegator or delegate', { agent: 'researcher' }, [delegation, tool]],
    ['agent as delegator', { agent: 'manager' }, [delegation]],
    ['tool', { tool: 'search' }, [tool]],
    ['chat of the trace, or of the message itself', { chat: 'oc_c' }, [received]],
    ['chat through the trace summary', { chat: 'oc_a' }, [delegation]],
    ['status of the trace', { status: 'done' }, [tool]],
    ['text anywhere in the JSON, any case', { text: 'PARIS' }, [tool]],
    ['several at once', { agent: 'researcher', status: 'failed' }, [delegation]],
  ])('filters by %s', (_name, filter, expected) => {
    const kept = [delegation, tool, received, api].filter((event) => eventMatches(event, filter, summaryOf));
    expect(kept).toEqual(expected);
  });
});
