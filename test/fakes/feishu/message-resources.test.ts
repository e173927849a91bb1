import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FEISHU_CODES } from '../fake-feishu.js';
import { useFakeFeishuPerTest } from './sdk-harness.js';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Status and Feishu code of a failed resource download (the SDK asks for a stream, so the body is one). */
async function failure(promise: Promise<unknown>): Promise<{ status: number | undefined; code: unknown }> {
  try {
    await promise;
  } catch (error) {
    const response = (error as { response?: { status?: number; data?: unknown } }).response;
    const data = response?.data as Readable | undefined;
    const body = data && typeof data.on === 'function' ? JSON.parse((await readAll(data)).toString('utf8')) : data;
    return { status: response?.status, code: (body as { code?: unknown } | undefined)?.code };
  }
  throw new Error('expected the download to fail');
}

describe('fake Feishu message resources and forwarded bundles with the real lark SDK client', () => {
  const feishu = useFakeFeishuPerTest();

  it('serves a seeded resource as a stream with its type, length and name', async () => {
    const { fake, client } = feishu();
    const message = fake.seedMessage({
      chatId: 'oc_g',
      msgType: 'file',
      content: JSON.stringify({ file_key: 'file_1', file_name: '报告.pdf' }),
    });
    const bytes = Buffer.from('%PDF-1.4 fake');
    fake.seedResource({
      messageId: message.messageId,
      key: 'file_1',
      bytes,
      contentType: 'application/pdf',
      fileName: '报告.pdf',
    });
    const response = await client.im.v1.messageResource.get({
      params: { type: 'file' },
      path: { message_id: message.messageId, file_key: 'file_1' },
    });
    expect(await readAll(response.getReadableStream())).toEqual(bytes);
    expect(response.headers['content-type']).toBe('application/pdf');
    expect(response.headers['content-length']).toBe(String(bytes.byteLength));
    expect(decodeURIComponent(String(response.headers['content-disposition']).split("''")[1] ?? '')).toBe('报告.pdf');
    expect(fake.resourceDownloads()).toEqual({ [`${message.messageId}/file_1`]: 1 });
  });

  it('answers documented errors: unknown key, bundle members, missing type', async () => {
    const { fake, client } = feishu();
    const message = fake.seedMessage({
      chatId: 'oc_g',
      msgType: 'image',
      content: JSON.stringify({ image_key: 'img_1' }),
    });
    expect(
      await failure(
        client.im.v1.messageResource.get({
          params: { type: 'image' },
          path: { message_id: message.messageId, file_key: 'img_x' },
        }),
      ),
    ).toEqual({ status: 400, code: FEISHU_CODES.resourceNotFound });
    const bundle = fake.seedMessage({
      chatId: 'oc_g',
      msgType: 'merge_forward',
      content: JSON.stringify({ content: 'Merged and Forwarded Message' }),
    });
    const member = fake.seedMessage({
      chatId: 'oc_g',
      msgType: 'image',
      content: JSON.stringify({ image_key: 'img_2' }),
      upperMessageId: bundle.messageId,
    });
    fake.seedResource({ messageId: member.messageId, key: 'img_2', bytes: Buffer.from('x') });
    expect(
      await failure(
        client.im.v1.messageResource.get({
          params: { type: 'image' },
          path: { message_id: member.messageId, file_key: 'img_2' },
        }),
      ),
    ).toEqual({ status: 400, code: FEISHU_CODES.resourceOfForwardedMessage });
    expect(
      await failure(
        client.im.v1.messageResource.get({
          params: { type: 'video' },
          path: { message_id: message.messageId, file_key: 'img_1' },
        }),
      ),
    ).toMatchObject({ status: 400 });
  });

  it('message.get of a forwarded bundle returns the bundle, then its members in order with upper_message_id', async () => {
    const { fake, client } = feishu();
    const bundle = fake.seedMessage({
      chatId: 'oc_g',
      msgType: 'merge_forward',
      content: JSON.stringify({ content: 'Merged and Forwarded Message' }),
    });
    fake.seedMessage({ chatId: 'oc_other', text: 'first', upperMessageId: bundle.messageId });
    const inner = fake.seedMessage({
      chatId: 'oc_other',
      msgType: 'merge_forward',
      content: JSON.stringify({ content: 'Merged and Forwarded Message' }),
      upperMessageId: bundle.messageId,
    });
    fake.seedMessage({ chatId: 'oc_third', text: 'nested', upperMessageId: inner.messageId });
    fake.seedMessage({ chatId: 'oc_other', text: 'last', upperMessageId: bundle.messageId });
    const body = await client.im.v1.message.get({ path: { message_id: bundle.messageId } });
    const items = body.data?.items ?? [];
    expect(items.map((item) => [item.msg_type, item.upper_message_id])).toEqual([
      ['merge_forward', undefined],
      ['text', bundle.messageId],
      ['merge_forward', bundle.messageId],
      ['text', inner.messageId],
      ['text', bundle.messageId],
    ]);
    // Members are read through the bundle, not listed in their chat.
    const listed = await client.im.v1.message.list({ params: { container_id_type: 'chat', container_id: 'oc_other' } });
    expect(listed.data?.items ?? []).toHaveLength(0);
  });
});
