import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { AttachmentError, formatBytes } from './attachment-error.js';

export interface ZipLimits {
  /** What all entries together may expand to. */
  maxUnzippedBytes?: number;
  /** How many entries the archive may hold. */
  maxEntries?: number;
}

export const DEFAULT_ZIP_LIMITS = { maxUnzippedBytes: 200_000_000, maxEntries: 10_000 } as const;

function corrupt(name: string, cause?: unknown): AttachmentError {
  return new AttachmentError({
    code: 'ATTACHMENT_CORRUPT',
    fileName: name,
    reason: 'the file is damaged: its contents do not unpack as they should',
    cause,
  });
}

function readEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on('entry', (entry: yauzl.Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', reject);
    zip.readEntry();
  });
}

/** Inflates one entry into nothing, only counting; yauzl fails it when it exceeds its declared size. */
async function drain(stream: Readable): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream) bytes += (chunk as Buffer).byteLength;
  return bytes;
}

/**
 * Proves that an Office file (a ZIP) is safe to hand to a parser before any parser sees it: the
 * entry count and the sizes the central directory declares stay under the limits (checked
 * before anything is inflated), and every entry really inflates to no more than it declares
 * (checked by inflating it as a stream and throwing the bytes away, so memory stays flat).
 * The parsers (mammoth's JSZip, read-excel-file's fflate) read entries through the same central
 * directory, so together this bounds what they can inflate. A classic zip bomb fails with
 * ATTACHMENT_TOO_LARGE before any work; one whose sizes lie fails with ATTACHMENT_CORRUPT after
 * at most its declared total.
 *
 * @example
 * await assertSafeZip(bytes, { name: 'plan.docx', maxUnzippedBytes: 200_000_000 });
 */
export async function assertSafeZip(
  bytes: Uint8Array,
  {
    name,
    maxUnzippedBytes = DEFAULT_ZIP_LIMITS.maxUnzippedBytes,
    maxEntries = DEFAULT_ZIP_LIMITS.maxEntries,
  }: { name: string } & ZipLimits,
): Promise<{ entries: number; unzippedBytes: number }> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.fromBufferPromise(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
      lazyEntries: true,
      // Closed in `finally` whatever happens; auto-close would close it a second time.
      autoClose: false,
      validateEntrySizes: true,
      decodeStrings: true,
      strictFileNames: false,
    });
  } catch (error) {
    throw corrupt(name, error);
  }
  try {
    if (zip.entryCount > maxEntries) {
      throw new AttachmentError({
        code: 'ATTACHMENT_TOO_LARGE',
        fileName: name,
        reason: `it holds ${zip.entryCount.toLocaleString('en')} parts, more than the ${maxEntries.toLocaleString('en')} allowed`,
      });
    }
    let entries: yauzl.Entry[];
    try {
      entries = await readEntries(zip);
    } catch (error) {
      throw corrupt(name, error);
    }
    let declared = 0;
    for (const entry of entries) {
      if (entry.isEncrypted()) {
        throw new AttachmentError({
          code: 'ATTACHMENT_ENCRYPTED',
          fileName: name,
          reason: 'its contents are password-protected',
        });
      }
      declared += entry.uncompressedSize;
    }
    if (declared > maxUnzippedBytes) {
      throw new AttachmentError({
        code: 'ATTACHMENT_TOO_LARGE',
        fileName: name,
        reason: `it would unpack to ${formatBytes(declared)}, more than the ${formatBytes(maxUnzippedBytes)} limit (a zip bomb?)`,
      });
    }
    let inflated = 0;
    for (const entry of entries) {
      try {
        inflated += await drain(await zip.openReadStreamPromise(entry));
      } catch (error) {
        throw corrupt(name, error);
      }
    }
    return { entries: entries.length, unzippedBytes: inflated };
  } finally {
    zip.close();
  }
}
