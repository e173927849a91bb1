import { AttachmentError } from './attachment-error.js';
import type { DetectedType } from './detect-type.js';
import { extractDocx } from './extract-docx.js';
import { extractPdf, loadPdfjs } from './extract-pdf.js';
import { extractPptx } from './extract-pptx.js';
import { extractCsv, extractXlsx } from './extract-sheet.js';
import { decodeText, extractPlainText } from './extract-text.js';
import { type DocumentUnit, type ExtractedSections, fitToBudget } from './text-budget.js';
import { assertSafeZip, type ZipLimits } from './zip-guard.js';

export interface ExtractDocumentOptions {
  /** Names the file in errors. */
  name: string;
  /** Characters of text the model gets from this file; the rest is cut with a note. */
  maxChars: number;
  zipLimits?: ZipLimits;
}

/** One document as the model reads it. */
export interface ExtractedDocument {
  /** Markdown-ish text, ending with a note when anything was left out. */
  text: string;
  unit: DocumentUnit;
  totalUnits: number;
  includedUnits: number;
  truncated: boolean;
  /** Characters of document text kept (notes excluded). */
  keptChars: number;
}

/** The kinds `extractDocument` reads; images and audio go elsewhere. */
export const DOCUMENT_KINDS = new Set<DetectedType['kind']>(['pdf', 'docx', 'xlsx', 'pptx', 'csv', 'text']);

/**
 * Text for the model from any document kind `detectType` recognises, cut to `maxChars`. Office
 * files pass `assertSafeZip` first. Every failure is an AttachmentError naming the file. This is
 * what the extraction worker runs; call it directly only where blocking the thread is fine.
 *
 * @example
 * const doc = await extractDocument(bytes, await detectType(bytes, name), { name, maxChars: 40_000 });
 */
export async function extractDocument(
  bytes: Uint8Array,
  type: DetectedType,
  { name, maxChars, zipLimits }: ExtractDocumentOptions,
): Promise<ExtractedDocument> {
  let sections: ExtractedSections;
  switch (type.kind) {
    case 'pdf':
      sections = await extractPdf(bytes, { name, maxChars });
      break;
    case 'docx':
      await assertSafeZip(bytes, { name, ...zipLimits });
      sections = await extractDocx(bytes, { name });
      break;
    case 'xlsx':
      await assertSafeZip(bytes, { name, ...zipLimits });
      sections = await extractXlsx(bytes, { name, maxChars });
      break;
    case 'pptx':
      await assertSafeZip(bytes, { name, ...zipLimits });
      sections = extractPptx(bytes, { name, maxChars });
      break;
    case 'csv':
      sections = extractCsv(decodeText(bytes, type.encoding), { name, maxChars, delimiter: type.delimiter });
      break;
    case 'text':
      sections = extractPlainText(bytes, type);
      break;
    case 'encrypted':
      throw new AttachmentError({
        code: 'ATTACHMENT_ENCRYPTED',
        fileName: name,
        reason: 'the Office file is password-protected',
      });
    default:
      throw new AttachmentError({
        code: 'ATTACHMENT_UNSUPPORTED',
        fileName: name,
        reason: `it is ${type.description}, which cannot be read as a document`,
      });
  }
  const fitted = fitToBudget(sections, maxChars);
  return {
    text: fitted.text,
    unit: sections.unit,
    totalUnits: fitted.totalUnits,
    includedUnits: fitted.includedUnits,
    truncated: fitted.truncated,
    keptChars: fitted.keptChars,
  };
}

/** Loads what the parsers load lazily (pdf.js), so a warmed worker reads its first PDF at full speed. */
export async function warmUpExtractors(): Promise<void> {
  await loadPdfjs();
}
