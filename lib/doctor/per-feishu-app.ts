import type { Config } from '../config.js';
import type { FeishuApp } from '../feishu/feishu-apps.js';
import type { DoctorCheck, DoctorContext } from './doctor-check.js';

/** The configuration as one app sees it: its credentials, keys and event mode in `config.feishu`. */
function configOfApp(config: Config, app: FeishuApp): Config {
  return {
    ...config,
    feishu: {
      ...config.feishu,
      enabled: true,
      appId: app.appId,
      appSecret: app.appSecret,
      encryptKey: app.encryptKey,
      verificationToken: app.verificationToken,
      allowUnsignedWebhook: app.allowUnsignedWebhook,
      eventMode: app.eventMode,
      apps: [app],
    },
  };
}

/**
 * Runs `appChecks` once per Feishu app the process serves, in place of the first of them in
 * `checks`: each app gets its own context (its credentials, its client, its webhook routes
 * `/webhook/<id>`), and with more than one app each line names the app. With no app or one app
 * the list is unchanged but for that app's configuration, so a single-app checklist reads as before.
 *
 * @example
 * runChecks(perFeishuApp(DOCTOR_CHECKS, { config, appChecks: [feishuCredentialsCheck, botIdentityCheck] }), context);
 */
export function perFeishuApp(
  checks: readonly DoctorCheck[],
  { config, appChecks }: { config: Config; appChecks: readonly DoctorCheck[] },
): DoctorCheck[] {
  const { apps } = config.feishu;
  const ofApps = new Set(appChecks);
  const group = checks.filter((check) => ofApps.has(check));
  if (apps.length === 0 || group.length === 0) return [...checks];
  const several = apps.length > 1;
  const expanded = apps.flatMap((app) => {
    // One context per app, shared by its checks so later ones read what its credentials check found.
    let contextOfApp: DoctorContext | undefined;
    const enter = (context: DoctorContext): DoctorContext => {
      contextOfApp ??= {
        ...context,
        config: configOfApp(context.config, app),
        feishuClient: undefined,
        feishuCredentialsFailed: undefined,
        webhookPath: several ? `/webhook/${app.id}` : '/webhook',
      };
      return contextOfApp;
    };
    return group.map(
      (check): DoctorCheck => ({
        id: check.id,
        title: several ? `${check.title} [${app.id}]` : check.title,
        ...(several ? { app: app.id } : {}),
        run: (context) => check.run(enter(context)),
      }),
    );
  });
  const first = checks.findIndex((check) => ofApps.has(check));
  return [...checks.slice(0, first), ...expanded, ...checks.slice(first).filter((check) => !ofApps.has(check))];
}
