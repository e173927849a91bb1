import { posix } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { unzipSync } from 'fflate';
import { AttachmentError } from './attachment-error.js';
import { renderTable } from './markdown-table.js';
import type { DocumentSection, ExtractedSections } from './text-budget.js';

/** fast-xml-parser's ordered form: each node is `{ tag: children[], ':@'?: attributes }` or `{ '#text': value }`. */
type XmlNode = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: false,
});

function tagOf(node: XmlNode): string | undefined {
  return Object.keys(node).find((key) => key !== ':@' && key !== '#text');
}

function childrenOf(node: XmlNode): XmlNode[] {
  const tag = tagOf(node);
  const children = tag === undefined ? undefined : node[tag];
  return Array.isArray(children) ? (children as XmlNode[]) : [];
}

function attributesOf(node: XmlNode): Record<string, string> {
  return (node[':@'] as Record<string, string> | undefined) ?? {};
}

function findAll(nodes: readonly XmlNode[], tag: string, found: XmlNode[] = []): XmlNode[] {
  for (const node of nodes) {
    if (tagOf(node) === tag) found.push(node);
    else findAll(childrenOf(node), tag, found);
  }
  return found;
}

/** The text of one DrawingML paragraph: its runs in order, `a:br` as a line break, fields skipped. */
function paragraphText(paragraph: XmlNode): string {
  let text = '';
  const visit = (nodes: readonly XmlNode[]) => {
    for (const node of nodes) {
      const tag = tagOf(node);
      if (tag === 'a:t')
        text += childrenOf(node)
          .map((child) => String(child['#text'] ?? ''))
          .join('');
      else if (tag === 'a:br') text += '\n';
      else if (tag !== 'a:fld') visit(childrenOf(node));
    }
  };
  visit(childrenOf(paragraph));
  return text;
}

/** Shapes' paragraphs as lines and tables as Markdown tables, in the order the slide lists them. */
function shapesText(nodes: readonly XmlNode[]): string {
  const blocks: string[] = [];
  const visit = (list: readonly XmlNode[]) => {
    for (const node of list) {
      const tag = tagOf(node);
      if (tag === 'a:tbl') {
        const rows = findAll(childrenOf(node), 'a:tr').map((row) =>
          findAll(childrenOf(row), 'a:tc').map((cell) =>
            findAll(childrenOf(cell), 'a:p').map(paragraphText).join(' ').trim(),
          ),
        );
        blocks.push(renderTable(rows, { maxChars: Number.POSITIVE_INFINITY }).text);
      } else if (tag === 'a:p') {
        const line = paragraphText(node).trim();
        if (line !== '') blocks.push(line);
      } else {
        visit(childrenOf(node));
      }
    }
  };
  visit(nodes);
  return blocks.join('\n');
}

function relationships(xml: Uint8Array | undefined): Map<string, { target: string; type: string }> {
  const map = new Map<string, { target: string; type: string }>();
  if (xml === undefined) return map;
  for (const node of findAll(parser.parse(Buffer.from(xml).toString('utf8')) as XmlNode[], 'Relationship')) {
    const { Id, Target, Type } = attributesOf(node);
    if (Id !== undefined && Target !== undefined) map.set(Id, { target: Target, type: Type ?? '' });
  }
  return map;
}

const WANTED =
  /^ppt\/(presentation\.xml|_rels\/presentation\.xml\.rels|slides\/slide\d+\.xml|slides\/_rels\/slide\d+\.xml\.rels|notesSlides\/notesSlide\d+\.xml)$/;

/**
 * A PowerPoint `.pptx` slide by slide, in presentation order, with the speaker notes: fflate
 * unzips only the slide parts and fast-xml-parser reads their DrawingML, taking text runs and
 * tables (no Office library reads pptx text on Node 20 without pulling in OCR and a second PDF
 * engine). Stops parsing slides once `maxChars` is collected. Run `assertSafeZip` first.
 *
 * @example
 * const { sections, totalUnits } = extractPptx(bytes, { name: 'deck.pptx', maxChars: 40_000 });
 */
export function extractPptx(
  bytes: Uint8Array,
  { name, maxChars }: { name: string; maxChars: number },
): ExtractedSections {
  const corrupt = (cause?: unknown) =>
    new AttachmentError({
      code: 'ATTACHMENT_CORRUPT',
      fileName: name,
      reason: 'the presentation is damaged and could not be read',
      cause,
    });
  let parts: Record<string, Uint8Array>;
  try {
    parts = unzipSync(bytes, { filter: (file) => WANTED.test(file.name) });
  } catch (error) {
    throw corrupt(error);
  }
  const presentation = parts['ppt/presentation.xml'];
  if (presentation === undefined) throw corrupt();
  try {
    const presentationRels = relationships(parts['ppt/_rels/presentation.xml.rels']);
    const slideIds = findAll(parser.parse(Buffer.from(presentation).toString('utf8')) as XmlNode[], 'p:sldId');
    const slidePaths = slideIds
      .map((node) => presentationRels.get(attributesOf(node)['r:id'] ?? '')?.target)
      .filter((target): target is string => target !== undefined)
      .map((target) => posix.normalize(posix.join('ppt', target)));
    const sections: DocumentSection[] = [];
    let collected = 0;
    for (const [index, path] of slidePaths.entries()) {
      if (collected > maxChars) break;
      const xml = parts[path];
      const text = xml === undefined ? '' : shapesText(parser.parse(Buffer.from(xml).toString('utf8')) as XmlNode[]);
      const rels = relationships(parts[path.replace(/slides\/(slide\d+\.xml)$/, 'slides/_rels/$1.rels')]);
      const notesTarget = [...rels.values()].find((rel) => rel.type.endsWith('/notesSlide'))?.target;
      const notesXml =
        notesTarget === undefined ? undefined : parts[posix.normalize(posix.join(posix.dirname(path), notesTarget))];
      const notes =
        notesXml === undefined ? '' : shapesText(parser.parse(Buffer.from(notesXml).toString('utf8')) as XmlNode[]);
      const body = [text, notes === '' ? '' : `Speaker notes: ${notes}`].filter((part) => part !== '').join('\n\n');
      sections.push({ heading: `## Slide ${index + 1}`, text: body === '' ? '(no text)' : body });
      collected += body.length;
    }
    return { unit: 'slide', sections, totalUnits: slidePaths.length };
  } catch (error) {
    throw AttachmentError.isInstance(error) ? error : corrupt(error);
  }
}
