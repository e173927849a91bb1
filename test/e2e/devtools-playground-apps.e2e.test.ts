import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { InboundEvent } from '../../lib/inbox/inbound-event.js';
import { writeAppsFile } from '../support/apps-file.js';
import { launchChromium, openPage } from '../support/chromium.js';
import { useE2eService } from '../support/e2e-service.js';
import { requireChromium } from '../support/requirements.js';

const STEP_TIMEOUT_MS = 20_000;
const DEVTOOLS_TOKEN = 'playground-apps-devtools-token-0123456789';
const ALPHA_PERSONA = 'You are Alpha, the release bot.';
const BETA_PERSONA = 'You are Beta, the helpdesk bot.';

const service = useE2eService({
  feishu: { otherApps: [{ botName: 'Beta' }] },
  env: ({ feishu }) => {
    const [alpha, beta] = feishu.apps;
    const file = writeAppsFile([
      {
        id: 'alpha',
        appId: alpha?.appId,
        appSecret: alpha?.appSecret,
        encryptKey: 'alpha-key',
        persona: ALPHA_PERSONA,
      },
      { id: 'beta', appId: beta?.appId, appSecret: beta?.appSecret, encryptKey: 'beta-key', persona: BETA_PERSONA },
    ]);
    return {
      FEISHU_APP_ID: undefined,
      FEISHU_APP_SECRET: undefined,
      FEISHU_ENCRYPT_KEY: undefined,
      FEISHU_VERIFICATION_TOKEN: undefined,
      FEISHU_APPS_FILE: file,
      ENABLE_DEVTOOLS: 'true',
      DEVTOOLS_TOKEN,
    };
  },
});

beforeEach(() => service.reset());

/** A devtools API call through the service's Hono app, with the token (app.request() has no loopback peer). */
async function devtools(path: string, body?: unknown): Promise<Response> {
  return service.bot.app.request(`/devtools/api${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${DEVTOOLS_TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** The system prompt of each model call so far. */
function systemPrompts(): string[] {
  return service.openai.requestsFor('gpt-test').map((request) => JSON.stringify(request.messages[0]));
}

async function answered(traceId: string): Promise<string> {
  await service.feishu.waitFor(
    () => service.events.some((event) => event.type === 'reply.finished' && event.traceId === traceId),
    { timeoutMs: STEP_TIMEOUT_MS },
  );
  const finished = service.events.find((event) => event.type === 'reply.finished' && event.traceId === traceId);
  return finished?.type === 'reply.finished' ? (finished.text ?? '') : '';
}

describe('devtools playground API with two apps', () => {
  it('lists both apps, the first one first', async () => {
    const response = await devtools('/playground');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ answering: true, apps: ['alpha', 'beta'] });
  });

  it('refuses an app it does not serve with a stable code, queueing nothing', async () => {
    const response = await devtools('/chat', { text: 'hello', sessionId: 'api-unknown', app: 'gamma' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('unknown_app');
    expect(await service.bot.store.listJobs({ status: 'pending', limit: 10 })).toEqual([]);
    expect(service.openai.requestsFor('gpt-test')).toEqual([]);
  });

  it("answers a message to beta as beta: beta's job, persona, memory and trace", async () => {
    service.openai.script('gpt-test', { text: 'Beta here, how can I help?' });
    const response = await devtools('/chat', { text: 'who are you?', sessionId: 'api-beta', app: 'beta' });
    expect(response.status).toBe(200);
    const { traceId } = (await response.json()) as { traceId: string };
    expect(traceId).toMatch(/^app:beta:message:om_devtools_/);
    expect(await answered(traceId)).toBe('Beta here, how can I help?');

    const job = await service.bot.store.getJob(traceId);
    if (!job) throw new Error(`no job ${traceId}`);
    expect((job.payload as InboundEvent).appId).toBe('beta');
    expect(job.lane).toBe('app:beta:chat:oc_devtools_api-beta');
    const [system, ...more] = systemPrompts();
    expect(more).toEqual([]);
    expect(system).toContain(BETA_PERSONA);
    expect(system).not.toContain(ALPHA_PERSONA);
    expect(await service.bot.store.readHistory('app:beta:chat:oc_devtools_api-beta', 10)).not.toEqual([]);

    const trace = (await (await devtools(`/traces/${encodeURIComponent(traceId)}`)).json()) as { app: string };
    expect(trace.app).toBe('beta');
  });

  it('answers as the first app when the message names none, under the keys it has when picked', async () => {
    service.openai.script('gpt-test', { text: 'Alpha here.' });
    const response = await devtools('/chat', { text: 'who are you?', sessionId: 'api-first' });
    const { traceId } = (await response.json()) as { traceId: string };
    expect(traceId).toMatch(/^app:alpha:message:om_devtools_/);
    expect(await answered(traceId)).toBe('Alpha here.');
    const [system] = systemPrompts();
    expect(system).toContain(ALPHA_PERSONA);
    expect(system).not.toContain(BETA_PERSONA);
  });
});

describe.skipIf(!requireChromium())(
  'devtools playground app selector in headless Chromium',
  { timeout: 90_000 },
  () => {
    let browser: Browser;

    beforeAll(async () => {
      browser = await launchChromium();
    });

    afterAll(async () => {
      await browser?.close();
    });

    async function lastAnswerText(page: Page, count: number): Promise<string> {
      const finished = page.locator('[data-testid="bot-message"][data-state="finished"]');
      await finished.nth(count - 1).waitFor({ timeout: STEP_TIMEOUT_MS });
      return (
        (
          await finished
            .nth(count - 1)
            .locator('.message-text')
            .textContent()
        )?.trim() ?? ''
      );
    }

    it("talks to the app picked in the selector, and keeps each app's conversation across a reload", async () => {
      const { context, page, errors, status } = await openPage(browser, `${service.base}/devtools`);
      expect(status).toBe(200);
      const picker = page.getByTestId('playground-app');
      await picker.waitFor({ timeout: STEP_TIMEOUT_MS });
      expect(await picker.inputValue()).toBe('alpha');
      expect(await picker.locator('option').allTextContents()).toEqual(['alpha', 'beta']);

      await picker.selectOption('beta');
      service.openai.script('gpt-test', { text: 'Beta answering from the playground.' });
      await page.getByTestId('chat-input').fill('hello beta');
      await page.getByTestId('chat-send').click();
      expect(await lastAnswerText(page, 1)).toBe('Beta answering from the playground.');
      const [system] = systemPrompts();
      expect(system).toContain(BETA_PERSONA);
      expect(system).not.toContain(ALPHA_PERSONA);
      const traceId = await page.locator('[data-testid="bot-message"]').last().getAttribute('data-trace-id');
      expect(traceId).toMatch(/^app:beta:message:/);

      // A reload stays on beta and shows beta's conversation; alpha has its own (empty) one.
      await page.reload();
      await page.getByTestId('playground-app').waitFor({ timeout: STEP_TIMEOUT_MS });
      expect(await page.getByTestId('playground-app').inputValue()).toBe('beta');
      expect(await page.getByTestId('user-message').allTextContents()).toEqual(['hello beta']);
      await page.getByTestId('playground-app').selectOption('alpha');
      expect(await page.getByTestId('user-message').count()).toBe(0);
      await page.getByTestId('playground-app').selectOption('beta');
      expect(await page.getByTestId('user-message').allTextContents()).toEqual(['hello beta']);
      expect(errors).toEqual([]);
      await context.close();
    });
  },
);
