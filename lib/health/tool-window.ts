import { type CallSummary, CallWindow } from './call-window.js';
import { SlidingWindow } from './sliding-window.js';

/** What the status rules need to know about one tool over the window. */
export interface ToolFigures {
  name: string;
  calls: number;
  /** Calls that failed through the tool's fault (outage, timeout, missing scope), not the user's request. */
  faults: number;
  /** Calls refused because the app lacks a Feishu scope: a configuration problem, degraded at once. */
  missingScope: number;
  /** The last fault's message (names the missing scope), for the reasons. */
  lastProblem: string | undefined;
}

/**
 * One tool's calls over the sliding window: a CallWindow (calls, faults as errors, latency) and
 * a count of missing-scope refusals, which mean the tool is broken for everyone until an admin
 * grants the scope.
 *
 * @example
 * const window = new ToolWindow({ slotCount: 60, slotMs: 5_000 });
 * window.record(Date.now(), 120, { fault: true, missingScope: true, problem: 'missing docx:document:readonly' });
 */
export class ToolWindow {
  private readonly calls: CallWindow;
  private readonly refusals: SlidingWindow;
  private lastProblem: string | undefined;

  constructor(slots: { slotCount: number; slotMs: number }) {
    this.calls = new CallWindow(slots);
    this.refusals = new SlidingWindow({ ...slots, width: 1 });
  }

  record(now: number, latencyMs: number, { fault, missingScope, problem }: ToolCallOutcome): void {
    this.calls.record(now, latencyMs, fault || missingScope);
    if (missingScope) this.refusals.add(now);
    if ((fault || missingScope) && problem !== undefined) this.lastProblem = problem;
  }

  summary(now: number, scratch: Float64Array): CallSummary {
    return this.calls.summary(now, scratch);
  }

  figures(name: string, now: number, scratch: Float64Array): ToolFigures {
    const summary = this.calls.summary(now, scratch);
    return {
      name,
      calls: summary.calls,
      faults: summary.errors,
      missingScope: this.refusals.sum(now),
      lastProblem: this.lastProblem,
    };
  }
}

export interface ToolCallOutcome {
  fault: boolean;
  missingScope: boolean;
  problem?: string | undefined;
}
