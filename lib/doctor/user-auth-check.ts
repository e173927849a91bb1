import { oauthRedirectUri } from '../user-auth/user-auth-from-config.js';
import type { DoctorCheck } from './doctor-check.js';

/**
 * Per-person authorization of one app: where Feishu's consent page returns its people, which the
 * operator must add to that app's redirect URLs. Feishu offers no API to read them, so this says
 * the URL rather than checking it: a missing one only shows when a person opens the consent page.
 */
export const userAuthorizationCheck: DoctorCheck = {
  id: 'user-authorization',
  title: 'Per-person authorization',
  async run({ config }) {
    const { publicBaseUrl } = config.userAuth;
    const app = config.feishu.apps[0];
    if (app === undefined) return { status: 'skip', summary: 'no Feishu app' };
    if (!config.userAuth.enabled || publicBaseUrl === undefined) {
      return { status: 'skip', summary: 'off (TOKEN_ENCRYPTION_KEY and PUBLIC_BASE_URL unset)' };
    }
    return {
      status: 'pass',
      summary: `people return to ${oauthRedirectUri(publicBaseUrl, app.id)}`,
      details: [
        `– add that URL to this app's redirect URLs (${app.appId}: Security settings → Redirect URLs)`,
        '– and grant it offline_access plus the user token scopes of the tools acting as the asker',
      ],
    };
  },
};
