import { defineFeishuArea, type FeishuRequest } from './core.js';
import { IM_CODES, messageStore } from './message-store.js';
import { fail, type Reply } from './reply.js';

/**
 * Message resources: `GET /open-apis/im/v1/messages/:message_id/resources/:file_key?type=image|file`
 * (the SDK's `im.v1.messageResource.get`), answering the file's bytes with Content-Type,
 * Content-Length and Content-Disposition as Feishu does. Per Feishu's documentation: `type` is
 * required (`image` for images, `file` for files, voice and video); resources of a forwarded
 * bundle or of its members answer 234043; at most 100 MB. Tests seed the bytes, and may make a
 * download stall part-way (a connection that stops sending) to test timeouts.
 */

declare module './core.js' {
  interface FeishuApis {
    'im.messageResource.get': true;
  }
  interface FakeFeishu {
    /** Serves `bytes` as the resource `key` of `messageId` (which must exist: seed or ingest it first). */
    seedResource(resource: SeedResource): void;
    /** How many times each resource was downloaded (by `messageId/key`). */
    resourceDownloads(): Record<string, number>;
  }
}

export interface SeedResource {
  messageId: string;
  key: string;
  bytes: Uint8Array;
  /** Default `application/octet-stream`. */
  contentType?: string;
  /** Sent in Content-Disposition. */
  fileName?: string;
  /** Send this many bytes, then keep the connection open without sending more. */
  stallAfterBytes?: number;
}

export const RESOURCE_CODES = {
  /** Documented: resources of a forwarded bundle, its members or a card cannot be fetched. */
  resourceOfForwardedMessage: 234043,
  /** No resource with this key in the message (the fake's choice of code). */
  resourceNotFound: 234003,
  /** `type` missing or not image/file (the fake's choice; Feishu answers a parameter error). */
  resourceBadType: 234001,
} as const;

const MAX_BYTES = 100 * 1024 * 1024;

export const messageResourcesArea = defineFeishuArea({
  name: 'message-resources',
  codes: RESOURCE_CODES,
  install(core) {
    const messages = core.use(messageStore);
    const resources = new Map<string, SeedResource>();
    const downloads = new Map<string, number>();
    core.onReset(() => {
      resources.clear();
      downloads.clear();
    });

    function getResource({ params, query }: FeishuRequest): Reply {
      if (query.type !== 'image' && query.type !== 'file') {
        return fail(RESOURCE_CODES.resourceBadType, 'type must be image or file');
      }
      const target = messages.lookupTarget(params.message_id);
      if ('status' in target) return target;
      if (target.upperMessageId || target.msgType === 'merge_forward') {
        return fail(RESOURCE_CODES.resourceOfForwardedMessage, 'resources of merge_forward messages are not supported');
      }
      const id = `${target.messageId}/${String(params.file_key)}`;
      const resource = resources.get(id);
      if (!resource) return fail(RESOURCE_CODES.resourceNotFound, `file_key ${String(params.file_key)} not in message`);
      if (resource.bytes.byteLength > MAX_BYTES) return fail(IM_CODES.imInvalidParameter, 'file is larger than 100 MB');
      downloads.set(id, (downloads.get(id) ?? 0) + 1);
      const headers: Record<string, string> = {
        'content-type': resource.contentType ?? 'application/octet-stream',
        'content-length': String(resource.bytes.byteLength),
        ...(resource.fileName
          ? { 'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(resource.fileName)}` }
          : {}),
      };
      if (resource.stallAfterBytes === undefined) return { status: 200, body: resource.bytes, headers };
      const head = resource.bytes.subarray(0, resource.stallAfterBytes);
      // Sends the head, then nothing: the client's own deadline must end the download.
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(head);
        },
      });
      return { status: 200, body, headers };
    }

    core.route({
      api: 'im.messageResource.get',
      method: 'GET',
      path: '/open-apis/im/v1/messages/:message_id/resources/:file_key',
      handle: getResource,
    });

    return {
      seedResource(resource: SeedResource) {
        if (!messages.messages.has(resource.messageId)) {
          throw new Error(`fake-feishu: seedResource for unknown message ${resource.messageId}`);
        }
        resources.set(`${resource.messageId}/${resource.key}`, resource);
      },
      resourceDownloads: () => Object.fromEntries(downloads),
    };
  },
});
