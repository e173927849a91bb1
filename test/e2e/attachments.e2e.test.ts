import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningBot } from '../../lib/bot.js';
import { buildMessageEvent, type MessageEventOptions, postEvent } from '../fakes/event-sender.js';
import { p2pChatIdFor } from '../fakes/fake-feishu.js';
import type { FakeRecordedRequest } from '../fakes/fake-openai.js';
import { waitForClosedAnswer } from '../support/ask-in-chat.js';
import { fixture } from '../support/attachment-fixtures.js';
import { MANY_QUICK_ASKS, useE2eService } from '../support/e2e-service.js';
import { docxZipBomb } from '../support/hostile-files.js';

/**
 * Everything a user sends, end to end and every part real: a signed, encrypted Feishu event →
 * inbox → dispatcher → the job downloads the resource from the fake Feishu through the real lark
 * SDK → type detection, extraction in the worker, sharp, speech-to-text on the fake OpenAI →
 * the manager on the real AI SDK → the CardKit card the user sees. Each bad input ends in a
 * visible notice and a finished job, answered once.
 */

const ALICE = 'ou_alice0000000000000000000000attach';
const BOB = 'ou_bob000000000000000000000000attach';
const CHAT = p2pChatIdFor(ALICE);
const MODEL = 'gpt-test';
const VISION = 'gpt-vision-test';
const WHISPER = 'whisper-test';
const DEVTOOLS_TOKEN = 'attachments-e2e-devtools-token-0123456789';

/** Everything the model was sent for the user's side, images as their data URLs. */
function userSide(request: FakeRecordedRequest): string {
  return JSON.stringify(request.messages.filter((message) => message.role === 'user'));
}

function systemText(request: FakeRecordedRequest): string {
  const system = request.messages.find((message) => message.role === 'system');
  return typeof system?.content === 'string' ? system.content : '';
}

