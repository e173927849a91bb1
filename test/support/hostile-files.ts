/**
 * Hostile files built at run time (they would be huge or pointless on disk): zip bombs shaped
 * as Office files, an archive with too many parts, and a PDF that is cheap to send but slow to
 * parse. Real bytes in the real formats, written with node:zlib and the format's own layout.
 */
import { crc32, createDeflateRaw, deflateRawSync } from 'node:zlib';

interface ZipEntry {
  name: string;
  /** Raw-deflated bytes. */
  deflated: Buffer;
  crc: number;
  /** What the headers claim the entry inflates to. */
  declaredSize: number;
}

/** A ZIP with the given deflated entries: local headers, data, central directory, end record. */
export function buildZip(entries: readonly ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt32LE(entry.crc >>> 0, 14);
    local.writeUInt32LE(entry.deflated.byteLength, 18);
    local.writeUInt32LE(entry.declaredSize, 22);
    local.writeUInt16LE(name.byteLength, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(entry.crc >>> 0, 16);
    central.writeUInt32LE(entry.deflated.byteLength, 20);
    central.writeUInt32LE(entry.declaredSize, 24);
    central.writeUInt16LE(name.byteLength, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, entry.deflated);
    centrals.push(central, name);
    offset += local.byteLength + name.byteLength + entry.deflated.byteLength;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.byteLength, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

function entry(name: string, content: string | Buffer): ZipEntry {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return { name, deflated: deflateRawSync(bytes), crc: crc32(bytes), declaredSize: bytes.byteLength };
}

const DOCX_CONTENT_TYPES = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`;
const ROOT_RELS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`;

const deflatedBySize = new Map<number, Promise<{ deflated: Buffer; crc: number }>>();

/**
 * Deflates `bytes` of spaces (valid XML whitespace) as a stream, never holding them: about 1 KB
 * per MB, and ~4 s per GiB, so each size is built once per test file.
 */
function deflatedSpaces(bytes: number): Promise<{ deflated: Buffer; crc: number }> {
  let pending = deflatedBySize.get(bytes);
  if (pending === undefined) {
    pending = deflateSpaces(bytes);
    deflatedBySize.set(bytes, pending);
  }
  return pending;
}

async function deflateSpaces(bytes: number): Promise<{ deflated: Buffer; crc: number }> {
  const chunk = Buffer.alloc(1024 * 1024, 0x20);
  const deflate = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (data: Buffer) => out.push(data));
  const finished = new Promise<void>((resolve, reject) => {
    deflate.once('end', resolve);
    deflate.once('error', reject);
  });
  let crc = 0;
  for (let written = 0; written < bytes; written += chunk.byteLength) {
    const piece = chunk.subarray(0, Math.min(chunk.byteLength, bytes - written));
    crc = crc32(piece, crc);
    if (!deflate.write(piece)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await finished;
  return { deflated: Buffer.concat(out), crc };
}

/**
 * A `.docx`-shaped zip bomb: a real content-types part (so type detection says docx) and a
 * `word/document.xml` of `inflatedBytes` spaces. `honest: false` makes the headers claim the
 * document is 2 KB, the trick that defeats checks of declared sizes alone.
 */
export async function docxZipBomb({
  inflatedBytes = 1024 ** 3,
  honest = true,
}: {
  inflatedBytes?: number;
  honest?: boolean;
} = {}): Promise<Buffer> {
  const { deflated, crc } = await deflatedSpaces(inflatedBytes);
  return buildZip([
    entry('[Content_Types].xml', DOCX_CONTENT_TYPES),
    entry('_rels/.rels', ROOT_RELS),
    { name: 'word/document.xml', deflated, crc, declaredSize: honest ? inflatedBytes : 2048 },
  ]);
}

/** A `.docx`-shaped archive with `parts` tiny entries: cheap to send, costly to list. */
export function docxWithManyParts(parts: number): Buffer {
  const filler = entry('x', 'x');
  return buildZip([
    entry('[Content_Types].xml', DOCX_CONTENT_TYPES),
    entry('_rels/.rels', ROOT_RELS),
    ...Array.from({ length: parts }, (_, index) => ({ ...filler, name: `word/media/part${index}.xml` })),
  ]);
}

/**
 * A valid one-page PDF whose compressed content stream draws `operations` text snippets: a few
 * hundred KB on the wire, seconds of parsing for pdf.js. Offsets in the xref table are exact.
 */
export function slowPdf(operations = 2_000_000): Buffer {
  const content = Buffer.from(`BT /F1 12 Tf 72 712 Td ${'(x) Tj '.repeat(operations)}ET`, 'latin1');
  const stream = deflateRawSync(content);
  // FlateDecode wants a zlib wrapper: two header bytes, the raw stream, an Adler-32 that pdf.js ignores.
  const zlibStream = Buffer.concat([Buffer.from([0x78, 0x9c]), stream, Buffer.alloc(4)]);
  const objects = [
    Buffer.from('<< /Type /Catalog /Pages 2 0 R >>'),
    Buffer.from('<< /Type /Pages /Kids [3 0 R] /Count 1 >>'),
    Buffer.from(
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    ),
    Buffer.concat([
      Buffer.from(`<< /Length ${zlibStream.byteLength} /Filter /FlateDecode >>\nstream\n`),
      zlibStream,
      Buffer.from('\nendstream'),
    ]),
    Buffer.from('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'),
  ];
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n')];
  const offsets: number[] = [];
  let length = parts[0]!.byteLength;
  objects.forEach((body, index) => {
    offsets.push(length);
    const object = Buffer.concat([Buffer.from(`${index + 1} 0 obj\n`), body, Buffer.from('\nendobj\n')]);
    parts.push(object);
    length += object.byteLength;
  });
  const xref = [
    'xref',
    `0 ${objects.length + 1}`,
    '0000000000 65535 f ',
    ...offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n `),
    'trailer',
    `<< /Size ${objects.length + 1} /Root 1 0 R >>`,
    'startxref',
    String(length),
    '%%EOF',
  ].join('\n');
  parts.push(Buffer.from(`${xref}\n`));
  return Buffer.concat(parts);
}
