import { Hono } from 'hono';
import type { Readiness } from '../process/readiness.js';
import type { Store } from '../store/store.js';
import { errorMessage } from '../util/error-message.js';
import { withTimeout } from '../util/with-timeout.js';
import type { ComponentContext, ComponentReport, ComponentStates } from './component-states.js';
import type { ConcurrencyReport } from './concurrency-report.js';
import type { HealthMonitor } from './health-monitor.js';
import { type HealthStatus, STATUS_RANK } from './health-rules.js';
import type { HealthSnapshot } from './health-snapshot.js';
import { sanitiseErrorMessage } from './sanitise-error-message.js';

/**
 * A dependency that must answer before the process takes traffic (store ping, long connection
 * up). Throw (or reject) to fail. Other modules register theirs when the bot is composed.
 */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<void> | void;
  /**
   * How a failure counts in `/health`: critical (default) makes it unhealthy — nothing works
   * without it, like the store; non-critical makes it degraded. `/health/ready` needs all to pass.
   */
  critical?: boolean;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  critical: boolean;
  durationMs: number;
  error?: string;
}

export interface HealthRoutesOptions {
  monitor: HealthMonitor;
  readiness: Readiness;
  /** When given, its `ping()` becomes the critical readiness check "store". */
  store?: Pick<Store, 'ping'>;
  /** Epoch ms the process started, for `uptime`. */
  startedAt: number;
  /** Read on every request: pushing to the array later registers a check. */
  checks?: readonly ReadinessCheck[];
  /** Shown as `instance`, so an operator behind a load balancer knows who answered. */
  instanceId?: string;
  /** The component states (agent, feishu, store, redis) added to the body, each able to lower the status. */
  components?: (context: ComponentContext) => ComponentReport;
  /** A check that has not answered by then has failed. Default 2 000 ms. */
  checkTimeoutMs?: number;
  /** The adaptive concurrency of agent runs, read per request (absent without a model). */
  concurrency?: () => ConcurrencyReport | undefined;
  now?: () => number;
}

/** The `/health` body: the contract of ARCHITECTURE.md plus additive fields. */
export interface HealthBody extends HealthSnapshot, Partial<Omit<ComponentStates, 'feishu'>> {
  feishu: HealthSnapshot['feishu'] & Partial<ComponentStates['feishu']>;
  uptime: number;
  instance: string | undefined;
  phase: Readiness['phase'];
  checks: CheckResult[];
  concurrency?: ConcurrencyReport;
}

const NO_STORE = { 'Cache-Control': 'no-store' };

/**
 * The body GET /health answers, as a function: the route serves it, and devtools shows the same
 * snapshot without a request to the service's own HTTP app.
 *
 * @example
 * const healthSnapshot = healthReport({ monitor, readiness, store, startedAt, checks, instanceId });
 * (await healthSnapshot()).status; // 'healthy'
 */
export function healthReport(options: HealthRoutesOptions): () => Promise<HealthBody> {
  const { monitor, readiness, startedAt, instanceId, components, concurrency, now = Date.now } = options;
  const runChecks = checkRunner(options);
  return async () => {
    const snapshot = monitor.snapshot();
    const results = await runChecks();
    let status = snapshot.status;
    const reasons = [...snapshot.reasons];
    for (const result of results) {
      if (result.ok) continue;
      const floor: HealthStatus = result.critical ? 'unhealthy' : 'degraded';
      if (STATUS_RANK[floor] > STATUS_RANK[status]) status = floor;
      reasons.push(`check ${result.name} failed: ${result.error}`);
    }
    const report = components?.({ snapshot, checks: results });
    const admitted = concurrency?.();
    for (const floor of report?.floors ?? []) {
      if (STATUS_RANK[floor.status] > STATUS_RANK[status]) status = floor.status;
      reasons.push(floor.reason);
    }
    return {
      ...snapshot,
      ...report?.states,
      status,
      reasons,
      uptime: seconds(now() - startedAt),
      instance: instanceId,
      phase: readiness.phase,
      checks: results,
      ...(admitted === undefined ? {} : { concurrency: admitted }),
    };
  };
}

/**
 * `/health` (monitor status: 200 healthy or degraded, 503 unhealthy), `/health/live` (the event
 * loop answers: never any dependency check, so a provider outage does not restart the process)
 * and `/health/ready` (200 only while ready and every check passes; 503 while starting, draining
 * or when a check fails).
 *
 * @example
 * const app = healthRoutes({ monitor, readiness, store, startedAt: Date.now(), instanceId });
 * const response = await app.request('/health/ready');
 */
export function healthRoutes(options: HealthRoutesOptions): Hono {
  const { readiness, startedAt, now = Date.now } = options;
  const runChecks = checkRunner(options);
  const report = healthReport(options);
  const app = new Hono();

  app.get('/health/live', (c) => c.json({ status: 'alive', uptime: seconds(now() - startedAt) }, 200, NO_STORE));

  app.get('/health/ready', async (c) => {
    const phase = readiness.phase;
    if (phase !== 'ready') {
      return c.json({ status: 'not_ready', phase, reason: `process is ${phase}`, checks: [] }, 503, NO_STORE);
    }
    const results = await runChecks();
    const failed = results.filter((result) => !result.ok);
    if (failed.length > 0) {
      const reason = failed.map((result) => `${result.name}: ${result.error}`).join('; ');
      return c.json({ status: 'not_ready', phase, reason, checks: results }, 503, NO_STORE);
    }
    return c.json({ status: 'ready', phase, checks: results }, 200, NO_STORE);
  });

  app.get('/health', async (c) => {
    const body = await report();
    return c.json(body, body.status === 'unhealthy' ? 503 : 200, NO_STORE);
  });

  return app;
}

/**
 * Runs the store check and every registered check. `checks` is read per call, so a module started
 * after the routes (the long connection) can add its own.
 */
function checkRunner({
  store,
  checks = [],
  checkTimeoutMs = 2_000,
  now = Date.now,
}: HealthRoutesOptions): () => Promise<CheckResult[]> {
  const storeChecks: ReadinessCheck[] = store === undefined ? [] : [{ name: 'store', check: () => store.ping() }];
  return () => Promise.all([...storeChecks, ...checks].map((check) => runCheck(check, checkTimeoutMs, now)));
}

async function runCheck(check: ReadinessCheck, timeoutMs: number, now: () => number): Promise<CheckResult> {
  const started = now();
  const critical = check.critical ?? true;
  try {
    await withTimeout(
      Promise.resolve().then(() => check.check()),
      timeoutMs,
      () => new Error(`no answer within ${timeoutMs} ms`),
    );
    return { name: check.name, ok: true, critical, durationMs: now() - started };
  } catch (error) {
    return {
      name: check.name,
      ok: false,
      critical,
      durationMs: now() - started,
      error: sanitiseErrorMessage(errorMessage(error), { maxLength: 200 }),
    };
  }
}

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}
