import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FEISHU_CODES } from '../fake-feishu.js';
import { authArea } from './auth.js';
import {
  defineFeishuArea,
  type FakeFeishu,
  type FeishuApiName,
  type FeishuCore,
  mergeCodes,
  startFeishuServer,
} from './core.js';
import { CORE_CODES, fail, ok } from './reply.js';
import { sdkFailure, text, useFakeFeishuPerTest } from './sdk-harness.js';

describe('fake Feishu core: identity, faults, env and waitFor with the real lark SDK client', () => {
  const feishu = useFakeFeishuPerTest();

  it('looks like a real app: cli_ + 16 hex app id, loopback URL', () => {
    const { fake } = feishu();
    expect(fake.appId).toMatch(/^cli_[0-9a-f]{16}$/);
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fake.botOpenId).toMatch(/^ou_/);
  });

  it('injects 429 with x-ogw-ratelimit-reset, 230020, 5xx, dropped connections and latency', async () => {
    const { fake, client } = feishu();
    const send = () =>
      client.im.v1.message.create({
        params: { receive_id_type: 'chat_id' },
        data: { receive_id: 'oc_g', msg_type: 'text', content: text('x') },
      });
    const limited = fake.inject({ api: 'im.message.create', status: 429, headers: { 'x-ogw-ratelimit-reset': '2' } });
    const rateLimited = await sdkFailure(send());
    expect(rateLimited).toMatchObject({ status: 429, code: FEISHU_CODES.appRateLimited });
    expect(rateLimited.headers['x-ogw-ratelimit-reset']).toBe('2');
    expect(limited.remaining).toBe(0);

    fake.inject({ api: 'im.message.create', code: FEISHU_CODES.messageRateLimited });
    expect((await sdkFailure(send())).code).toBe(FEISHU_CODES.messageRateLimited);

    fake.inject({ api: '*', status: 503, times: 2 });
    expect((await sdkFailure(send())).status).toBe(503);
    expect((await sdkFailure(client.request({ url: '/open-apis/bot/v3/info', method: 'GET' }))).status).toBe(503);

    fake.inject({ api: 'im.message.create', dropConnection: true });
    await expect(send()).rejects.toThrow();

    fake.inject({ api: 'im.message.create', latencyMs: 150 });
    const started = performance.now();
    const slow = await send();
    expect(slow.code).toBe(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);

    const injected = fake.calls.filter((call) => call.injected).map((call) => call.api);
    expect(injected).toEqual([
      'im.message.create',
      'im.message.create',
      'im.message.create',
      'bot.info',
      'im.message.create',
    ]);
    expect((await send()).code).toBe(0);
  });

  it('exposes env vars that point the app at the fake', () => {
    const { fake } = feishu();
    expect(fake.env()).toEqual({
      FEISHU_APP_ID: fake.appId,
      FEISHU_APP_SECRET: fake.appSecret,
      FEISHU_DOMAIN: fake.url,
    });
  });

  it('waitFor resolves when a matching message arrives', async () => {
    const { fake, client } = feishu();
    const pending = fake.waitFor(() => fake.messages({ chatId: 'oc_wait' })[0], { timeoutMs: 2000 });
    await client.im.v1.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: 'oc_wait', msg_type: 'text', content: text('arrived') },
    });
    const message = await pending;
    expect(fake.visibleText(message.messageId)).toBe('arrived');
    await expect(fake.waitFor(() => false, { timeoutMs: 50, description: 'nothing' })).rejects.toThrow(/nothing/);
  });
});

/** A test area's API names are not part of the shared union, so they are cast rather than declared. */
const testApi = (name: string) => name as FeishuApiName;

/** Fetches with a tenant token from the fake's own token endpoint. */
async function authorised(fake: FakeFeishu): Promise<Record<string, string>> {
  const response = await fetch(`${fake.url}/open-apis/auth/v3/tenant_access_token/internal`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ app_id: fake.appId, app_secret: fake.appSecret }),
  });
  const { tenant_access_token: token } = (await response.json()) as { tenant_access_token: string };
  return { authorization: `Bearer ${token}` };
}