describe('attachments, quotes and forwarded bundles, end to end', () => {
  let cacheDir: string;

  beforeAll(() => {
    cacheDir = mkdtempSync(join(tmpdir(), 'attachments-e2e-'));
  });

  afterAll(() => {
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  });

  const service = useE2eService({
    openai: { models: [MODEL, VISION, WHISPER] },
    env: () => ({
      ...MANY_QUICK_ASKS,
      MODEL,
      // MODEL cannot see: turns with images go to VISION_MODEL.
      MODEL_SUPPORTS_IMAGES: 'false',
      VISION_MODEL: VISION,
      TRANSCRIPTION_MODEL: WHISPER,
      ENABLE_DEVTOOLS: 'true',
      DEVTOOLS_TOKEN,
      ATTACHMENT_MAX_BYTES: '2000000',
      ATTACHMENT_DOWNLOAD_TIMEOUT_MS: '1500',
      ATTACHMENT_MAX_UNZIPPED_BYTES: '20000000',
      ATTACHMENT_CACHE_DIR: cacheDir,
    }),
  });

  beforeEach(() => service.reset());

  /**
   * Alice sends a message in her direct chat (its resources seeded first); resolves with what the
   * card shows once it is closed and the job is done. Exactly one reply, one finished job.
   */
  async function send(
    options: MessageEventOptions,
    resources: Array<{ key: string; bytes: Buffer; fileName?: string; stallAfterBytes?: number }> = [],
    url = service.webhookUrl,
  ): Promise<{ messageId: string; shown: string }> {
    const event = buildMessageEvent({
      fake: service.feishu,
      chatType: 'p2p',
      senderOpenId: ALICE,
      token: service.token,
      ...options,
    });
    const messageId = event.event.message.message_id;
    for (const resource of resources) service.feishu.seedResource({ messageId, ...resource });
    expect((await postEvent(url, event, { encryptKey: service.encryptKey })).status).toBe(200);
    return {
      messageId,
      shown: await waitForClosedAnswer({ ...service, messageId, timeoutMs: 30_000 }),
    };
  }

  const file = (key: string, name: string): MessageEventOptions => ({
    messageType: 'file',
    content: { file_key: key, file_name: name },
  });

  it('an image goes to VISION_MODEL as an image part carrying the original bytes', async () => {
    service.openai.script(VISION, { text: 'The dashboard shows 42 open tickets.' });
    const png = fixture('screenshot.png');
    const { shown, messageId } = await send({ messageType: 'image', content: { image_key: 'img_v3_shot' } }, [
      { key: 'img_v3_shot', bytes: png },
    ]);
    expect(shown).toContain('42 open tickets');
    const [request] = service.openai.requestsFor(VISION);
    expect(request).toBeDefined();
    expect(userSide(request as FakeRecordedRequest)).toContain(`data:image/png;base64,${png.toString('base64')}`);
    expect(service.openai.requestsFor(MODEL)).toHaveLength(0);
    expect(service.feishu.callsTo('im.messageResource.get')[0]?.query).toMatchObject({ type: 'image' });
    expect(service.events.find((event) => event.type === 'attachment.resolved')).toMatchObject({
      part: 'image',
      outcome: 'ok',
      mediaType: 'image/png',
      sizeBytes: png.byteLength,
    });

    // The devtools trace shows the part, what reached the model, and a preview behind the token.
    const base = `${service.base}/devtools/api/traces/${encodeURIComponent(`message:${messageId}`)}`;
    const authorization = { authorization: `Bearer ${DEVTOOLS_TOKEN}` };
    const trace = (await (await fetch(base, { headers: authorization })).json()) as {
      events: Array<{ type: string; parts?: string; model?: string }>;
    };
    const resolved = trace.events.find((event) => event.type === 'turn.resolved');
    expect(resolved?.model).toBe(VISION);
    expect(resolved?.parts).toMatch(/^image \(image\/png, 3\.\d KB\)$/);
    expect(trace.events.some((event) => event.type === 'attachment.resolved')).toBe(true);
    const preview = await fetch(`${base}/attachments/img_v3_shot`, { headers: authorization });
    expect(preview.status).toBe(200);
    expect(preview.headers.get('content-type')).toBe('image/jpeg');
  });

  it('a PDF becomes its text in the model request, and a follow-up about it works from memory', async () => {
    service.openai.script(MODEL, { text: 'It is the quarterly report.' }, { text: 'The page 2 marker is cobalt-2.' });
    const { messageId } = await send(file('file_report', 'q3 report.pdf'), [
      { key: 'file_report', bytes: fixture('report.pdf') },
    ]);
    const [first] = service.openai.requestsFor(MODEL);
    expect(userSide(first as FakeRecordedRequest)).toContain('Page 3 of the quarterly report');
    expect(userSide(first as FakeRecordedRequest)).toContain('File q3 report.pdf (application/pdf');
    expect(service.events.find((event) => event.type === 'attachment.resolved')).toMatchObject({
      part: 'file',
      outcome: 'ok',
    });

    await send({ text: 'what is the marker on page 2 of the PDF above?' });
    const second = service.openai.requestsFor(MODEL)[1] as FakeRecordedRequest;
    // The earlier turn is in the history in its compact form (text cut to ATTACHMENT_MEMORY_CHARS,
    // with a note): no second download needed.
    expect(userSide(second)).toContain('Marker for page 2: cobalt-2.');
    expect(userSide(second)).toContain('more characters not kept');
    expect(service.feishu.resourceDownloads()[`${messageId}/file_report`]).toBe(1);
  });

  it('a download that fails for a moment (503, then a rate limit) is retried under the Feishu call policy', async () => {
    service.feishu.inject({ api: 'im.messageResource.get', status: 503 });
    service.feishu.inject({ api: 'im.messageResource.get', status: 429, headers: { 'x-ogw-ratelimit-reset': '0' } });
    const { shown, messageId } = await send(file('file_flaky', 'flaky.pdf'), [
      { key: 'file_flaky', bytes: fixture('report.pdf') },
    ]);
    expect(shown).not.toContain('could not be downloaded');
    expect(userSide(service.openai.requestsFor(MODEL)[0] as FakeRecordedRequest)).toContain(
      'Page 1 of the quarterly report',
    );
    expect(service.feishu.callsTo('im.messageResource.get').map((call) => call.status)).toEqual([503, 429, 200]);
    expect(service.feishu.resourceDownloads()[`${messageId}/file_flaky`]).toBe(1);
    // Each attempt is reported to health like every Feishu call.
    const reported = service.events.filter(
      (event) => event.type === 'feishu.api' && event.api === 'im.v1.messageResource.get',
    );
    expect(reported.map((event) => event.type === 'feishu.api' && event.outcome)).toEqual([
      'error',
      'rate-limited',
      'ok',
    ]);
  });

  it('a Word document and an Excel workbook reach the model as text', async () => {
    await send(file('file_plan', 'plan.docx'), [{ key: 'file_plan', bytes: fixture('plan.docx') }]);
    expect(userSide(service.openai.requestsFor(MODEL)[0] as FakeRecordedRequest)).toContain('Launch plan');
    await send(file('file_budget', 'budget.xlsx'), [{ key: 'file_budget', bytes: fixture('budget.xlsx') }]);
    const sheet = userSide(service.openai.requestsFor(MODEL)[1] as FakeRecordedRequest);
    expect(sheet).toContain('North');
    expect(sheet).toContain('华东');
  });

  it('a voice message is transcribed by TRANSCRIPTION_MODEL and the transcript reaches the model', async () => {
    service.openai.script(WHISPER, { text: 'Please book the meeting room for Thursday at three.' });
    const voice = fixture('voice.opus');
    await send({ messageType: 'audio', content: { file_key: 'file_voice', duration: 3000 } }, [
      { key: 'file_voice', bytes: voice },
    ]);
    expect(service.openai.transcriptions().at(-1)?.file?.bytes.equals(voice)).toBe(true);
    expect(service.feishu.callsTo('im.messageResource.get')[0]?.query).toMatchObject({ type: 'file' });
    expect(userSide(service.openai.requestsFor(MODEL)[0] as FakeRecordedRequest)).toContain(
      'Voice message, transcribed]: Please book the meeting room for Thursday at three.',
    );
    expect(service.events.find((event) => event.type === 'attachment.resolved')).toMatchObject({
      part: 'audio',
      transcript: 'Please book the meeting room for Thursday at three.',
    });
  });

  it('a reply to an earlier picture brings the quoted words and the picture into the turn', async () => {
    const quoted = service.feishu.seedMessage({
      chatId: CHAT,
      chatType: 'p2p',
      senderOpenId: BOB,
      msgType: 'post',
      content: JSON.stringify({
        title: '',
        content: [[{ tag: 'text', text: 'Here is the error we saw' }], [{ tag: 'img', image_key: 'img_quoted' }]],
      }),
    });
    const png = fixture('screenshot.png');
    service.feishu.seedResource({ messageId: quoted.messageId, key: 'img_quoted', bytes: png });
    await send({ text: 'what does it say?', parentId: quoted.messageId });
    const [request] = service.openai.requestsFor(VISION);
    expect(systemText(request as FakeRecordedRequest)).toContain('«Here is the error we saw');
    expect(userSide(request as FakeRecordedRequest)).toContain(png.toString('base64'));
    expect(userSide(request as FakeRecordedRequest)).toContain('what does it say?');
  });

  it('a forwarded bundle is expanded in order with its senders; its pictures are named, not guessed', async () => {
    const event = buildMessageEvent({
      fake: service.feishu,
      chatType: 'p2p',
      senderOpenId: ALICE,
      token: service.token,
      messageType: 'merge_forward',
      content: { content: 'Merged and Forwarded Message' },
    });
    const bundleId = event.event.message.message_id;
    service.feishu.seedMessage({
      chatId: 'oc_team',
      senderOpenId: BOB,
      text: 'The build is red again',
      upperMessageId: bundleId,
    });
    service.feishu.seedMessage({
      chatId: 'oc_team',
      senderOpenId: ALICE,
      msgType: 'image',
      content: JSON.stringify({ image_key: 'img_in_bundle' }),
      upperMessageId: bundleId,
    });
    service.feishu.seedMessage({
      chatId: 'oc_team',
      senderOpenId: BOB,
      text: 'Fixed by reverting 4f2c',
      upperMessageId: bundleId,
    });
    expect((await postEvent(service.webhookUrl, event, { encryptKey: service.encryptKey })).status).toBe(200);
    const shown = await waitForClosedAnswer({
      feishu: service.feishu,
      events: service.events,
      messageId: bundleId,
      timeoutMs: 30_000,
    });
    const sent = userSide(service.openai.requestsFor(MODEL)[0] as FakeRecordedRequest);
    const red = sent.indexOf('The build is red again');
    const fixed = sent.indexOf('Fixed by reverting 4f2c');
    expect(red).toBeGreaterThan(-1);
    expect(fixed).toBeGreaterThan(red);
    expect(sent).toContain(`${BOB}`);
    expect(sent).toContain('inside a forwarded bundle');
    expect(shown).toContain('I cannot read an image inside a forwarded bundle');
    expect(service.feishu.callsTo('im.messageResource.get')).toHaveLength(0);
  });

  describe('bad inputs: a visible notice, a finished job, one answer, no guessing model', () => {
    it.each([
      ['a corrupt PDF', 'broken.pdf', () => fixture('corrupt.pdf'), /broken\.pdf: .*damaged/],
      ['an encrypted PDF', 'secret.pdf', () => fixture('encrypted.pdf'), /secret\.pdf: .*password-protected/],
      ['a zip bomb', 'bomb.docx', () => docxZipBomb({ inflatedBytes: 50_000_000, honest: false }), /bomb\.docx: /],
      ['a file over ATTACHMENT_MAX_BYTES', 'huge.pdf', () => Buffer.alloc(2_500_000, 0x20), /huge\.pdf: .*larger than/],
    ])('%s', async (_label, name, bytes, notice) => {
      const content = await bytes();
      const { shown } = await send(file('file_bad', name), [{ key: 'file_bad', bytes: content }]);
      expect(shown).toMatch(notice);
      expect(service.openai.requestsFor(MODEL)).toHaveLength(0);
    });

    it('a resource Feishu no longer has', async () => {
      const { shown } = await send(file('file_gone', 'gone.pdf'));
      expect(shown).toContain('gone.pdf: it could not be downloaded from Feishu');
      expect(service.openai.requestsFor(MODEL)).toHaveLength(0);
      expect(service.events.find((event) => event.type === 'attachment.resolved')).toMatchObject({ outcome: 'notice' });
    });

    it('a download that stops mid-way is cut by its timeout', async () => {
      const report = fixture('report.pdf');
      const { shown } = await send(file('file_slow', 'slow.pdf'), [
        { key: 'file_slow', bytes: report, stallAfterBytes: 1_000 },
      ]);
      expect(shown).toMatch(/slow\.pdf: .*(did not finish|took longer)/);
    });

    it('words with a broken file: the words are answered and the notice is shown beside the answer', async () => {
      service.openai.script(MODEL, { text: 'Here is what I can say.' });
      const event = buildMessageEvent({
        fake: service.feishu,
        chatType: 'p2p',
        senderOpenId: ALICE,
        token: service.token,
        post: {
          content: [[{ tag: 'text', text: 'summarise this please' }], [{ tag: 'img', image_key: 'img_missing' }]],
        },
      });
      const messageId = event.event.message.message_id;
      expect((await postEvent(service.webhookUrl, event, { encryptKey: service.encryptKey })).status).toBe(200);
      const shown = await waitForClosedAnswer({
        feishu: service.feishu,
        events: service.events,
        messageId,
        timeoutMs: 30_000,
      });
      expect(shown).toContain('Here is what I can say.');
      expect(shown).toContain('the image: it could not be downloaded from Feishu');
      expect(userSide(service.openai.requestsFor(MODEL)[0] as FakeRecordedRequest)).toContain('summarise this please');
    });
  });
  describe('without a model that sees pictures or hears voice', () => {
    let blind: RunningBot;
    let blindUrl: string;
    beforeAll(async () => {
      blind = await service.startAnotherBot({
        over: 'base',
        env: { ...MANY_QUICK_ASKS, MODEL, MODEL_SUPPORTS_IMAGES: 'false' },
      });
      blindUrl = `http://127.0.0.1:${blind.port}/webhook/event`;
    }, 60_000);
    afterAll(async () => {
      await blind?.stop();
    });

    it('a picture gets a clear notice instead of a guess, and is not downloaded', async () => {
      const { shown } = await send(
        { messageType: 'image', content: { image_key: 'img_blind' } },
        [{ key: 'img_blind', bytes: fixture('screenshot.png') }],
        blindUrl,
      );
      expect(shown).toContain('I cannot see images: no model that reads pictures is configured (VISION_MODEL).');
      expect(service.openai.requests).toHaveLength(0);
      expect(service.feishu.callsTo('im.messageResource.get')).toHaveLength(0);
    });

    it('a voice message gets a notice that no speech-to-text model is configured', async () => {
      const { shown } = await send(
        { messageType: 'audio', content: { file_key: 'file_voice_blind', duration: 3000 } },
        [{ key: 'file_voice_blind', bytes: fixture('voice.opus') }],
        blindUrl,
      );
      expect(shown).toMatch(/the voice message: .*no speech-to-text model is configured/);
      expect(service.openai.transcriptions().some((upload) => upload.file?.name === 'file_voice_blind')).toBe(false);
      expect(service.openai.requests).toHaveLength(0);
    });
  });
  describe('a restart in the middle of an answer', () => {
    it('resumes the job on the next process from the cached download: the file is downloaded once, answered once', async () => {
      const storeDir = mkdtempSync(join(tmpdir(), 'attachments-restart-'));
      const another = {
        over: 'base',
        env: {
          ...MANY_QUICK_ASKS,
          MODEL,
          STORE_URL: `sqlite:${join(storeDir, 'bot.db')}`,
          ATTACHMENT_CACHE_DIR: join(storeDir, 'cache'),
          SHUTDOWN_TIMEOUT_MS: '3000',
          JOB_LEASE_MS: '2000',
        },
      } as const;
      let first: RunningBot | undefined;
      let second: RunningBot | undefined;
      try {
        first = await service.startAnotherBot(another);
        // The model never answers the first process: it is stopped while waiting.
        service.openai.script(MODEL, { hang: true }, { text: 'The report says revenue is on track.' });
        const event = buildMessageEvent({
          fake: service.feishu,
          chatType: 'p2p',
          senderOpenId: ALICE,
          token: service.token,
          messageType: 'file',
          content: { file_key: 'file_restart', file_name: 'restart.pdf' },
        });
        const messageId = event.event.message.message_id;
        service.feishu.seedResource({ messageId, key: 'file_restart', bytes: fixture('report.pdf') });
        const url = `http://127.0.0.1:${first.port}/webhook/event`;
        expect((await postEvent(url, event, { encryptKey: service.encryptKey })).status).toBe(200);
        await service.openai.waitForRequests(1, { model: MODEL, timeoutMs: 20_000 });
        await first.stop();

        second = await service.startAnotherBot(another);
        await service.feishu.waitFor(
          () => {
            const [reply] = service.feishu.repliesTo(messageId, { fromBot: true });
            return reply !== undefined && service.feishu.visibleText(reply.messageId).includes('revenue is on track');
          },
          { timeoutMs: 30_000, description: 'the resumed answer' },
        );
        expect(service.feishu.repliesTo(messageId, { fromBot: true })).toHaveLength(1);
        expect(service.feishu.resourceDownloads()[`${messageId}/file_restart`]).toBe(1);
        const parts = service.events.filter(
          (each) => each.type === 'attachment.resolved' && each.traceId === `message:${messageId}`,
        );
        expect(parts.map((each) => each.type === 'attachment.resolved' && each.cached)).toEqual([false, true]);
      } finally {
        await second?.stop();
        await first?.stop();
        rmSync(storeDir, { recursive: true, force: true });
      }
    }, 90_000);
  });
});
