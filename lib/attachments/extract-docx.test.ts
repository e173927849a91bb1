import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AttachmentError } from './attachment-error.js';
import { extractDocx } from './extract-docx.js';

const plan = readFileSync(new URL('../../test/fixtures/attachments/plan.docx', import.meta.url));

describe('extractDocx', () => {
  it('turns headings, emphasis, lists and tables into Markdown', async () => {
    const { unit, sections } = await extractDocx(plan, { name: 'plan.docx' });
    expect(unit).toBe('document');
    const text = sections[0]!.text;
    expect(text).toContain('# Launch plan');
    expect(text).toContain('The launch date is **14 March**');
    expect(text).toContain('## Tasks');
    expect(text).toMatch(/\* Finish the pricing page/);
    expect(text).toMatch(/\| Owner +\| Task +\| Due +\|/);
    expect(text).toMatch(/\| Li Wei +\| Pricing page +\| 3 March +\|/);
    expect(text).toContain('第二季度目标：用户增长百分之二十。');
  });

  it('reports a truncated document as corrupt, naming the file', async () => {
    const error = await extractDocx(plan.subarray(0, plan.byteLength / 2), { name: 'half.docx' }).catch(
      (caught: unknown) => caught,
    );
    expect(AttachmentError.isInstance(error) && error.notice).toBe(
      'half.docx: the Word document is damaged and could not be read.',
    );
  });
});
