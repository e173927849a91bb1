import type { Config } from '../config.js';
import type { HealthStatus, HealthThresholds } from './health-rules.js';

export interface StatusChange {
  from: HealthStatus;
  to: HealthStatus;
  reasons: string[];
  at: number;
}

export interface HealthMonitorOptions {
  /** Length of the sliding window. Default 300 s. */
  windowSeconds?: number;
  /** Slots in the ring; the window slides one slot at a time. Default 60 (5 s slots for 300 s). */
  bucketCount?: number;
  /** Error rate (0…1) over the window at which the status is degraded. Default 0.2. */
  degradedErrorRate?: number;
  /** Error rate (0…1) over the window at which the status is unhealthy. Default 0.5. */
  unhealthyErrorRate?: number;
  /** Rate-limit answers in the window at which the status is degraded. Default 5. */
  degradedRateLimits?: number;
  /**
   * Calls the window must hold before its error rate or latency counts, and the length of an
   * unbroken run of failed calls that is unhealthy on its own. Default 5.
   */
  minCalls?: number;
  /** p95 latency (ms) over the window at which the status is degraded. Default 60 000. */
  degradedP95Ms?: number;
  /**
   * To improve, a condition must clear by a margin: thresholds are multiplied by this factor
   * (0 < factor ≤ 1) when deciding whether the status may get better. Default 0.75.
   */
  recoveryFactor?: number;
  /**
   * …and stay clear (by that margin) for this long (the recovery hold) before the status gets
   * better. Default: a quarter of the window, at most 30 s.
   */
  recoveryDwellMs?: number;
  /** Distinct agent names tracked; further names are counted under 'other'. Default 64. */
  maxAgents?: number;
  /** Distinct provider/model keys tracked for rate limits; further keys fold into 'other'. Default 32. */
  maxModels?: number;
  /** lastError.message is cut to this many characters. Default 300. */
  maxErrorMessageLength?: number;
  /** Values scrubbed from error messages (the config's secrets). */
  secrets?: readonly string[];
  /** Called once per status transition (the bot logs it). Must not throw. */
  onStatusChange?: (change: StatusChange) => void;
  now?: () => number;
}

export interface ResolvedHealthOptions extends HealthThresholds {
  bucketCount: number;
  maxAgents: number;
  maxModels: number;
  maxErrorMessageLength: number;
  secrets: readonly string[];
  onStatusChange: ((change: StatusChange) => void) | undefined;
  now: () => number;
}

const DEFAULTS: Omit<ResolvedHealthOptions, 'onStatusChange'> = {
  windowSeconds: 300,
  bucketCount: 60,
  degradedErrorRate: 0.2,
  unhealthyErrorRate: 0.5,
  degradedRateLimits: 5,
  minCalls: 5,
  degradedP95Ms: 60_000,
  recoveryFactor: 0.75,
  recoveryDwellMs: Number.NaN,
  maxAgents: 64,
  maxModels: 32,
  maxErrorMessageLength: 300,
  secrets: [],
  now: Date.now,
};

/**
 * The options with defaults filled in (an explicit `undefined` counts as absent), checked as a
 * whole: throws one RangeError naming every invalid option.
 */
export function resolveHealthOptions(options: HealthMonitorOptions): ResolvedHealthOptions {
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const resolved: ResolvedHealthOptions = { ...DEFAULTS, onStatusChange: undefined, ...given };
  if (given.recoveryDwellMs === undefined) resolved.recoveryDwellMs = defaultRecoveryHoldMs(resolved.windowSeconds);
  const problems: string[] = [];
  const positive = (name: keyof ResolvedHealthOptions) => {
    const value = resolved[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) problems.push(`${name} must be > 0`);
  };
  positive('windowSeconds');
  positive('degradedRateLimits');
  positive('minCalls');
  positive('degradedP95Ms');
  positive('maxErrorMessageLength');
  for (const name of ['bucketCount', 'maxAgents', 'maxModels'] as const) {
    if (!Number.isInteger(resolved[name]) || resolved[name] < 2) problems.push(`${name} must be an integer ≥ 2`);
  }
  for (const name of ['degradedErrorRate', 'unhealthyErrorRate'] as const) {
    if (!(resolved[name] > 0 && resolved[name] <= 1)) problems.push(`${name} must be in (0, 1]`);
  }
  if (resolved.unhealthyErrorRate < resolved.degradedErrorRate) {
    problems.push('unhealthyErrorRate must not be below degradedErrorRate');
  }
  if (!(resolved.recoveryFactor > 0 && resolved.recoveryFactor <= 1)) problems.push('recoveryFactor must be in (0, 1]');
  if (!(resolved.recoveryDwellMs >= 0)) problems.push('recoveryDwellMs must be ≥ 0');
  if (problems.length > 0) throw new RangeError(`Invalid health monitor options: ${problems.join('; ')}`);
  return resolved;
}

/** The recovery hold when none is configured: a quarter of the window, at most 30 s. */
export function defaultRecoveryHoldMs(windowSeconds: number): number {
  return Math.min(30_000, (windowSeconds * 1000) / 4);
}

/**
 * Health monitor options from the validated config's `health` section; the secrets to scrub
 * from error messages come separately (`config.secrets`).
 *
 * @example
 * new HealthMonitor({ ...healthOptionsFromConfig(config.health, config.secrets), onStatusChange });
 */
export function healthOptionsFromConfig(
  health: Config['health'],
  secrets: readonly string[] = [],
): HealthMonitorOptions {
  return {
    windowSeconds: health.windowSeconds,
    degradedErrorRate: health.degradedErrorRate,
    unhealthyErrorRate: health.unhealthyErrorRate,
    degradedRateLimits: health.degradedRateLimits,
    minCalls: health.minCalls,
    degradedP95Ms: health.degradedP95Ms,
    ...(health.recoveryHoldSeconds === undefined ? {} : { recoveryDwellMs: health.recoveryHoldSeconds * 1000 }),
    secrets,
  };
}
