import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture } from '../../test/support/attachment-fixtures.js';
import { createExtractionPool } from '../attachments/extraction-pool.js';
import { createAttachmentResolver } from '../attachments/resolve-attachment.js';
import { createResourceCache } from '../attachments/resource-cache.js';
import type { AttachmentResolvedEvent } from '../observe/bot-event.js';
import { createEventBus } from '../observe/event-bus.js';
import type { NormalisedMessage } from './inbound-message.js';
import type { MessagePart, RelatedMessage } from './message-parts.js';
import type { MessageSource } from './message-source.js';
import { createTurnResolver } from './resolve-turn.js';

const extraction = createExtractionPool();
const cacheDir = mkdtempSync(join(tmpdir(), 'resolve-turn-test-'));
afterAll(async () => {
  await extraction.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

function message(parts: MessagePart[], text = ''): NormalisedMessage {
  return {
    kind: 'message',
    messageId: 'om_1',
    chatId: 'oc_1',
    chatType: 'p2p',
    sender: { openId: 'ou_a', type: 'user' },
    text,
    parts,
    mentions: [],
    mentionsBot: false,
    createTime: 1,
    messageType: 'post',
  };
}

/** A source serving fixture bytes by key, counting downloads; `messages` answers readMessages. */
function source(
  files: Record<string, Buffer>,
  messages: RelatedMessage[] = [],
): MessageSource & { downloads: string[] } {
  const downloads: string[] = [];
  return {
    downloads,
    async readMessages() {
      return messages;
    },
    async download(part) {
      downloads.push(part.key);
      const bytes = files[part.key];
      if (bytes === undefined) throw Object.assign(new Error('not found'), { code: 234003 });
      return { bytes, contentType: undefined, fileName: undefined };
    },
  };
}

function setUp(files: Record<string, Buffer>, limits = {}, messages: RelatedMessage[] = []) {
  const bus = createEventBus();
  const events: AttachmentResolvedEvent[] = [];
  bus.subscribe((event) => {
    if (event.type === 'attachment.resolved') events.push(event);
  });
  const feishu = source(files, messages);
  const turns = createTurnResolver({
    source: feishu,
    resolver: createAttachmentResolver({ extraction }),
    cache: createResourceCache({ dir: cacheDir }),
    limits,
    bus,
  });
  return { turns, feishu, events };
}

const context = (jobId: string, canSeeImages = true) => ({ jobId, traceId: jobId, canSeeImages });

describe('createTurnResolver', () => {
  it('keeps the user’s order: words, image, words, and notes the image by key for memory', async () => {
    const png = fixture('screenshot.png');
    const { turns, events } = setUp({ img_1: png });
    const turn = await turns.resolve(
      message([
        { type: 'text', text: 'before' },
        { type: 'image', messageId: 'om_1', key: 'img_1' },
        { type: 'text', text: 'after' },
      ]),
      context('job-order'),
    );
    expect(turn.content.map((part) => part.type)).toEqual(['text', 'image', 'text']);
    expect(turn.content[1]).toMatchObject({ type: 'image', mediaType: 'image/png' });
    expect(Buffer.from((turn.content[1] as { image: Uint8Array }).image).equals(png)).toBe(true);
    expect(turn.images).toBe(1);
    expect(turn.memoryText).toBe('before\n[image img_1]\nafter');
    expect(events[0]).toMatchObject({ part: 'image', outcome: 'ok', cached: false, sizeBytes: png.byteLength });
  });

  it('a retry of the same job reads the download from the cache; release forgets it', async () => {
    const { turns, feishu, events } = setUp({ file_1: fixture('report.pdf') });
    const pdf = message([{ type: 'file', messageId: 'om_1', key: 'file_1', name: 'r.pdf' }]);
    await turns.resolve(pdf, context('job-retry'));
    const again = await turns.resolve(pdf, context('job-retry'));
    expect(feishu.downloads).toEqual(['file_1']);
    expect(events.map((event) => event.cached)).toEqual([false, true]);
    expect(JSON.stringify(again.content)).toContain('Page 1 of the quarterly report');
    await turns.release('job-retry');
    await turns.resolve(pdf, context('job-retry'));
    expect(feishu.downloads).toEqual(['file_1', 'file_1']);
  });

  it('without a model that sees, images are not downloaded and the user is told', async () => {
    const { turns, feishu } = setUp({ img_1: fixture('screenshot.png') });
    const turn = await turns.resolve(
      message([{ type: 'image', messageId: 'om_1', key: 'img_1' }]),
      context('job-blind', false),
    );
    expect(feishu.downloads).toEqual([]);
    expect(turn.images).toBe(0);
    expect(turn.readable).toBe(false);
    expect(turn.notices.join(' ')).toMatch(/cannot see images.*VISION_MODEL/);
  });

  it('images past ATTACHMENT_MAX_IMAGES are not looked at, and the user is told how many', async () => {
    const png = fixture('screenshot.png');
    const { turns, feishu } = setUp({ a: png, b: png, c: png }, { maxImages: 2 });
    const turn = await turns.resolve(
      message(['a', 'b', 'c'].map((key) => ({ type: 'image' as const, messageId: 'om_1', key }))),
      context('job-cap'),
    );
    expect(turn.images).toBe(2);
    expect(feishu.downloads).toEqual(['a', 'b']);
    expect(turn.notices.join(' ')).toContain('Only the first 2 images were looked at; 1 more were not');
  });

  it('a missing resource and an unreadable part are notices; the turn is readable only if something else is', async () => {
    const { turns } = setUp({});
    const turn = await turns.resolve(
      message([
        { type: 'file', messageId: 'om_1', key: 'gone', name: 'gone.pdf' },
        { type: 'unreadable', what: 'a sticker' },
      ]),
      context('job-bad'),
    );
    expect(turn.readable).toBe(false);
    expect(turn.notices).toEqual([
      'gone.pdf: it could not be downloaded from Feishu (it may have been recalled or expired).',
      'I cannot read a sticker.',
    ]);
  });

  it('words the notices in Chinese for a Chinese question', async () => {
    const { turns } = setUp({});
    const turn = await turns.resolve(
      message([
        { type: 'file', messageId: 'om_1', key: 'gone', name: 'gone.pdf' },
        { type: 'unreadable', what: 'a sticker' },
      ]),
      { ...context('job-bad-zh'), language: 'zh' },
    );
    expect(turn.notices).toEqual([
      'gone.pdf：无法从飞书下载（可能已被撤回或已过期）。',
      '我读不了这类内容（a sticker）。',
    ]);
  });

  it('a forwarded bundle is bounded: messages cut, the count past the cap named, nesting followed to a depth', async () => {
    const member = (id: string, upper: string, text: string, messageType = 'text'): RelatedMessage => ({
      messageId: id,
      senderId: 'ou_bob',
      senderType: 'user',
      createTime: 0,
      messageType,
      text,
      parts: messageType === 'text' ? [{ type: 'text', text }] : [],
      upperMessageId: upper,
    });
    const bundle: RelatedMessage = { ...member('om_b', '', ''), messageType: 'merge_forward' };
    delete bundle.upperMessageId;
    const members = [
      member('om_long', 'om_b', 'x'.repeat(5_000)),
      member('om_inner', 'om_b', '', 'merge_forward'),
      member('om_deep', 'om_inner', 'deep inside'),
      ...Array.from({ length: 60 }, (_, index) => member(`om_${index}`, 'om_b', `message ${index}`)),
    ];
    const { turns } = setUp({}, { maxForwardMessages: 50, maxForwardDepth: 1, memoryChars: 1_000 }, [
      bundle,
      ...members,
    ]);
    const turn = await turns.resolve(message([{ type: 'forward', messageId: 'om_b' }]), context('job-bundle'));
    const text = turn.content.map((part) => (part.type === 'text' ? part.text : '')).join('\n');
    expect(text).toContain('more characters not kept');
    expect(text).not.toContain('x'.repeat(2_100));
    expect(text).toContain('forwarded more messages (not expanded: too deeply nested)');
    expect(text).not.toContain('deep inside');
    expect(text).toContain('message 47');
    expect(text).not.toContain('message 48');
    expect(text).toContain('[… 12 more forwarded messages not included]');
    expect(turn.memoryText.length).toBeLessThanOrEqual(4_000 + 100);
  });
});
