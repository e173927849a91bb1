import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import { toText } from '../util/to-text.js';
import type { ProcessEvents } from './graceful-shutdown.js';

export interface ProcessHandlersOptions {
  log: Logger;
  /** Receives a 'process.error' event per incident (health monitor and metrics count it). */
  bus?: EventBus;
  /**
   * Called once, after the first uncaught exception or too many unhandled rejections, with which
   * of the two: drain and exit non-zero, e.g. `(reason) => lifecycle.shutdown(reason, 1)`.
   * Without it the process exits 1 at once.
   */
  onFatal?: (reason: string) => Promise<void> | void;
  /** Used when there is no onFatal or it throws. Default `process.exit`. */
  exit?: (code: number) => void;
  /**
   * Unhandled rejections within `unhandledRejectionWindowMs` that are treated like an uncaught
   * exception (FATAL_UNHANDLED_REJECTIONS): one forgotten `.catch` is logged and survived, a
   * stream of them means state is leaking and a clean process is safer.
   */
  maxUnhandledRejections?: number;
  unhandledRejectionWindowMs?: number;
  now?: () => number;
  /** Default `process`; tests pass an EventEmitter. */
  target?: ProcessEvents;
}

export interface ProcessHandlers {
  readonly counts: { uncaughtException: number; unhandledRejection: number };
  uninstall(): void;
}

const installed = new WeakMap<object, ProcessHandlers>();

/**
 * Global process handlers, installed once per process (a second call returns the first handle):
 *
 * - `uncaughtException`: log with stack, count, then drain and exit 1 so PM2 starts a clean
 *   process — after an exception nobody caught, the process's state cannot be trusted.
 * - `unhandledRejection`: log with stack and count (the `process.error` event feeds
 *   `bot_process_errors_total`), keep serving: a forgotten `.catch` should be visible in logs and
 *   metrics, not take every conversation down. The `maxUnhandledRejections`-th within
 *   `unhandledRejectionWindowMs` is treated like an uncaught exception.
 *
 * @example
 * installProcessHandlers({ log, bus, onFatal: (reason) => lifecycle.shutdown(reason, 1) });
 */
export function installProcessHandlers({
  log,
  bus,
  onFatal,
  exit = (code) => process.exit(code),
  target = process,
  maxUnhandledRejections = 10,
  unhandledRejectionWindowMs = 60_000,
  now = Date.now,
}: ProcessHandlersOptions): ProcessHandlers {
  const existing = installed.get(target);
  if (existing !== undefined) return existing;

  const counts = { uncaughtException: 0, unhandledRejection: 0 };
  let fatalStarted = false;
  /** When the recent unhandled rejections happened, oldest first; never more than the limit. */
  const recentRejections: number[] = [];

  /** Drains and exits 1, once, whatever asks first. */
  const fatal = (reason: string) => {
    if (fatalStarted) return;
    fatalStarted = true;
    if (onFatal === undefined) {
      exit(1);
      return;
    }
    try {
      Promise.resolve(onFatal(reason)).catch((fatalError: unknown) => {
        log.fatal({ err: asError(fatalError) }, `drain after ${reason} failed`);
        exit(1);
      });
    } catch (fatalError) {
      log.fatal({ err: asError(fatalError) }, `drain after ${reason} failed`);
      exit(1);
    }
  };

  const onUncaughtException = (error: unknown) => {
    counts.uncaughtException++;
    const err = asError(error);
    log.fatal({ err, count: counts.uncaughtException }, 'uncaught exception: draining, then exiting 1');
    bus?.emit({ type: 'process.error', kind: 'uncaughtException', message: err.message });
    fatal('uncaughtException');
  };

  const onUnhandledRejection = (reason: unknown) => {
    counts.unhandledRejection++;
    const err = asError(reason);
    bus?.emit({ type: 'process.error', kind: 'unhandledRejection', message: err.message });
    const at = now();
    while (recentRejections.length > 0 && at - (recentRejections[0] as number) >= unhandledRejectionWindowMs) {
      recentRejections.shift();
    }
    recentRejections.push(at);
    if (recentRejections.length > maxUnhandledRejections) recentRejections.shift();
    if (recentRejections.length < maxUnhandledRejections) {
      log.error({ err, count: counts.unhandledRejection }, 'unhandled promise rejection (still serving)');
      return;
    }
    log.fatal(
      { err, count: counts.unhandledRejection, windowMs: unhandledRejectionWindowMs },
      `${maxUnhandledRejections} unhandled promise rejections within the window: draining, then exiting 1`,
    );
    fatal('unhandledRejection');
  };

  target.on('uncaughtException', onUncaughtException);
  target.on('unhandledRejection', onUnhandledRejection);
  const handle: ProcessHandlers = {
    counts,
    uninstall() {
      target.removeListener('uncaughtException', onUncaughtException);
      target.removeListener('unhandledRejection', onUnhandledRejection);
      installed.delete(target);
    },
  };
  installed.set(target, handle);
  return handle;
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(`non-error thrown: ${toText(value)}`);
}
