import { describe, expect, it } from 'vitest';
import { attachmentFailure, fixture } from '../../test/support/attachment-fixtures.js';
import { docxWithManyParts, docxZipBomb } from '../../test/support/hostile-files.js';
import { assertSafeZip } from './zip-guard.js';

describe('assertSafeZip', () => {
  it('passes real Office files and reports what they unpack to', async () => {
    for (const name of ['plan.docx', 'budget.xlsx', 'deck.pptx']) {
      const result = await assertSafeZip(fixture(name), { name });
      expect(result.entries).toBeGreaterThan(3);
      expect(result.unzippedBytes).toBeGreaterThan(fixture(name).byteLength);
    }
  });

  it('refuses a 1 MB file that declares 1 GiB before inflating anything', async () => {
    const bomb = await docxZipBomb({ inflatedBytes: 1024 ** 3 });
    expect(bomb.byteLength).toBeLessThan(2_000_000);
    const error = await attachmentFailure(assertSafeZip(bomb, { name: 'bomb.docx' }));
    expect(error.code).toBe('ATTACHMENT_TOO_LARGE');
    expect(error.notice).toBe('bomb.docx: it would unpack to 1073.7 MB, more than the 200 MB limit (a zip bomb?).');
  });

  it('catches a bomb whose headers lie about its size as soon as an entry overruns', async () => {
    const bomb = await docxZipBomb({ inflatedBytes: 1024 ** 3, honest: false });
    const error = await attachmentFailure(assertSafeZip(bomb, { name: 'liar.docx' }));
    expect(error.code).toBe('ATTACHMENT_CORRUPT');
    expect(error.notice).toBe('liar.docx: the file is damaged: its contents do not unpack as they should.');
  });

  it('refuses an archive with more parts than allowed', async () => {
    const error = await attachmentFailure(
      assertSafeZip(docxWithManyParts(2_000), { name: 'many.docx', maxEntries: 1_000 }),
    );
    expect(error.code).toBe('ATTACHMENT_TOO_LARGE');
    expect(error.reason).toBe('it holds 2,002 parts, more than the 1,000 allowed');
  });

  it('calls bytes that are not a zip corrupt', async () => {
    expect(
      (await attachmentFailure(assertSafeZip(fixture('plan.docx').subarray(0, 3_000), { name: 'cut.docx' }))).code,
    ).toBe('ATTACHMENT_CORRUPT');
  });
});
