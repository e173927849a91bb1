import type { Readable } from 'node:stream';
import { AttachmentError, formatDuration } from './attachment-error.js';
import { readBounded } from './read-bounded.js';

/**
 * What `client.im.v1.messageResource.get(...)` resolves to (the SDK's own declaration): the
 * response body as a Node stream plus the raw response headers.
 */
export interface LarkResourceResponse {
  getReadableStream: () => Readable;
  headers: unknown;
}

export interface DownloadedResource {
  bytes: Buffer;
  /** Content-Type the server sent; a hint only: the real type is detected from the bytes. */
  contentType: string | undefined;
  /** The file name from Content-Disposition, when the server sent one. */
  fileName: string | undefined;
}

function header(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const getter = (headers as { get?: unknown }).get;
  // axios answers with an AxiosHeaders object (get()) or a plain record, depending on version.
  const value =
    typeof getter === 'function'
      ? (getter as (key: string) => unknown).call(headers, name)
      : (headers as Record<string, unknown>)[name];
  if (Array.isArray(value)) return value.map(String).join(', ');
  return value === undefined || value === null ? undefined : String(value);
}

/** `attachment; filename="a b.pdf"; filename*=UTF-8''%E6%8A%A5.pdf` → the decoded name. */
export function fileNameFromDisposition(disposition: string | undefined): string | undefined {
  if (disposition === undefined) return undefined;
  const extended = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(disposition);
  if (extended?.[2] !== undefined) {
    try {
      return decodeURIComponent(extended[2].trim().replace(/^"|"$/g, ''));
    } catch {
      // A malformed escape: fall back to the plain parameter.
    }
  }
  const plain = /filename\s*=\s*("([^"]*)"|[^;]+)/i.exec(disposition);
  const value = plain?.[2] ?? plain?.[1]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Downloads one Feishu message resource through the SDK call `request` (which has no abort
 * signal of its own), bounded like `readBounded`: one deadline covers waiting for the response
 * headers and reading the body. A response that arrives after the deadline has its stream
 * destroyed at once, so a late answer never holds a socket.
 *
 * @example
 * const resource = await downloadLarkResource(
 *   () => client.im.v1.messageResource.get({ params: { type: 'file' }, path: { message_id, file_key } }),
 *   { name: 'report.pdf', maxBytes: 20_000_000, timeoutMs: 30_000, signal },
 * );
 */
export async function downloadLarkResource(
  request: () => Promise<LarkResourceResponse>,
  {
    name,
    maxBytes,
    timeoutMs,
    signal,
    now = Date.now,
  }: { name: string; maxBytes: number; timeoutMs: number; signal?: AbortSignal; now?: () => number },
): Promise<DownloadedResource> {
  const startedAt = now();
  const timeout = () =>
    new AttachmentError({
      code: 'ATTACHMENT_TIMEOUT',
      fileName: name,
      reason: `the download did not finish within ${formatDuration(timeoutMs)}`,
    });
  const pending = request();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  let response: LarkResourceResponse;
  try {
    response = await new Promise<LarkResourceResponse>((resolve, reject) => {
      timer = setTimeout(() => reject(timeout()), Math.max(0, timeoutMs));
      onAbort = () =>
        reject(
          new AttachmentError({ code: 'ATTACHMENT_ABORTED', fileName: name, reason: 'the download was cancelled' }),
        );
      if (signal?.aborted) onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      pending.then(resolve, reject);
    });
  } catch (error) {
    // The SDK's answer may still come: release its body the moment it does.
    pending.then(
      (late) => late.getReadableStream().destroy(),
      () => undefined,
    );
    throw error;
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
  }
  const declared = Number(header(response.headers, 'content-length'));
  const bytes = await readBounded(response.getReadableStream(), {
    name,
    maxBytes,
    timeoutMs: Math.max(0, timeoutMs - (now() - startedAt)),
    signal,
    declaredBytes: Number.isFinite(declared) ? declared : undefined,
  });
  return {
    bytes,
    contentType: header(response.headers, 'content-type'),
    fileName: fileNameFromDisposition(header(response.headers, 'content-disposition')),
  };
}
