import type { DownloadedResource } from '../attachments/lark-resource.js';
import type { AttachmentPart, RelatedMessage } from './message-parts.js';

/**
 * Where the job reads what a message refers to: the platform's messages (a quote, a forwarded
 * bundle) and resources (images, files, voice). The Feishu implementation is
 * lib/feishu/feishu-message-source.ts; tests may pass their own.
 */
export interface MessageSource {
  /**
   * The message, and for a forwarded bundle its members after it (flattened in order, each with
   * `upperMessageId`). Throws the platform's error when it cannot be read.
   */
  readMessages(messageId: string, options: { signal?: AbortSignal }): Promise<RelatedMessage[]>;
  /**
   * Downloads one resource within `maxBytes` and `timeoutMs` (an AttachmentError when over
   * either); retries transient platform failures and throws the platform's error otherwise.
   */
  download(
    part: AttachmentPart,
    options: { name: string; maxBytes: number; timeoutMs: number; signal?: AbortSignal },
  ): Promise<DownloadedResource>;
}
