import mammoth from 'mammoth';
import { NodeHtmlMarkdown } from 'node-html-markdown';
import { AttachmentError } from './attachment-error.js';
import type { ExtractedSections } from './text-budget.js';

/** Pictures become a visible "[image]" marker: their bytes are never read or inlined as base64. */
const toMarkdown = new NodeHtmlMarkdown({ maxConsecutiveNewlines: 2 }, { img: { content: '[image]', recurse: false } });
const skipImages = mammoth.images.imgElement(async () => ({ src: '' }));

/**
 * A Word `.docx` as Markdown: mammoth turns the document's structure (headings, lists, tables,
 * bold/italic, links) into clean HTML, and node-html-markdown turns that into Markdown with
 * GitHub tables (mammoth's own Markdown output is deprecated and drops tables). Run
 * `assertSafeZip` first: mammoth inflates entries without a size limit.
 *
 * @example
 * const { sections } = await extractDocx(bytes, { name: 'plan.docx' });
 */
export async function extractDocx(bytes: Uint8Array, { name }: { name: string }): Promise<ExtractedSections> {
  let html: string;
  try {
    const result = await mammoth.convertToHtml(
      { buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) },
      { convertImage: skipImages },
    );
    html = result.value;
  } catch (error) {
    throw new AttachmentError({
      code: 'ATTACHMENT_CORRUPT',
      fileName: name,
      reason: 'the Word document is damaged and could not be read',
      cause: error,
    });
  }
  return { unit: 'document', sections: [{ text: toMarkdown.translate(html).trim() }], totalUnits: 1 };
}
