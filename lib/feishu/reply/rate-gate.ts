import { sleep as realSleep, type Sleep } from '../../util/sleep.js';

/**
 * Runs calls to one resource (one card) one at a time and at most `perSecond` of them in any
 * one-second window.
 *
 * The window is counted from when each earlier call *finished*, not when it started: the
 * server sees a request somewhere between the two, so counting from the finish is the only way
 * to be sure it never sees more than `perSecond` in a second, whatever the network latency.
 * Calls are also spread at least `1000 / perSecond` ms apart (start to start) so a burst does
 * not use the whole budget at once.
 *
 * @example
 * const gate = createRateGate({ perSecond: 4 });
 * await gate.run(() => client.cardkit.v1.cardElement.content(...));
 */
export interface RateGate {
  /**
   * Waits for its turn, then runs `fn`; calls never overlap. `urgent` skips the spacing (a
   * smoothing rule of ours, not the server's) but never the per-second window: the close of a
   * finished answer goes out at once instead of a spacing interval after the last write.
   */
  run<T>(fn: () => Promise<T>, options?: { urgent?: boolean }): Promise<T>;
  /** Resolves when a call started now would be allowed (without reserving the turn). */
  ready(): Promise<void>;
  /** No call starts before `until` (epoch ms): the server asked us to back off. */
  pauseUntil(until: number): void;
}

export function createRateGate({
  perSecond,
  windowMs = 1000,
  now = Date.now,
  sleep = realSleep,
}: {
  perSecond: number;
  windowMs?: number;
  now?: () => number;
  sleep?: Sleep;
}): RateGate {
  if (!(perSecond > 0)) throw new RangeError(`perSecond must be positive, got ${perSecond}`);
  const slots = Math.max(1, Math.floor(perSecond));
  const spacingMs = windowMs / perSecond;
  /** Finish times of the last `slots` calls, oldest first (bounded ring). */
  const finishedAt: number[] = [];
  let lastStartedAt = Number.NEGATIVE_INFINITY;
  let pausedUntil = 0;
  let tail: Promise<unknown> = Promise.resolve();

  const earliestStart = (urgent = false): number => {
    let at = Math.max(urgent ? Number.NEGATIVE_INFINITY : lastStartedAt + spacingMs, pausedUntil);
    if (finishedAt.length >= slots) at = Math.max(at, finishedAt[finishedAt.length - slots]! + windowMs);
    return at;
  };

  const waitForTurn = async (urgent = false): Promise<void> => {
    // Re-check after each sleep: a pause may have been added meanwhile.
    for (let wait = earliestStart(urgent) - now(); wait > 0; wait = earliestStart(urgent) - now()) await sleep(wait);
  };

  return {
    run<T>(fn: () => Promise<T>, { urgent = false }: { urgent?: boolean } = {}): Promise<T> {
      const result = tail.then(async () => {
        await waitForTurn(urgent);
        lastStartedAt = now();
        try {
          return await fn();
        } finally {
          finishedAt.push(now());
          if (finishedAt.length > slots) finishedAt.shift();
        }
      });
      tail = result.catch(() => undefined);
      return result;
    },
    async ready() {
      await tail;
      await waitForTurn();
    },
    pauseUntil(until) {
      pausedUntil = Math.max(pausedUntil, until);
    },
  };
}
