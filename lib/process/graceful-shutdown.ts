import type { Logger } from '../log.js';
import { withTimeout } from '../util/with-timeout.js';
import type { Readiness } from './readiness.js';

/** One ordered step of the drain, e.g. stop accepting → hand back jobs → close server → close store. */
export interface ShutdownStep {
  name: string;
  run: () => Promise<void> | void;
}

/** The part of `process` the lifecycle code listens on; tests pass an EventEmitter. */
export interface ProcessEvents {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
}

export interface GracefulShutdownOptions {
  log: Logger;
  readiness: Readiness;
  /** Budget for all steps together; past it the process exits 1 anyway. SHUTDOWN_TIMEOUT_MS. */
  timeoutMs: number;
  /**
   * Run in order, each awaited. Read when the drain starts, so modules composed later may still
   * push theirs. A step that fails is logged and the drain goes on (the exit code becomes 1).
   */
  steps: readonly ShutdownStep[];
  /** How the process ends; tests inject a spy. Default `process.exit`. */
  exit?: (code: number) => void;
  /** Where signals and PM2's 'shutdown' message arrive. Default `process`. */
  target?: ProcessEvents;
  signals?: readonly NodeJS.Signals[];
}

export type ShutdownState = 'running' | 'draining' | 'exited';

export interface GracefulShutdown {
  readonly state: ShutdownState;
  /**
   * Marks the process draining, runs the steps once and resolves when they are done (or failed).
   * No exit: `RunningBot.stop()` is this. Later calls return the same promise.
   */
  drain(): Promise<void>;
  /** drain() within the budget, then exit: `exitCode` when clean, 1 when a step failed or the budget ran out. */
  shutdown(reason: string, exitCode?: number): Promise<void>;
  /** Listens for SIGINT, SIGTERM and PM2's 'shutdown' message. Idempotent; returns the uninstaller. */
  install(): () => void;
}

/**
 * Graceful shutdown for PM2 and terminals: the first SIGINT, SIGTERM or PM2 'shutdown' message
 * turns `/health/ready` to 503, runs the steps in order within `timeoutMs`, and exits 0. A step
 * still running at the deadline gets the process exited 1 (PM2's kill_timeout is longer, so PM2
 * never has to SIGKILL a healthy drain). A second signal while draining exits 1 at once: that is
 * a person pressing Ctrl-C again.
 *
 * @example
 * const lifecycle = createGracefulShutdown({ log, readiness, timeoutMs: 10_000, steps });
 * lifecycle.install();
 */
export function createGracefulShutdown({
  log,
  readiness,
  timeoutMs,
  steps,
  exit = (code) => process.exit(code),
  target = process,
  signals = ['SIGINT', 'SIGTERM'],
}: GracefulShutdownOptions): GracefulShutdown {
  let state: ShutdownState = 'running';
  let draining: Promise<boolean> | undefined;
  let shuttingDown: Promise<void> | undefined;
  let exitCode = 0;
  let currentStep: string | undefined;
  let uninstall: (() => void) | undefined;

  const drainOnce = (): Promise<boolean> => {
    draining ??= (async () => {
      state = 'draining';
      readiness.markDraining();
      let clean = true;
      for (const step of [...steps]) {
        currentStep = step.name;
        const started = Date.now();
        try {
          await step.run();
          log.info({ step: step.name, durationMs: Date.now() - started }, 'shutdown step done');
        } catch (error) {
          clean = false;
          log.error({ err: error, step: step.name, durationMs: Date.now() - started }, 'shutdown step failed');
        }
      }
      currentStep = undefined;
      return clean;
    })();
    return draining;
  };

  const finish = (code: number) => {
    if (state === 'exited') return;
    state = 'exited';
    uninstall?.();
    exit(code);
  };

  const shutdown = (reason: string, requestedCode = 0): Promise<void> => {
    exitCode = Math.max(exitCode, requestedCode);
    if (shuttingDown !== undefined) {
      log.info({ reason }, 'shutdown already in progress');
      return shuttingDown;
    }
    const started = Date.now();
    log.info({ reason, timeoutMs }, 'shutdown: draining');
    // The drain never rejects (a failed step only makes it unclean): a rejection is the budget.
    shuttingDown = withTimeout(drainOnce(), timeoutMs, () => new Error('shutdown budget exceeded')).then(
      (clean) => {
        if (state === 'exited') return;
        const code = clean ? exitCode : Math.max(exitCode, 1);
        log.info({ reason, exitCode: code, durationMs: Date.now() - started }, 'shutdown: drain completed');
        finish(code);
      },
      () => {
        log.error(
          { reason, timeoutMs, step: currentStep },
          'shutdown exceeded its budget: exiting without finishing the drain',
        );
        finish(1);
      },
    );
    return shuttingDown;
  };

  const install = () => {
    if (uninstall !== undefined) return uninstall;
    const onSignal = (received: unknown) => {
      const signal = String(received);
      if (shuttingDown !== undefined) {
        log.warn({ signal }, 'second signal while draining: exiting now');
        finish(1);
        return;
      }
      void shutdown(signal, 0);
    };
    const onMessage = (message: unknown) => {
      // PM2 sends the string 'shutdown' instead of a signal when shutdown_with_message is set.
      if (message === 'shutdown') void shutdown('pm2 shutdown message', 0);
    };
    for (const signal of signals) target.on(signal, onSignal);
    target.on('message', onMessage);
    uninstall = () => {
      for (const signal of signals) target.removeListener(signal, onSignal);
      target.removeListener('message', onMessage);
      uninstall = undefined;
    };
    return uninstall;
  };

  return {
    get state() {
      return state;
    },
    drain: async () => {
      await drainOnce();
    },
    shutdown,
    install,
  };
}

/** The part of an http(s) server `closeServer` needs. */
export interface ClosableServer {
  close(callback?: (error?: Error) => void): unknown;
  closeAllConnections?(): void;
}

/**
 * Stops accepting connections at once and resolves when the open ones have ended; connections
 * still open after `graceMs` (devtools SSE streams, a client that never finishes) are cut, so a
 * drain cannot hang on them.
 *
 * @example
 * { name: 'close server', run: () => closeServer(server, 2_000) }
 */
export function closeServer(server: ClosableServer, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const cut = setTimeout(() => server.closeAllConnections?.(), graceMs);
    // An error here only means "was not listening": closed is closed.
    server.close(() => {
      clearTimeout(cut);
      resolve();
    });
  });
}
