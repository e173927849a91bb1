import type { AxiosError } from 'axios';
import { afterEach, beforeEach } from 'vitest';
import { createFeishuClient, type FeishuClient } from '../../../lib/feishu/feishu-client.js';
import { silentLogger } from '../../../lib/log.js';
import { type FakeFeishu, startFakeFeishu } from '../fake-feishu.js';

/**
 * What the fake Feishu's own tests share: a fresh fake per test with the app's real SDK client
 * pointed at it, and readers for what an SDK caller sees.
 *
 * @example
 * const feishu = useFakeFeishuPerTest();
 * it('answers', async () => {
 *   const { fake, client } = feishu();
 *   expect((await sdkFailure(client.request({ url: '/open-apis/nope', method: 'GET' }))).status).toBe(404);
 * });
 */
export function useFakeFeishuPerTest(): () => { fake: FakeFeishu; client: FeishuClient } {
  let current: { fake: FakeFeishu; client: FeishuClient } | undefined;
  beforeEach(async () => {
    const fake = await startFakeFeishu();
    current = {
      fake,
      client: createFeishuClient({
        appId: fake.appId,
        appSecret: fake.appSecret,
        domain: fake.url,
        log: silentLogger(),
      }),
    };
  });
  afterEach(async () => {
    await current?.fake.close();
    current = undefined;
  });
  return () => {
    if (current === undefined) throw new Error('useFakeFeishuPerTest: only inside a test');
    return current;
  };
}

/** The SDK rethrows axios errors for non-2xx answers; this pulls out what a caller sees. */
export async function sdkFailure(
  promise: Promise<unknown>,
): Promise<{ status: number | undefined; code: unknown; headers: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    const axiosError = error as AxiosError<{ code?: number }>;
    return {
      status: axiosError.response?.status,
      code: axiosError.response?.data?.code,
      headers: { ...(axiosError.response?.headers ?? {}) },
    };
  }
  throw new Error('expected the SDK call to fail');
}

/** Text message content as the API takes it. */
export const text = (value: string) => JSON.stringify({ text: value });

/** A schema 2.0 card in streaming mode with one markdown element `answer`. */
export function streamingCard(initial = '...') {
  return {
    schema: '2.0',
    config: { streaming_mode: true, summary: { content: '[Generating...]' } },
    header: { title: { tag: 'plain_text', content: 'Answer' } },
    body: { elements: [{ tag: 'markdown', element_id: 'answer', content: initial }] },
  };
}
