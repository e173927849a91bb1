/**
 * Stable codes for an attachment that could not be read. Notices, health counts and devtools
 * filters use these names; never rename one.
 */
export const ATTACHMENT_ERROR_CODES = [
  /** Over a size cap: the download, the image, or what an archive expands to. */
  'ATTACHMENT_TOO_LARGE',
  /** A download, extraction or transcription did not finish within its time limit. */
  'ATTACHMENT_TIMEOUT',
  /** Password-protected: an encrypted PDF or Office file. */
  'ATTACHMENT_ENCRYPTED',
  /** The bytes claim a format but do not parse as it (truncated, damaged, or built to mislead). */
  'ATTACHMENT_CORRUPT',
  /** A format nothing here reads (an unknown binary, a video, an archive, an old Office file). */
  'ATTACHMENT_UNSUPPORTED',
  /** The byte stream failed before its end (connection reset, server error mid-body). */
  'ATTACHMENT_DOWNLOAD_FAILED',
  /** The speech-to-text endpoint failed or answered nothing usable. */
  'ATTACHMENT_TRANSCRIPTION_FAILED',
  /** Too many extractions already waiting; try again later. */
  'ATTACHMENT_BUSY',
  /** The caller's signal aborted (shutdown, job cancelled): not the file's fault, so no notice. */
  'ATTACHMENT_ABORTED',
] as const;

export type AttachmentErrorCode = (typeof ATTACHMENT_ERROR_CODES)[number];

const MARKER = Symbol.for('feishu-bot.AttachmentError');

/**
 * Why one attachment could not be resolved, with a short human reason that names no internals,
 * so `notice` can be shown to the person who sent the file as it is.
 *
 * Recognise it with `AttachmentError.isInstance(error)` (works across module copies and worker
 * boundaries once rebuilt with `fromJSON`), then branch on `code`.
 *
 * @example
 * throw new AttachmentError({ code: 'ATTACHMENT_ENCRYPTED', fileName: 'q3.pdf', reason: 'it is password-protected' });
 * // notice: "q3.pdf: it is password-protected."
 */
export class AttachmentError extends Error {
  readonly [MARKER] = true;
  override readonly name = 'AttachmentError';
  readonly code: AttachmentErrorCode;
  /** The file's name as the user sent it (or a description such as "voice message"). */
  readonly fileName: string;
  /** Lower-case clause without the file name, e.g. "it is password-protected". */
  readonly reason: string;

  constructor({
    code,
    fileName,
    reason,
    cause,
  }: {
    code: AttachmentErrorCode;
    fileName: string;
    reason: string;
    cause?: unknown;
  }) {
    super(`${code}: ${fileName}: ${reason}`, { cause });
    this.code = code;
    this.fileName = fileName;
    this.reason = reason;
  }

  /** What the user sees: the file named, then why. */
  get notice(): string {
    return `${this.fileName}: ${this.reason}.`;
  }

  static isInstance(error: unknown): error is AttachmentError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }

  /** A plain object that survives `postMessage` (class instances lose their prototype there). */
  toJSON(): AttachmentErrorJson {
    return { code: this.code, fileName: this.fileName, reason: this.reason };
  }

  static fromJSON(json: AttachmentErrorJson): AttachmentError {
    return new AttachmentError(json);
  }
}

export interface AttachmentErrorJson {
  code: AttachmentErrorCode;
  fileName: string;
  reason: string;
}

/** Human units for reasons: "20 MB", "512 KB". Decimal, as people read file sizes. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1_000_000) return `${Number((bytes / 1_000_000).toFixed(1))} MB`;
  if (bytes >= 1_000) return `${Number((bytes / 1_000).toFixed(1))} KB`;
  return `${bytes} bytes`;
}

/** "30 s", "1.5 s", "200 ms". */
export function formatDuration(ms: number): string {
  return ms >= 1_000 ? `${Number((ms / 1_000).toFixed(1))} s` : `${ms} ms`;
}
