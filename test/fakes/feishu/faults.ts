import type { FeishuApiName } from './core.js';
import { CORE_CODES, fail, type Reply } from './reply.js';

export interface FaultInjection {
  /** Which API to fail; `'*'` matches every API except the endpoints that issue tokens. */
  api: FeishuApiName | '*';
  /** How many matching calls to affect (default 1; `Infinity` for all until `reset`). */
  times?: number;
  /** HTTP status. Default 400 when `code` is set; required otherwise unless only latency. */
  status?: number;
  /** Feishu code in the body. Default: 429 → 99991400, 5xx → none (plain text body). */
  code?: number;
  msg?: string;
  /** Extra latency before answering; alone (no status/code) the call then succeeds normally. */
  latencyMs?: number;
  /** Extra response headers, e.g. `{ 'x-ogw-ratelimit-reset': '1' }`. */
  headers?: Record<string, string>;
  /** Destroy the socket without answering (a network error on the client). */
  dropConnection?: boolean;
  /** Narrow further, e.g. to one message id. */
  match?: (call: { method: string; path: string; query: Record<string, string>; body: unknown }) => boolean;
}

export interface InjectedFault {
  /** Calls this fault has affected so far. */
  readonly hits: number;
  /** Calls it will still affect. */
  readonly remaining: number;
}

export interface FaultBook {
  inject(fault: FaultInjection): InjectedFault;
  /**
   * The first active fault for this call, counted as used. `issuesTokens` calls are left alone by
   * `'*'` so a fault storm never stops the client from authenticating.
   */
  take(
    api: FeishuApiName,
    issuesTokens: boolean,
    call: { method: string; path: string; query: Record<string, string>; body: unknown },
  ): FaultInjection | undefined;
  clear(): void;
}

interface ActiveFault {
  fault: FaultInjection;
  hits: number;
  remaining: number;
}

/**
 * The faults `inject()` armed, consumed in the order they were injected.
 *
 * @example
 * const faults = createFaultBook();
 * faults.inject({ api: 'im.message.reply', status: 429, headers: { 'x-ogw-ratelimit-reset': '1' } });
 */
export function createFaultBook(): FaultBook {
  let faults: ActiveFault[] = [];
  return {
    inject(fault) {
      const active: ActiveFault = { fault, hits: 0, remaining: fault.times ?? 1 };
      faults.push(active);
      return {
        get hits() {
          return active.hits;
        },
        get remaining() {
          return active.remaining;
        },
      };
    },
    take(api, issuesTokens, call) {
      for (const active of faults) {
        if (active.remaining <= 0) continue;
        const { fault } = active;
        if (fault.api === '*' ? issuesTokens : fault.api !== api) continue;
        if (fault.match && !fault.match(call)) continue;
        active.remaining--;
        active.hits++;
        return fault;
      }
      return undefined;
    },
    clear() {
      faults = [];
    },
  };
}

/** The answer an injected fault gives instead of the real one; undefined for a latency-only fault. */
export function injectedReply(fault: FaultInjection): Reply | undefined {
  if (fault.status === undefined && fault.code === undefined) return undefined;
  const status = fault.status ?? 400;
  const code = fault.code ?? (status === 429 ? CORE_CODES.appRateLimited : undefined);
  if (code === undefined) {
    return { status, body: fault.msg ?? `fake-feishu injected HTTP ${status}`, headers: fault.headers };
  }
  const msg = fault.msg ?? (status === 429 ? 'request trigger frequency limit' : 'injected failure');
  return { ...fail(code, msg, status), headers: fault.headers };
}
