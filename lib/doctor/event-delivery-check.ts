import { randomUUID } from 'node:crypto';
import { feishuOffReason, webhookSecurity } from '../feature-states.js';
import { startLongConnection } from '../feishu/long-connection.js';
import { encryptEvent } from '../feishu/webhook/decrypt-event.js';
import { errorMessage } from '../util/error-message.js';
import { withTimeout } from '../util/with-timeout.js';
import type { CheckOutcome, DoctorCheck, DoctorContext } from './doctor-check.js';

/**
 * Events can reach the bot: in webhook mode the running bot answers Feishu's URL verification
 * on both callback routes with this configuration's keys (what Feishu does when the Request URL
 * is saved); in long-connection mode the gateway accepts the app and the handshake completes.
 */
export const eventDeliveryCheck: DoctorCheck = {
  id: 'event-delivery',
  title: 'Event delivery',
  async run(context) {
    const { feishu } = context.config;
    const off = feishuOffReason(feishu);
    if (off !== undefined) return { status: 'skip', summary: `Feishu channel off (${off})` };
    return feishu.eventMode === 'webhook' ? probeWebhook(context) : probeLongConnection(context);
  },
};

async function probeWebhook(context: DoctorContext): Promise<CheckOutcome> {
  const { encryptKey, verificationToken } = context.config.feishu;
  const base = context.webhookBaseUrl.replace(/\/+$/, '');
  const routes = context.webhookPath ?? '/webhook';
  for (const path of [`${routes}/event`, `${routes}/card`]) {
    const url = `${base}${path}`;
    const challenge = randomUUID();
    const payload = {
      challenge,
      type: 'url_verification',
      ...(verificationToken === undefined ? {} : { token: verificationToken }),
    };
    const body = encryptKey === undefined ? payload : { encrypt: encryptEvent(payload, encryptKey) };
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(context.timeouts.feishuMs),
      });
    } catch (error) {
      return {
        status: 'fail',
        summary: `nothing answers at ${url}: ${errorMessage(error)}`,
        fix: 'Start the bot with this configuration (npm start, or npm run pm2:start) and run the doctor again; check PORT and HOST, or pass --url with the address the bot listens on',
      };
    }
    const text = await response.text();
    if (response.status === 404) {
      return {
        status: 'fail',
        summary: `${url} answers 404: no Feishu webhook is mounted there`,
        fix: 'The process on that port is not this bot in webhook mode: check FEISHU_EVENT_MODE=webhook and the app credentials of the running bot, and that nothing else uses PORT',
      };
    }
    let answered: unknown;
    try {
      answered = JSON.parse(text);
    } catch {
      answered = undefined;
    }
    if (response.status !== 200 || (answered as { challenge?: unknown } | undefined)?.challenge !== challenge) {
      return {
        status: 'fail',
        summary: `${url} refused Feishu's URL verification: HTTP ${response.status} ${text.slice(0, 120)}`,
        fix: 'The running bot has another FEISHU_ENCRYPT_KEY or FEISHU_VERIFICATION_TOKEN than this environment: both must equal Events & Callbacks → Encryption Strategy in the developer console',
      };
    }
  }
  const details = [
    `Request URL (Events & Callbacks → Event configuration): https://<public host>${routes}/event`,
    `Card callback URL (Events & Callbacks → Callback configuration): https://<public host>${routes}/card`,
  ];
  const security = webhookSecurity(context.config.feishu);
  if (security === 'refused') {
    return {
      status: 'fail',
      summary: `${base}${routes}/event answers Feishu's URL verification but refuses every event: FEISHU_ENCRYPT_KEY is not set`,
      details,
      fix: 'Set an Encrypt Key in Events & Callbacks → Encryption Strategy and the same value in FEISHU_ENCRYPT_KEY',
    };
  }
  if (security === 'unsigned') {
    return {
      status: 'warn',
      summary: `${base}${routes}/event and ${routes}/card answer Feishu's URL verification, but unsigned (FEISHU_ALLOW_UNSIGNED_WEBHOOK=true): FEISHU_ENCRYPT_KEY is not set, so anyone who saw one event can forge others`,
      details,
      fix: 'Set an Encrypt Key in Events & Callbacks → Encryption Strategy and the same value in FEISHU_ENCRYPT_KEY, so only signed events are accepted',
    };
  }
  return {
    status: 'pass',
    summary: `${base}${routes}/event and ${routes}/card answer Feishu's URL verification (signed events)`,
    details,
  };
}

async function probeLongConnection(context: DoctorContext): Promise<CheckOutcome> {
  const { appId, appSecret, domain } = context.config.feishu;
  if (context.feishuCredentialsFailed === true || appId === undefined || appSecret === undefined) {
    return { status: 'skip', summary: 'needs working app credentials (see above)' };
  }
  const connection = startLongConnection({
    appId,
    appSecret,
    domain,
    // The doctor takes no events: refusing makes the SDK answer 500, so Feishu delivers the event
    // again (to the running bot) instead of it being lost here.
    inbox: { accept: async () => ({ status: 'unavailable', reason: 'the doctor does not take events' }) },
    log: context.log,
    bus: context.bus,
    statusPollMs: 200,
  });
  try {
    await withTimeout(
      connection.ready,
      context.timeouts.connectMs,
      () => new Error(`no handshake within ${context.timeouts.connectMs} ms`),
    );
    return { status: 'pass', summary: 'the long-connection gateway accepted the app and the handshake completed' };
  } catch (error) {
    const status = connection.status();
    return {
      status: 'fail',
      summary: `the long connection did not connect (${status.state}): ${status.lastError ?? errorMessage(error)}`,
      fix: 'Check the app credentials (self-built apps only) and that this host can open a wss:// connection to FEISHU_DOMAIN; in Events & Callbacks choose "Receive events through persistent connection" while the bot runs',
    };
  } finally {
    connection.close();
  }
}
