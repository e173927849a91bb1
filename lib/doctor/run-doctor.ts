import type { Config } from '../config.js';
import { featureStates } from '../feature-states.js';
import { type Logger, silentLogger } from '../log.js';
import { createEventBus } from '../observe/event-bus.js';
import {
  type CheckResult,
  type DoctorCheck,
  type DoctorContext,
  type DoctorTimeouts,
  exitCodeFor,
  runChecks,
} from './doctor-check.js';
import { eventDeliveryCheck } from './event-delivery-check.js';
import { botIdentityCheck, feishuCredentialsCheck, scopesCheck } from './feishu-checks.js';
import { modelAnswersCheck, modelImagesCheck } from './model-checks.js';
import { perFeishuApp } from './per-feishu-app.js';
import { redisCheck, storeCheck } from './storage-checks.js';
import { mcpServersCheck, webSearchCheck } from './tool-checks.js';
import { userAuthorizationCheck } from './user-auth-check.js';

/** What is checked once per Feishu app the process serves (FEISHU_APP_ID's and FEISHU_APPS_FILE's). */
export const FEISHU_APP_CHECKS: readonly DoctorCheck[] = [
  feishuCredentialsCheck,
  botIdentityCheck,
  scopesCheck,
  eventDeliveryCheck,
  userAuthorizationCheck,
];

/** The checklist, in the order a newcomer fixes things: Feishu app, events, model, storage, optional tools. */
export const DOCTOR_CHECKS: readonly DoctorCheck[] = [
  {
    id: 'configuration',
    title: 'Configuration',
    async run({ config }) {
      const off = featureStates(config).filter((feature) => !feature.on);
      return {
        status: 'pass',
        summary: `loaded (NODE_ENV=${config.nodeEnv})`,
        details: off.map((feature) => `– ${feature.name}: ${feature.detail}`),
      };
    },
  },
  feishuCredentialsCheck,
  botIdentityCheck,
  scopesCheck,
  eventDeliveryCheck,
  userAuthorizationCheck,
  modelAnswersCheck,
  modelImagesCheck,
  storeCheck,
  redisCheck,
  webSearchCheck,
  mcpServersCheck,
];

export interface RunDoctorOptions {
  /** Where the running bot answers (the webhook probe); default `http://127.0.0.1:PORT`. */
  webhookBaseUrl?: string;
  timeouts?: Partial<DoctorTimeouts>;
  /** The SDKs' own log lines; silent by default, the checklist says what matters. */
  log?: Logger;
  /** Called as each check finishes, so a terminal shows progress. */
  onResult?: (result: CheckResult) => void;
  checks?: readonly DoctorCheck[];
}

/**
 * Checks the configuration against reality and says what to fix. Exit code 0 only when nothing
 * the bot needs failed.
 *
 * @example
 * const { results, exitCode } = await runDoctor(loadConfig(process.env));
 * process.stdout.write(formatChecklist(results));
 */
export async function runDoctor(
  config: Config,
  { webhookBaseUrl, timeouts = {}, log = silentLogger(), onResult, checks = DOCTOR_CHECKS }: RunDoctorOptions = {},
): Promise<{ results: CheckResult[]; exitCode: 0 | 1 }> {
  const host = ['0.0.0.0', '::', '[::]'].includes(config.host) ? '127.0.0.1' : config.host;
  const context: DoctorContext = {
    config,
    log,
    bus: createEventBus(),
    webhookBaseUrl: webhookBaseUrl ?? `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`,
    timeouts: { feishuMs: 10_000, connectMs: 15_000, modelMs: 30_000, storeMs: 5_000, ...timeouts },
  };
  const results = await runChecks(perFeishuApp(checks, { config, appChecks: FEISHU_APP_CHECKS }), context, onResult);
  return { results, exitCode: exitCodeFor(results) };
}
