/**
 * The process's own lifecycle phase, which `/health/ready` reports and PM2's `wait_ready`
 * waits on: 'starting' until the server listens and the store is open, 'ready' while serving,
 * 'draining' from the first shutdown signal on.
 */
export type LifecyclePhase = 'starting' | 'ready' | 'draining';

export interface Readiness {
  readonly phase: LifecyclePhase;
  markReady(): void;
  markDraining(): void;
}

export function createReadiness(): Readiness {
  let phase: LifecyclePhase = 'starting';
  return {
    get phase() {
      return phase;
    },
    markReady() {
      if (phase === 'starting') phase = 'ready';
    },
    markDraining() {
      phase = 'draining';
    },
  };
}
