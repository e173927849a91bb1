import { describe, expect, it } from 'vitest';
import { attachmentFailure, fixture } from '../../test/support/attachment-fixtures.js';
import { extractPdf } from './extract-pdf.js';

describe('extractPdf', () => {
  it('reads every page of a text PDF in order, Chinese in a standard CJK font included', async () => {
    const { unit, sections, totalUnits } = await extractPdf(fixture('report.pdf'), {
      name: 'report.pdf',
      maxChars: 1_000_000,
    });
    expect(unit).toBe('page');
    expect(totalUnits).toBe(10);
    expect(sections.map((section) => section.heading)).toEqual(
      Array.from({ length: 10 }, (_, index) => `## Page ${index + 1}`),
    );
    for (const [index, section] of sections.entries()) {
      expect(section.text).toContain(`Marker for page ${index + 1}: cobalt-${index + 1}.`);
    }
    expect(sections[2]!.text).toContain('第三页：季度收入增长百分之十二。');
  });

  it('stops reading pages once the budget is passed, but still counts them all', async () => {
    const { sections, totalUnits } = await extractPdf(fixture('report.pdf'), { name: 'report.pdf', maxChars: 3_000 });
    expect(totalUnits).toBe(10);
    expect(sections.length).toBeLessThan(10);
    expect(sections.length).toBeGreaterThanOrEqual(2);
  });

  it('leaves the caller’s bytes usable (pdf.js takes ownership of what it is given)', async () => {
    const bytes = fixture('report.pdf');
    const copy = Buffer.from(bytes);
    await extractPdf(bytes, { name: 'report.pdf', maxChars: 100 });
    expect(bytes.equals(copy)).toBe(true);
  });

  it('names an encrypted, a corrupt and a scanned PDF with their own codes', async () => {
    const encrypted = await attachmentFailure(
      extractPdf(fixture('encrypted.pdf'), { name: 'secret.pdf', maxChars: 1_000 }),
    );
    expect(encrypted.code).toBe('ATTACHMENT_ENCRYPTED');
    expect(encrypted.notice).toBe('secret.pdf: the PDF is password-protected.');
    const corrupt = await attachmentFailure(
      extractPdf(fixture('corrupt.pdf'), { name: 'broken.pdf', maxChars: 1_000 }),
    );
    expect(corrupt.code).toBe('ATTACHMENT_CORRUPT');
    expect(corrupt.notice).toBe('broken.pdf: the PDF is damaged or incomplete and could not be read.');
    const scan = await attachmentFailure(extractPdf(fixture('scan.pdf'), { name: 'scan.pdf', maxChars: 1_000 }));
    expect(scan.code).toBe('ATTACHMENT_UNSUPPORTED');
    expect(scan.reason).toContain('no text layer');
  });
});