describe('fake Feishu core: how an API area plugs in', () => {
  const shared = (core: FeishuCore) => {
    const seen: string[] = [];
    core.onReset(() => {
      seen.length = 0;
    });
    return seen;
  };
  const uploadsArea = defineFeishuArea({
    name: 'test-uploads',
    codes: { uploadRejected: 1_234_567 },
    install(core) {
      const seen = core.use(shared);
      core.route({
        api: testApi('test.upload'),
        method: 'POST',
        path: '/open-apis/test/v1/files',
        body: 'raw',
        async handle({ rawBody, headers }) {
          const form = await new Response(rawBody, {
            headers: { 'content-type': headers['content-type'] ?? '' },
          }).formData();
          const file = form.get('file');
          if (!(file instanceof Blob)) return fail(1_234_567, 'file is required');
          seen.push(`upload:${String(form.get('file_name'))}`);
          return ok({ size: file.size });
        },
      });
      core.route({
        api: testApi('test.json'),
        method: 'POST',
        path: '/open-apis/test/v1/notes',
        handle: ({ body }) => ok({ note: body.note }),
      });
      // A real area declares its views on FakeFeishu by augmentation; a test area cannot, so it casts.
      return { uploadsSeen: () => [...seen] } as unknown as Partial<FakeFeishu>;
    },
  });
  const downloadsArea = defineFeishuArea({
    name: 'test-downloads',
    install(core) {
      const seen = core.use(shared);
      core.route({
        api: testApi('test.download'),
        method: 'GET',
        path: '/open-apis/test/v1/files/:file_key',
        handle: ({ params }) => {
          seen.push(`download:${String(params.file_key)}`);
          return { status: 200, body: Uint8Array.from([0, 1, 2, 255]), headers: { 'content-type': 'image/png' } };
        },
      });
      core.route({
        api: testApi('test.latest'),
        method: 'GET',
        path: '/open-apis/test/v1/files/latest',
        handle: () => ok({ latest: true }),
      });
      return {};
    },
  });

  let fake: FakeFeishu;
  beforeEach(async () => {
    fake = await startFeishuServer([downloadsArea, authArea, uploadsArea]);
  });
  afterEach(async () => {
    await fake.close();
  });

  it('serves an area’s routes: raw multipart bodies, JSON bodies, byte replies and literal-before-parameter paths', async () => {
    const headers = await authorised(fake);
    const form = new FormData();
    form.set('file_name', 'a.png');
    form.set('file', new Blob([Uint8Array.from([9, 9, 9])]), 'a.png');
    const upload = await fetch(`${fake.url}/open-apis/test/v1/files`, { method: 'POST', headers, body: form });
    expect(await upload.json()).toMatchObject({ code: 0, data: { size: 3 } });

    const notJson = await fetch(`${fake.url}/open-apis/test/v1/notes`, { method: 'POST', headers, body: 'not json' });
    expect(await notJson.json()).toMatchObject({ code: CORE_CODES.badRequest });
    const note = await fetch(`${fake.url}/open-apis/test/v1/notes`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ note: 'hi' }),
    });
    expect(await note.json()).toMatchObject({ code: 0, data: { note: 'hi' } });

    const download = await fetch(`${fake.url}/open-apis/test/v1/files/img_v3_1`, { headers });
    expect(download.headers.get('content-type')).toBe('image/png');
    expect([...new Uint8Array(await download.arrayBuffer())]).toEqual([0, 1, 2, 255]);
    const latest = await fetch(`${fake.url}/open-apis/test/v1/files/latest`, { headers });
    expect(await latest.json()).toMatchObject({ data: { latest: true } });

    expect(fake.callsTo(testApi('test.download'))).toHaveLength(1);
    expect(fake.callsTo(testApi('test.latest'))).toHaveLength(1);
    const unknown = await fetch(`${fake.url}/open-apis/test/v1/elsewhere`, { headers });
    expect(unknown.status).toBe(404);
    expect(fake.calls.at(-1)?.api).toBe('unknown');
  });

  it('shares one store between areas through use(), cleared by reset()', async () => {
    const headers = await authorised(fake);
    const form = new FormData();
    form.set('file_name', 'b.txt');
    form.set('file', new Blob(['x']), 'b.txt');
    await fetch(`${fake.url}/open-apis/test/v1/files`, { method: 'POST', headers, body: form });
    await fetch(`${fake.url}/open-apis/test/v1/files/key_2`, { headers });
    const views = fake as FakeFeishu & { uploadsSeen(): string[] };
    expect(views.uploadsSeen()).toEqual(['upload:b.txt', 'download:key_2']);
    fake.reset();
    expect(views.uploadsSeen()).toEqual([]);
    expect(fake.issuedTokens()).toEqual([]);
  });

  it("leaves the token endpoint alone when a '*' fault storm hits every API", async () => {
    fake.inject({ api: '*', status: 503, times: 5 });
    const headers = await authorised(fake);
    const download = await fetch(`${fake.url}/open-apis/test/v1/files/key_3`, { headers });
    expect(download.status).toBe(503);
    expect(fake.calls.map((call) => [call.api, call.injected])).toEqual([
      ['auth.tenantAccessToken', false],
      ['test.download', true],
    ]);
  });

  it('refuses areas that collide: the same API name, the same route, a taken view name or code name', async () => {
    const twice = defineFeishuArea({
      name: 'twice',
      install(core) {
        core.route({ api: testApi('test.a'), method: 'GET', path: '/open-apis/test/v1/a', handle: () => ok({}) });
        core.route({ api: testApi('test.a'), method: 'GET', path: '/open-apis/test/v1/b', handle: () => ok({}) });
        return {};
      },
    });
    await expect(startFeishuServer([twice])).rejects.toThrow(/test\.a is registered twice/);
    const sameRoute = defineFeishuArea({
      name: 'same-route',
      install(core) {
        core.route({
          api: testApi('test.b'),
          method: 'GET',
          path: '/open-apis/test/v1/files/:key',
          handle: () => ok({}),
        });
        return {};
      },
    });
    await expect(startFeishuServer([downloadsArea, sameRoute])).rejects.toThrow(/registered twice/);
    const takesClose = defineFeishuArea({ name: 'takes-close', install: () => ({ close: async () => {} }) });
    await expect(startFeishuServer([takesClose])).rejects.toThrow(/takes-close defines close/);
    expect(() => mergeCodes([uploadsArea, defineFeishuArea({ ...uploadsArea, name: 'copy' })])).toThrow(
      /uploadRejected of area copy/,
    );
  });
});
