import type { EventBus } from '../observe/event-bus.js';
import type { ReplyProgress, ReplyStep } from './reply-sink.js';

interface TrackedStep {
  kind: ReplyStep['kind'];
  name: string;
  /** The tool call's id, matching its `tool.started` to its `tool.call`. */
  callId?: string | undefined;
  state: ReplyStep['state'];
  startedAt: number;
  elapsedMs: number | undefined;
}

export interface RunSteps {
  /** The answer's text moved: the run is not silent. */
  textArrived(): void;
  /** Stops listening; the final progress (`done`) when a panel was shown, else undefined. */
  finish(): ReplyProgress | undefined;
}

export interface RunStepsOptions {
  bus: EventBus;
  traceId: string;
  onProgress: (progress: ReplyProgress) => void;
  /** How often running steps and a silent phase refresh their elapsed time. */
  tickMs?: number;
  /** No text and no step for this long: the reply shows "Working…" even without steps. */
  silentMs?: number;
  /** Newest steps kept; older ones are counted as omitted. */
  maxSteps?: number;
  now?: () => number;
}

/**
 * The steps of one answer as the reply shows them, from the run's own events on the bus: a
 * delegation to a specialist (running until that specialist's `agent.call`), each tool call
 * (running from its `tool.started`, then done or failed with its latency at its `tool.call`). Progress is reported when a step starts or ends, and every
 * `tickMs` while a step runs or the run has been silent for `silentMs` (so a long silent phase
 * shows "Working…" with the time, never a stale card). A plain answer with no steps and no silence
 * reports nothing, and its card gets no panel.
 *
 * @example
 * const steps = trackRunSteps({ bus, traceId, onProgress: (progress) => sink.progress?.(progress) });
 * await managerAgent.answer({ ..., onText: (text) => { steps.textArrived(); sink.update(text); } });
 * const final = steps.finish();
 * if (final) sink.progress?.(final);
 */
export function trackRunSteps({
  bus,
  traceId,
  onProgress,
  tickMs = 1_000,
  silentMs = 2_000,
  maxSteps = 8,
  now = Date.now,
}: RunStepsOptions): RunSteps {
  const startedAt = now();
  let lastActivity = startedAt;
  let shown = false;
  let omitted = 0;
  const steps: TrackedStep[] = [];

  const progress = (done: boolean): ReplyProgress => {
    const at = now();
    return {
      steps: steps.map((step) => ({
        kind: step.kind,
        name: step.name,
        state: done && step.state === 'running' ? 'done' : step.state,
        elapsedMs: step.elapsedMs ?? at - step.startedAt,
      })),
      elapsedMs: at - startedAt,
      omitted,
      done,
    };
  };
  const report = () => {
    shown = true;
    onProgress(progress(false));
  };
  const add = (step: TrackedStep) => {
    steps.push(step);
    if (steps.length > maxSteps) {
      steps.shift();
      omitted += 1;
    }
    lastActivity = now();
    report();
  };

  const unsubscribe = bus.subscribe((event) => {
    if (!('traceId' in event) || event.traceId !== traceId) return;
    if (event.type === 'agent.delegation') {
      add({ kind: 'specialist', name: event.to, state: 'running', startedAt: now(), elapsedMs: undefined });
    } else if (event.type === 'tool.started') {
      add({
        kind: 'tool',
        name: event.tool,
        callId: event.toolCallId,
        state: 'running',
        startedAt: now(),
        elapsedMs: undefined,
      });
    } else if (event.type === 'tool.call') {
      const state = event.error === undefined ? 'done' : 'failed';
      const running = steps.find(
        (step) =>
          step.kind === 'tool' &&
          step.state === 'running' &&
          step.name === event.tool &&
          (event.toolCallId === undefined || step.callId === undefined || step.callId === event.toolCallId),
      );
      if (running === undefined) {
        // A call whose start was not seen (emitted before this tracker listened).
        add({ kind: 'tool', name: event.tool, state, startedAt: now() - event.latencyMs, elapsedMs: event.latencyMs });
        return;
      }
      running.state = state;
      running.elapsedMs = event.latencyMs;
      lastActivity = now();
      report();
    } else if (event.type === 'agent.call') {
      const running = steps.find(
        (step) => step.kind === 'specialist' && step.state === 'running' && step.name === event.agent,
      );
      if (running === undefined) return;
      running.state = event.outcome === 'success' ? 'done' : 'failed';
      running.elapsedMs = now() - running.startedAt;
      lastActivity = now();
      report();
    }
  });

  const ticker = setInterval(() => {
    const at = now();
    if (steps.some((step) => step.state === 'running') || at - lastActivity >= silentMs) report();
  }, tickMs);
  ticker.unref();

  return {
    textArrived() {
      lastActivity = now();
    },
    finish() {
      clearInterval(ticker);
      unsubscribe();
      return shown ? progress(true) : undefined;
    },
  };
}
