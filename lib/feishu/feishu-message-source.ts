import { Readable } from 'node:stream';
import { downloadLarkResource, type LarkResourceResponse } from '../attachments/lark-resource.js';
import type { MessageSource } from '../conversation/message-source.js';
import type { EventBus } from '../observe/event-bus.js';
import { sleep as realSleep, type Sleep } from '../util/sleep.js';
import { callFeishu } from './call-feishu.js';
import type { FeishuClient } from './feishu-client.js';
import { readMessageItem } from './normalise-message.js';
import { type RetryPolicyOptions, resolveRetryPolicy, withRetries } from './reply/retry-policy.js';

export interface FeishuMessageSourceOptions {
  client: FeishuClient;
  bus: EventBus;
  /** The bot's open_id, for mentions in quoted and forwarded messages. */
  botOpenId?: () => string | undefined | Promise<string | undefined>;
  /** One `im.v1.message.get` call. */
  readTimeoutMs?: number;
  /** Retries of transient failures (rate limits, 5xx, network) for both calls. */
  retry?: RetryPolicyOptions;
  sleep?: Sleep;
}

/** Error bodies of a download come back as a stream (the SDK asked for one): read the small JSON. */
async function readErrorBody(thrown: unknown): Promise<void> {
  const response = (thrown as { response?: { data?: unknown } } | null)?.response;
  const data = response?.data;
  if (response === undefined || !(data instanceof Readable)) return;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of data) {
      size += (chunk as Buffer).byteLength;
      if (size > 16_384) break;
      chunks.push(chunk as Buffer);
    }
    response.data = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    response.data = undefined;
  } finally {
    data.destroy();
  }
}

/**
 * Quotes, forwarded bundles and resources read from Feishu through the SDK, under the Feishu
 * call policy: every call goes through `callFeishu` (timed, classified, reported as `feishu.api`
 * for health) and transient failures are retried with back-off (`withRetries`). Members of a
 * forwarded bundle carry no downloadable resources (Feishu answers 234043 for them), so their
 * images, files and voice become `unreadable` parts saying so instead of a failing download.
 *
 * @example
 * const source = createFeishuMessageSource({ client, bus, botOpenId: () => identity.openId });
 * const [quoted] = await source.readMessages('om_parent', { signal });
 */
export function createFeishuMessageSource({
  client,
  bus,
  botOpenId = () => undefined,
  readTimeoutMs = 10_000,
  retry = { initialMs: 300, maxRetries: 2, maxMs: 2_000 },
  sleep = realSleep,
}: FeishuMessageSourceOptions): MessageSource {
  const policy = resolveRetryPolicy(retry);
  return {
    async readMessages(messageId) {
      const body = await withRetries(
        () =>
          callFeishu(bus, 'im.v1.message.get', () => client.im.v1.message.get({ path: { message_id: messageId } }), {
            client,
            timeoutMs: readTimeoutMs,
          }),
        { policy, sleep },
      );
      const openId = await botOpenId();
      return (body.data?.items ?? []).flatMap((item) => {
        const message = readMessageItem(item, { botOpenId: openId });
        if (message === undefined) return [];
        if (message.upperMessageId === undefined) return [message];
        const parts = message.parts.map((part) =>
          part.type === 'image' || part.type === 'file' || part.type === 'audio'
            ? {
                type: 'unreadable' as const,
                what: `${part.type === 'image' ? 'an image' : part.type === 'audio' ? 'a voice message' : `a file${part.name ? ` (${part.name})` : ''}`} inside a forwarded bundle (Feishu does not let bots download those)`,
              }
            : part,
        );
        return [{ ...message, parts }];
      });
    },
    download(part, { name, maxBytes, timeoutMs, signal }) {
      // Voice and video are `file` resources; only pictures are `image`.
      const type = part.type === 'image' ? 'image' : 'file';
      return withRetries(
        () =>
          downloadLarkResource(
            async () => {
              const wrapped = await callFeishu(bus, 'im.v1.messageResource.get', async () => {
                try {
                  const response: LarkResourceResponse = await client.im.v1.messageResource.get({
                    params: { type },
                    path: { message_id: part.messageId, file_key: part.key },
                  });
                  return { code: 0, response };
                } catch (thrown) {
                  await readErrorBody(thrown);
                  throw thrown;
                }
              });
              return wrapped.response;
            },
            { name, maxBytes, timeoutMs, ...(signal === undefined ? {} : { signal }) },
          ),
        { policy, sleep },
      );
    },
  };
}
