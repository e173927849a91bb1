import { AttachmentError, formatBytes, formatDuration } from './attachment-error.js';

/**
 * Anything that yields bytes: a Node Readable (what the Lark SDK's resource download returns),
 * a web ReadableStream (fetch), or any async iterable of chunks.
 */
export type ByteSource = NodeJS.ReadableStream | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>;

export interface ReadBoundedOptions {
  /** Names the file in errors. */
  name: string;
  /** Hard cap: one byte more and the read stops, the source is destroyed, nothing more is kept. */
  maxBytes: number;
  /** The whole read, first byte to last. */
  timeoutMs: number;
  /** Aborts the read (shutdown, job cancelled): fails with ATTACHMENT_ABORTED, not a notice. */
  signal?: AbortSignal;
  /** Content-Length when the server sent one: over `maxBytes` fails before reading anything. */
  declaredBytes?: number;
}

interface ChunkReader {
  next(): Promise<IteratorResult<Uint8Array | string>>;
  /** Stops the source and frees its socket; never awaited (a stalled source may never settle). */
  cancel(): void;
}

function isWebStream(source: ByteSource): source is ReadableStream<Uint8Array> {
  return typeof (source as ReadableStream<Uint8Array>).getReader === 'function';
}

function isNodeReadable(source: ByteSource): source is NodeJS.ReadableStream & { destroy(error?: Error): void } {
  return (
    typeof (source as { pipe?: unknown }).pipe === 'function' &&
    typeof (source as { destroy?: unknown }).destroy === 'function'
  );
}

function chunkReader(source: ByteSource): ChunkReader {
  if (isWebStream(source)) {
    const reader = source.getReader();
    return {
      next: () => reader.read() as Promise<IteratorResult<Uint8Array>>,
      cancel: () => void reader.cancel().catch(() => undefined),
    };
  }
  const iterator = (source as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]();
  return {
    next: () => iterator.next(),
    cancel: () => {
      // destroy() ends a Node stream at once (and its socket); return() alone would wait for
      // the pending read of a stalled stream. No error is passed: nobody may be listening for it.
      if (isNodeReadable(source)) source.destroy();
      else void iterator.return?.()?.catch(() => undefined);
    },
  };
}

/**
 * Reads a byte stream into one Buffer, never holding more than `maxBytes`, within `timeoutMs`.
 * Fails with ATTACHMENT_TOO_LARGE (declared or counted size over the cap), ATTACHMENT_TIMEOUT,
 * ATTACHMENT_ABORTED (the signal) or ATTACHMENT_DOWNLOAD_FAILED (the stream errored); on every
 * failure the source is cancelled so its connection is released.
 *
 * @example
 * const bytes = await readBounded(response.getReadableStream(), {
 *   name: 'report.pdf', maxBytes: 20_000_000, timeoutMs: 30_000, signal,
 *   declaredBytes: Number(response.headers['content-length']),
 * });
 */
export async function readBounded(
  source: ByteSource,
  { name, maxBytes, timeoutMs, signal, declaredBytes }: ReadBoundedOptions,
): Promise<Buffer> {
  const reader = chunkReader(source);
  const tooLarge = () =>
    new AttachmentError({
      code: 'ATTACHMENT_TOO_LARGE',
      fileName: name,
      reason: `it is larger than the ${formatBytes(maxBytes)} limit`,
    });
  const aborted = () =>
    new AttachmentError({ code: 'ATTACHMENT_ABORTED', fileName: name, reason: 'the download was cancelled' });
  if (declaredBytes !== undefined && Number.isFinite(declaredBytes) && declaredBytes > maxBytes) {
    const error = tooLarge();
    reader.cancel();
    throw error;
  }
  if (signal?.aborted) {
    const error = aborted();
    reader.cancel();
    throw error;
  }

  let stop: ((error: AttachmentError) => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    stop = reject;
  });
  // Never left unhandled: a stop after the last chunk has nobody racing it.
  stopped.catch(() => undefined);
  const timer = setTimeout(
    () =>
      stop?.(
        new AttachmentError({
          code: 'ATTACHMENT_TIMEOUT',
          fileName: name,
          reason: `the download did not finish within ${formatDuration(timeoutMs)}`,
        }),
      ),
    Math.max(0, timeoutMs),
  );
  const onAbort = () => stop?.(aborted());
  signal?.addEventListener('abort', onAbort, { once: true });

  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for (;;) {
      let result: IteratorResult<Uint8Array | string>;
      try {
        result = await Promise.race([reader.next(), stopped]);
      } catch (error) {
        if (AttachmentError.isInstance(error)) throw error;
        throw new AttachmentError({
          code: 'ATTACHMENT_DOWNLOAD_FAILED',
          fileName: name,
          reason: 'the download broke off before the end',
          cause: error,
        });
      }
      if (result.done) break;
      const chunk =
        typeof result.value === 'string'
          ? Buffer.from(result.value)
          : Buffer.from(result.value.buffer, result.value.byteOffset, result.value.byteLength);
      if (total + chunk.byteLength > maxBytes) throw tooLarge();
      chunks.push(chunk);
      total += chunk.byteLength;
    }
  } catch (error) {
    chunks.length = 0;
    reader.cancel();
    throw error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
  return Buffer.concat(chunks, total);
}
