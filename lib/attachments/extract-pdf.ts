import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { getDocumentProxy, getResolvedPDFJS } from 'unpdf';
import { AttachmentError } from './attachment-error.js';
import type { DocumentSection, ExtractedSections } from './text-budget.js';

/**
 * unpdf bundles pdf.js's code but not its data files. Without the CMaps, text in PDFs that use
 * the standard Chinese/Japanese/Korean fonts without embedding them (common in PDFs made in
 * China) comes out empty; the data ships with pdfjs-dist, read from disk by pdf.js itself (only
 * for such fonts). The standard font programs are left out on purpose: text extraction does not
 * need glyph outlines, and loading them cost a third of a 10-page extraction.
 */
const pdfjsData = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
const CMAP_DIRECTORY = `${join(pdfjsData, 'cmaps')}/`;

/** pdf.js itself is imported on first use; this loads it ahead of the first PDF. */
export async function loadPdfjs(): Promise<void> {
  await getResolvedPDFJS();
}

interface TextItemLike {
  str?: string;
  hasEOL?: boolean;
}

/** pdf.js names its errors; the class names are its public contract. */
function pdfFailure(error: unknown, name: string): AttachmentError {
  const kind = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  if (kind === 'PasswordException') {
    return new AttachmentError({
      code: 'ATTACHMENT_ENCRYPTED',
      fileName: name,
      reason: 'the PDF is password-protected',
      cause: error,
    });
  }
  return new AttachmentError({
    code: 'ATTACHMENT_CORRUPT',
    fileName: name,
    reason: 'the PDF is damaged or incomplete and could not be read',
    cause: error,
  });
}

/**
 * The text layer of a PDF, page by page, through unpdf (pdf.js packaged for servers, no canvas
 * or worker of its own). Reading stops once `maxChars` of text is collected: later pages are
 * only counted. A PDF without any text (a scan) is ATTACHMENT_UNSUPPORTED: there is nothing to
 * read without OCR.
 *
 * @example
 * const { sections, totalUnits } = await extractPdf(bytes, { name: 'q3.pdf', maxChars: 40_000 });
 */
export async function extractPdf(
  bytes: Uint8Array,
  { name, maxChars }: { name: string; maxChars: number },
): Promise<ExtractedSections> {
  let document: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // pdf.js takes ownership of the array it is given: hand it a copy, the caller keeps its bytes.
    document = await getDocumentProxy(new Uint8Array(bytes), {
      verbosity: 0,
      cMapUrl: CMAP_DIRECTORY,
      cMapPacked: true,
      isEvalSupported: false,
      disableFontFace: true,
      useSystemFonts: false,
      stopAtErrors: false,
    });
  } catch (error) {
    throw pdfFailure(error, name);
  }
  try {
    const sections: DocumentSection[] = [];
    let collected = 0;
    let anyText = false;
    for (let pageNumber = 1; pageNumber <= document.numPages && collected <= maxChars; pageNumber++) {
      const page = await document.getPage(pageNumber);
      const content = await page.getTextContent();
      const text = (content.items as TextItemLike[])
        .map((item) => `${item.str ?? ''}${item.hasEOL ? '\n' : ''}`)
        .join('')
        .replace(/[ \t]+\n/g, '\n')
        .trim();
      page.cleanup();
      anyText ||= text !== '';
      sections.push({ heading: `## Page ${pageNumber}`, text });
      collected += text.length;
    }
    if (!anyText && sections.length === document.numPages) {
      throw new AttachmentError({
        code: 'ATTACHMENT_UNSUPPORTED',
        fileName: name,
        reason: 'the PDF has no text layer (a scan?), and scanned pages cannot be read',
      });
    }
    return { unit: 'page', sections, totalUnits: document.numPages };
  } catch (error) {
    throw AttachmentError.isInstance(error) ? error : pdfFailure(error, name);
  } finally {
    await document.destroy();
  }
}
