import { AttachmentError, type AttachmentErrorCode, formatBytes } from './attachment-error.js';
import { detectType } from './detect-type.js';
import { DOCUMENT_KINDS, type ExtractedDocument } from './extract-document.js';
import type { ExtractionPool } from './extraction-pool.js';
import { type ImageLimits, type PreparedImage, prepareImage } from './prepare-image.js';
import type { Transcript, VoiceTranscriber } from './transcribe-voice.js';
import type { ZipLimits } from './zip-guard.js';

/** One downloaded attachment, as the message model hands it over. */
export interface AttachmentInput {
  /** What the platform said it is; the bytes decide what it really is. */
  kind: 'file' | 'image' | 'audio';
  /** The file name as sent; voice messages and images often have none. */
  name?: string;
  bytes: Buffer;
}

interface Resolved {
  /** The name used in notices: the file name, or "the image" / "the voice message". */
  name: string;
  sizeBytes: number;
  /** Detected from the bytes. */
  mediaType: string;
  elapsedMs: number;
}

/** What reaches the model for one attachment: text, an image, a transcript, or a notice saying why not. */
export type ResolvedAttachment =
  | (Resolved & { kind: 'document'; document: ExtractedDocument })
  | (Resolved & { kind: 'image'; image: PreparedImage })
  | (Resolved & { kind: 'transcript'; transcript: Transcript })
  | (Resolved & { kind: 'notice'; code: AttachmentErrorCode; notice: string });

export interface AttachmentResolverOptions {
  extraction: ExtractionPool;
  /** Without one, voice messages get a notice. */
  transcriber?: VoiceTranscriber;
  /** Per-file cap (the download should already have enforced it). */
  maxBytes?: number;
  /** Characters of text per document. */
  maxChars?: number;
  image?: ImageLimits;
  zip?: ZipLimits;
  now?: () => number;
}

export interface AttachmentResolver {
  /**
   * Never rejects for a bad file: every AttachmentError becomes a `notice`. It rejects with
   * ATTACHMENT_ABORTED when `signal` aborts (the job is being handed back) and passes any other
   * error through (a crashed worker: the job's retry policy decides).
   */
  resolve(input: AttachmentInput, options?: { signal?: AbortSignal }): Promise<ResolvedAttachment>;
}

function displayName(input: AttachmentInput): string {
  if (input.name !== undefined && input.name.trim() !== '') return input.name.trim();
  return input.kind === 'audio' ? 'the voice message' : input.kind === 'image' ? 'the image' : 'the file';
}

/**
 * The one place an attachment's bytes become something the model can read: the type is
 * detected from the bytes, then documents are extracted in the worker pool, images checked
 * (and scaled only when over a limit), voice transcribed. Each result carries its size, type
 * and time taken for the trace.
 *
 * @example
 * const resolver = createAttachmentResolver({ extraction: createExtractionPool(), transcriber });
 * const part = await resolver.resolve({ kind: 'file', name: 'q3.pdf', bytes }, { signal });
 * if (part.kind === 'notice') reply(part.notice);
 */
export function createAttachmentResolver({
  extraction,
  transcriber,
  maxBytes = 20_000_000,
  maxChars = 40_000,
  image = {},
  zip = {},
  now = () => performance.now(),
}: AttachmentResolverOptions): AttachmentResolver {
  return {
    async resolve(input, { signal } = {}) {
      const startedAt = now();
      const name = displayName(input);
      const base = { name, sizeBytes: input.bytes.byteLength };
      let mediaType = 'application/octet-stream';
      try {
        if (input.bytes.byteLength > maxBytes) {
          throw new AttachmentError({
            code: 'ATTACHMENT_TOO_LARGE',
            fileName: name,
            reason: `it is larger than the ${formatBytes(maxBytes)} limit`,
          });
        }
        const type = await detectType(input.bytes, input.name);
        mediaType = type.mediaType;
        const done = { ...base, mediaType };
        if (type.kind === 'image') {
          const prepared = await prepareImage(input.bytes, type, { name, ...image });
          return { ...done, kind: 'image', image: prepared, elapsedMs: now() - startedAt };
        }
        if (type.kind === 'audio') {
          if (transcriber === undefined) {
            throw new AttachmentError({
              code: 'ATTACHMENT_UNSUPPORTED',
              fileName: name,
              reason: 'voice messages cannot be listened to here: no speech-to-text model is configured',
            });
          }
          const transcript = await transcriber.transcribe({ bytes: input.bytes, name, signal });
          return { ...done, kind: 'transcript', transcript, elapsedMs: now() - startedAt };
        }
        if (DOCUMENT_KINDS.has(type.kind) || type.kind === 'encrypted') {
          const document = await extraction.extract(input.bytes, type, { name, maxChars, zipLimits: zip, signal });
          return { ...done, kind: 'document', document, elapsedMs: now() - startedAt };
        }
        throw new AttachmentError({
          code: 'ATTACHMENT_UNSUPPORTED',
          fileName: name,
          reason: `it is ${type.description}, which cannot be read`,
        });
      } catch (error) {
        if (!AttachmentError.isInstance(error) || error.code === 'ATTACHMENT_ABORTED') throw error;
        return {
          ...base,
          mediaType,
          kind: 'notice',
          code: error.code,
          notice: error.notice,
          elapsedMs: now() - startedAt,
        };
      }
    },
  };
}
