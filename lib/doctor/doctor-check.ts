import type { Config } from '../config.js';
import type { FeishuClient } from '../feishu/feishu-client.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import { errorMessage } from '../util/error-message.js';

/**
 * One line of `npm run doctor`: a question about the configuration, answered against reality
 * (Feishu, the model provider, the store), with the fix when the answer is no.
 */

/** `fail`: the bot cannot serve until it is fixed; `warn`: something degrades; `skip`: not applicable or blocked by a failure before it. */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckOutcome {
  status: CheckStatus;
  /** One line: what was found. */
  summary: string;
  /** Further lines (per scope, per model…). */
  details?: string[];
  /** What to do about a fail or warn, naming the setting or console page. */
  fix?: string;
}

export interface CheckResult extends CheckOutcome {
  id: string;
  title: string;
  /** The Feishu app the check was about, when the process serves more than one. */
  app?: string;
  durationMs: number;
}

/** What the checks share: the configuration, and what earlier checks found out. */
export interface DoctorContext {
  config: Config;
  /** Silent by default: the checklist is the output. The SDKs' own lines go here. */
  log: Logger;
  bus: EventBus;
  /** Base URL the webhook probe posts to: the running bot, `http://127.0.0.1:PORT` unless given. */
  webhookBaseUrl: string;
  /** Path of the app's callback routes under that URL: `/webhook`, or `/webhook/<id>` with several apps. */
  webhookPath?: string;
  timeouts: DoctorTimeouts;
  /** Set by the credentials check once a tenant token was issued. */
  feishuClient?: FeishuClient;
  /** Set by the credentials check when Feishu refused them: checks that need them skip. */
  feishuCredentialsFailed?: boolean;
  /** Set by the model check once the primary model answered. */
  modelAnswered?: boolean;
}

export interface DoctorTimeouts {
  /** Per Feishu API call. */
  feishuMs: number;
  /** The long connection's handshake. */
  connectMs: number;
  /** Per model request. */
  modelMs: number;
  /** Store and Redis. */
  storeMs: number;
}

export interface DoctorCheck {
  id: string;
  title: string;
  /** The Feishu app it checks, when the process serves more than one. */
  app?: string;
  run(context: DoctorContext): Promise<CheckOutcome>;
}

/**
 * Runs the checks in order (later ones read what earlier ones found), each on its own: a check
 * that throws is a failure of that check, not of the doctor.
 *
 * @example
 * const results = await runChecks(checks, context);
 * process.exitCode = exitCodeFor(results);
 */
export async function runChecks(
  checks: readonly DoctorCheck[],
  context: DoctorContext,
  onResult: (result: CheckResult) => void = () => {},
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    const started = performance.now();
    let outcome: CheckOutcome;
    try {
      outcome = await check.run(context);
    } catch (error) {
      outcome = { status: 'fail', summary: `the check itself failed: ${errorMessage(error)}` };
    }
    const result = {
      id: check.id,
      title: check.title,
      ...(check.app === undefined ? {} : { app: check.app }),
      ...outcome,
      durationMs: Math.round(performance.now() - started),
    };
    results.push(result);
    onResult(result);
  }
  return results;
}

/** 0 only when nothing the bot needs failed; warnings do not fail the run. */
export function exitCodeFor(results: readonly CheckResult[]): 0 | 1 {
  return results.some((result) => result.status === 'fail') ? 1 : 0;
}
