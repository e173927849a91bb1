import { describe, expect, it } from 'vitest';
import { AttachmentError, formatBytes, formatDuration } from './attachment-error.js';

describe('AttachmentError', () => {
  it('names the file in its notice and survives a trip through JSON (as from a worker)', () => {
    const error = new AttachmentError({
      code: 'ATTACHMENT_ENCRYPTED',
      fileName: 'q3.pdf',
      reason: 'it is password-protected',
    });
    expect(error.notice).toBe('q3.pdf: it is password-protected.');
    expect(error.message).toBe('ATTACHMENT_ENCRYPTED: q3.pdf: it is password-protected');
    const rebuilt = AttachmentError.fromJSON(JSON.parse(JSON.stringify(error)));
    expect(AttachmentError.isInstance(rebuilt)).toBe(true);
    expect(rebuilt.notice).toBe(error.notice);
    expect(AttachmentError.isInstance(new Error('x'))).toBe(false);
    expect(AttachmentError.isInstance({ code: 'ATTACHMENT_ENCRYPTED' })).toBe(false);
  });

  it('formats sizes and durations the way people read them', () => {
    expect(formatBytes(20_000_000)).toBe('20 MB');
    expect(formatBytes(1_500)).toBe('1.5 KB');
    expect(formatBytes(12)).toBe('12 bytes');
    expect(formatDuration(1_500)).toBe('1.5 s');
    expect(formatDuration(200)).toBe('200 ms');
  });
});
