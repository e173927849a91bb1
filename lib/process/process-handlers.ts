import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import { toText } from '../util/to-text.js';
import type { ProcessEvents } from './graceful-shutdown.js';

export interface ProcessHandlersOptions {
  log: Logger;
  /** Receives a 'process.error' event per incident (health monitor and metrics count it). */
  bus?: EventBus;
  /**
   * Called once after the first uncaught exception: drain and exit non-zero, e.g.
   * `() => lifecycle.shutdown('uncaughtException', 1)`. Without it the process exits 1 at once.
   */
  onFatal?: (reason: string) => Promise<void> | void;
  /** Used when there is no onFatal or it throws. Default `process.exit`. */
  exit?: (code: number) => void;
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
 * - `unhandledRejection`: log and count, keep serving. A forgotten `.catch` should be visible
 *   in logs and metrics, not take every conversation down.
 *
 * @example
 * installProcessHandlers({ log, bus, onFatal: () => lifecycle.shutdown('uncaughtException', 1) });
 */
export function installProcessHandlers({
  log,
  bus,
  onFatal,
  exit = (code) => process.exit(code),
  target = process,
}: ProcessHandlersOptions): ProcessHandlers {
  const existing = installed.get(target);
  if (existing !== undefined) return existing;

  const counts = { uncaughtException: 0, unhandledRejection: 0 };
  let fatalStarted = false;

  const onUncaughtException = (error: unknown) => {
    counts.uncaughtException++;
    const err = asError(error);
    log.fatal({ err, count: counts.uncaughtException }, 'uncaught exception: draining, then exiting 1');
    bus?.emit({ type: 'process.error', kind: 'uncaughtException', message: err.message });
    if (fatalStarted) return;
    fatalStarted = true;
    if (onFatal === undefined) {
      exit(1);
      return;
    }
    try {
      Promise.resolve(onFatal('uncaughtException')).catch((fatalError: unknown) => {
        log.fatal({ err: asError(fatalError) }, 'drain after uncaught exception failed');
        exit(1);
      });
    } catch (fatalError) {
      log.fatal({ err: asError(fatalError) }, 'drain after uncaught exception failed');
      exit(1);
    }
  };

  const onUnhandledRejection = (reason: unknown) => {
    counts.unhandledRejection++;
    const err = asError(reason);
    log.error({ err, count: counts.unhandledRejection }, 'unhandled promise rejection (still serving)');
    bus?.emit({ type: 'process.error', kind: 'unhandledRejection', message: err.message });
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
