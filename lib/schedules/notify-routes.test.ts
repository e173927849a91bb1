import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { notifyRoutes } from './notify-routes.js';
import { PROACTIVE_JOB_KIND } from './proactive-job.js';

const TOKEN = 't'.repeat(40);

describe('POST /api/notify', () => {
  let store: Store;
  let woken: string[];
  let app: ReturnType<typeof notifyRoutes>;

  beforeEach(async () => {
    store = await openStore('sqlite::memory:');
    woken = [];
    app = notifyRoutes({
      token: TOKEN,
      store,
      log: silentLogger(),
      bodyLimitBytes: 2_048,
      onEnqueued: (job) => woken.push(job.id),
    });
  });
  afterEach(() => store.close());

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    app.request('/notify', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${TOKEN}`,
        'idempotency-key': 'key-1',
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const jobs = async () => (await store.listJobs({ limit: 10 })).filter((job) => job.kind === PROACTIVE_JOB_KIND);

  it('refuses a missing, malformed or wrong token before reading anything, and enqueues nothing', async () => {
    for (const authorization of ['', TOKEN, `Bearer ${TOKEN}x`, `Bearer ${'t'.repeat(39)}`, 'Basic abc']) {
      const response = await post({ chatId: 'oc_a', text: 'hi' }, { authorization });
      expect(response.status, authorization).toBe(401);
      expect(await response.json()).toEqual({ error: 'unauthorized' });
    }
    expect(await jobs()).toEqual([]);
  });

  it('enqueues a message for the chat once, and answers a replay with the first answer without a second job', async () => {
    const first = await post({ chatId: 'oc_a', text: 'Build 812 failed' });
    expect(first.status).toBe(202);
    const answer = (await first.json()) as { id: string; status: string };
    expect(answer.status).toBe('accepted');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const [job, ...others] = await jobs();
    expect(others).toEqual([]);
    expect(job).toMatchObject({ id: answer.id, lane: 'chat:oc_a' });
    expect(job?.payload).toMatchObject({ origin: 'notify', action: 'message', text: 'Build 812 failed' });
    expect(woken).toEqual([answer.id]);

    const replay = await post({ chatId: 'oc_a', text: 'Build 812 failed' });
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.json()).toEqual(answer);
    expect(await jobs()).toHaveLength(1);
    expect(woken).toHaveLength(1);
  });

  it('refuses the same key with another request (409), and takes another key as new work', async () => {
    await post({ chatId: 'oc_a', text: 'first' });
    const reused = await post({ chatId: 'oc_a', text: 'second' });
    expect(reused.status).toBe(409);
    expect(await reused.json()).toMatchObject({ error: 'idempotency_key_reused' });
    expect((await post({ chatId: 'oc_a', text: 'second' }, { 'idempotency-key': 'key-2' })).status).toBe(202);
    expect(await jobs()).toHaveLength(2);
  });

  it('refuses a chat outside the allowlist when one is set', async () => {
    const limited = notifyRoutes({ token: TOKEN, store, log: silentLogger(), allowedChatIds: ['oc_allowed'] });
    const send = (chatId: string, key: string) =>
      limited.request('/notify', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'idempotency-key': key },
        body: JSON.stringify({ chatId, text: 'hello' }),
      });
    const refused = await send('oc_elsewhere', 'k-a');
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: 'chat_not_allowed' });
    expect(await jobs()).toEqual([]);
    expect((await send('oc_allowed', 'k-b')).status).toBe(202);
  });

  it('posts as the named app into its own lane, within that app’s allowed chats, and refuses an unknown app', async () => {
    const multi = notifyRoutes({
      token: TOKEN,
      store,
      log: silentLogger(),
      apps: new Map([
        ['alpha', []],
        ['beta', ['oc_beta_only']],
      ]),
    });
    const send = (body: unknown, key: string) =>
      multi.request('/notify', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'idempotency-key': key },
        body: JSON.stringify(body),
      });
    const unknown = await send({ chatId: 'oc_a', text: 'hi', app: 'gamma' }, 'k-1');
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ error: 'unknown_app' });
    const outside = await send({ chatId: 'oc_a', text: 'hi', app: 'beta' }, 'k-2');
    expect(outside.status).toBe(403);
    expect(await jobs()).toEqual([]);

    expect((await send({ chatId: 'oc_a', text: 'hi', app: 'alpha' }, 'k-3')).status).toBe(202);
    expect((await send({ chatId: 'oc_beta_only', text: 'hi', app: 'beta' }, 'k-4')).status).toBe(202);
    const byLane = Object.fromEntries((await jobs()).map((job) => [job.lane, job.payload]));
    expect(byLane['app:alpha:chat:oc_a']).toMatchObject({ target: { appId: 'alpha', chatId: 'oc_a' } });
    expect(byLane['app:beta:chat:oc_beta_only']).toMatchObject({ target: { appId: 'beta' } });
  });

  it('starts a run for a topic when asked', async () => {
    const response = await post({
      chatId: 'oc_a',
      text: 'Summarize the incident',
      action: 'run',
      rootMessageId: 'om_root',
      threadId: 'omt_1',
    });
    expect(response.status).toBe(202);
    const [job] = await jobs();
    expect(job?.lane).toBe('chat:oc_a:thread:omt_1');
    expect(job?.payload).toMatchObject({
      action: 'run',
      target: { chatId: 'oc_a', rootMessageId: 'om_root', threadId: 'omt_1' },
    });
  });

  it('answers bad requests with a stable code and the fields at fault, and enqueues nothing', async () => {
    expect((await post({ chatId: 'oc_a', text: 'x' }, { 'idempotency-key': '' })).status).toBe(400);
    const noKey = await app.request('/notify', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ chatId: 'oc_a', text: 'x' }),
    });
    expect(noKey.status).toBe(400);
    expect(await noKey.json()).toMatchObject({ error: 'idempotency_key_required' });
    const badJson = await post('{"chatId":');
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toEqual({ error: 'invalid_json' });
    const badBody = await post({ chatId: '', text: 'x', action: 'shout', extra: 1 });
    expect(badBody.status).toBe(400);
    expect(await badBody.json()).toEqual({ error: 'invalid_request', fields: ['chatId', 'action', '(body)'] });
    const tooLarge = await post({ chatId: 'oc_a', text: 'x'.repeat(3_000) });
    expect(tooLarge.status).toBe(413);
    expect(await jobs()).toEqual([]);
  });
});
