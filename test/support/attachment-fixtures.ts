/**
 * Shared pieces of the attachment tests: the committed fixture files and a way to await the
 * AttachmentError a call must fail with.
 *
 * @example
 * const error = await attachmentFailure(extractPdf(fixture('encrypted.pdf'), { name, maxChars }));
 * expect(error.code).toBe('ATTACHMENT_ENCRYPTED');
 */
import { readFileSync } from 'node:fs';
import { AttachmentError } from '../../lib/attachments/attachment-error.js';

/** A file from test/fixtures/attachments (made by its make-fixtures.sh). */
export function fixture(name: string): Buffer {
  return readFileSync(new URL(`../fixtures/attachments/${name}`, import.meta.url));
}

/** The AttachmentError `promise` rejects with; anything else (a value, another error) fails the test. */
export async function attachmentFailure(promise: Promise<unknown>): Promise<AttachmentError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!AttachmentError.isInstance(error)) throw new Error(`expected an AttachmentError, got ${String(error)}`);
  return error;
}
