import { textsFor } from '../i18n/bot-texts.js';
import type { Language } from '../i18n/language.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { errorMessage } from '../util/error-message.js';
import type { CardActionHandler } from './card-actions.js';

/** Store collections: stop requests by run, and the run each lane is answering now. */
const STOPS = 'run-stops';
const LANE_RUNS = 'lane-runs';
const MAX_RECORDS = 10_000;

/** How a stop was asked for. */
export type StopVia = 'button' | 'message';

interface StopRecord {
  by: string;
  via: StopVia;
  at: number;
}

interface LaneRunRecord {
  run: string;
  asker: string;
  /** The run is over: a stop typed now has nothing to stop. */
  done: boolean;
}

/** What `request` found: the run was told to stop, or it had already ended. */
export type StopOutcome = 'stopping' | 'finished';

/** One running answer's view of stop requests. */
export interface RunWatch {
  /** Aborts when a stop for this run is requested (here, on another instance, or before a restart). */
  readonly signal: AbortSignal;
  /** How the stop was asked for, once it was. */
  stoppedVia(): StopVia | undefined;
  /** Stops watching; marks the lane free for typed stops. */
  close(): Promise<void>;
}

export interface RunStops {
  /** Asks run `run` to stop, wherever it runs. */
  request(run: string, by: string, via: StopVia): Promise<StopOutcome>;
  /**
   * The run answering in `lane`, if any, with who asked it: a typed "stop" looks it up (it
   * arrives as a new message, which waits behind the run in the same lane).
   */
  activeRun(lane: string): Promise<{ run: string; asker: string } | undefined>;
  /** Starts watching `run`; call `close` when it ends. */
  watch(run: string, { lane, asker }: { lane: string; asker: string }): Promise<RunWatch>;
}

export interface RunStopsOptions {
  store: Store;
  log: Logger;
  /**
   * How often a running answer reads the store for a stop asked on another instance. A stop
   * asked on this instance aborts at once; this bounds the cross-instance delay.
   */
  pollMs?: number;
  now?: () => number;
}

function isStopRecord(value: unknown): value is StopRecord {
  return typeof value === 'object' && value !== null && typeof (value as StopRecord).by === 'string';
}

function isLaneRun(value: unknown): value is LaneRunRecord {
  return typeof value === 'object' && value !== null && typeof (value as LaneRunRecord).run === 'string';
}

/**
 * Stop requests for running answers, kept in the store so a press reaching any instance (or one
 * that arrives while the run waits to resume after a restart) stops it: the request is a record
 * under the run's id; the instance running it aborts at once when the request is local, and
 * otherwise sees the record on its next poll.
 *
 * @example
 * const stops = createRunStops({ store, log });
 * const watch = await stops.watch(job.id, { lane: job.lane, asker: openId });
 * await managerAgent.answer({ ..., signal: AbortSignal.any([context.signal, watch.signal]) });
 * if (watch.stoppedVia()) { ... close the card as "Stopped" ... }
 * await watch.close();
 */
export function createRunStops({ store, log, pollMs = 250, now = Date.now }: RunStopsOptions): RunStops {
  /** Runs watched in this process, so a local request aborts without waiting for a poll. */
  const local = new Map<string, (via: StopVia) => void>();

  return {
    async request(run, by, via) {
      const job = await store.getJob(run);
      if (job === null || job.status === 'done' || job.status === 'dead') return 'finished';
      const record: StopRecord = { by, via, at: now() };
      await store.putRecord(STOPS, run, record, MAX_RECORDS);
      local.get(run)?.(via);
      return 'stopping';
    },

    async activeRun(lane) {
      const record = await store.getRecord(LANE_RUNS, lane);
      if (!isLaneRun(record) || record.done) return undefined;
      return { run: record.run, asker: record.asker };
    },

    async watch(run, { lane, asker }) {
      const controller = new AbortController();
      let via: StopVia | undefined;
      const stop = (how: StopVia) => {
        if (controller.signal.aborted) return;
        via = how;
        controller.abort('stopped');
      };
      local.set(run, stop);
      const laneRun: LaneRunRecord = { run, asker, done: false };
      await store.putRecord(LANE_RUNS, lane, laneRun, MAX_RECORDS);
      const check = async () => {
        try {
          const record = await store.getRecord(STOPS, run);
          if (isStopRecord(record)) stop(record.via);
        } catch (error) {
          log.debug({ err: errorMessage(error), run }, 'could not read stop requests');
        }
      };
      // A stop asked before this attempt started (pressed during a restart) counts at once.
      await check();
      let polling = false;
      const timer = setInterval(() => {
        if (polling || controller.signal.aborted) return;
        polling = true;
        void check().finally(() => {
          polling = false;
        });
      }, pollMs);
      timer.unref();
      return {
        signal: controller.signal,
        stoppedVia: () => via,
        async close() {
          clearInterval(timer);
          if (local.get(run) === stop) local.delete(run);
          try {
            await store.putRecord(LANE_RUNS, lane, { ...laneRun, done: true }, MAX_RECORDS);
          } catch (error) {
            log.debug({ err: errorMessage(error), run }, 'could not mark the lane free');
          }
        },
      };
    },
  };
}

/** The Stop button's toasts in `language` (English: `STOP_TEXT`). */
export function stopTexts(language: Language) {
  const { toasts } = textsFor(language);
  return { stopping: toasts.stopping, finished: toasts.alreadyFinished };
}

export const STOP_TEXT = stopTexts('en');

/**
 * The Stop button's handler for the card action router: asks the run to stop and tells the
 * presser at once; the run itself closes its card as "Stopped".
 *
 * @example
 * createCardActionRouter({ handlers: { stop: stopButtonHandler(stops) }, store, bus, log });
 */
export function stopButtonHandler(stops: RunStops): CardActionHandler {
  return async (control, press) => {
    const outcome = await stops.request(control.run, press.operatorId, 'button');
    const say = stopTexts(control.language ?? 'en');
    return { toast: { kind: 'info', text: outcome === 'stopping' ? say.stopping : say.finished } };
  };
}
