import { fileTypeFromBuffer } from 'file-type';

/** What the bytes turned out to be, and so which reader handles them. */
export type AttachmentKind =
  | 'pdf'
  | 'docx'
  | 'xlsx'
  | 'pptx'
  | 'csv'
  | 'text'
  | 'image'
  | 'audio'
  /** Password-protected Office file (an OLE container holding an EncryptedPackage). */
  | 'encrypted'
  | 'unsupported';

export interface DetectedType {
  kind: AttachmentKind;
  /** The MIME type detected from the bytes (text types from the name hint). */
  mediaType: string;
  /** Canonical extension for the detected type, without a dot. */
  ext: string;
  /** For notices about unsupported files: "a ZIP archive", "a video (mp4)". */
  description: string;
  /** Text kinds: how to decode the bytes. */
  encoding?: 'utf-8' | 'utf-16le' | 'utf-16be' | 'gb18030';
  /** Text kinds: the fence language for code, 'markdown', 'json', or undefined for prose. */
  language?: string;
  /** CSV/TSV: the field delimiter. */
  delimiter?: string;
}

/** Extensions whose text goes to the model inside a fence with this language. */
const CODE_LANGUAGES: Readonly<Record<string, string>> = {
  js: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  jsx: 'jsx',
  ts: 'typescript',
  tsx: 'tsx',
  py: 'python',
  java: 'java',
  kt: 'kotlin',
  go: 'go',
  rs: 'rust',
  c: 'c',
  h: 'c',
  cc: 'cpp',
  cpp: 'cpp',
  hpp: 'cpp',
  cs: 'csharp',
  rb: 'ruby',
  php: 'php',
  swift: 'swift',
  scala: 'scala',
  lua: 'lua',
  r: 'r',
  sh: 'bash',
  bash: 'bash',
  zsh: 'bash',
  ps1: 'powershell',
  sql: 'sql',
  css: 'css',
  scss: 'scss',
  less: 'less',
  html: 'html',
  htm: 'html',
  xml: 'xml',
  svg: 'xml',
  vue: 'vue',
  svelte: 'svelte',
  dart: 'dart',
  yaml: 'yaml',
  yml: 'yaml',
  toml: 'toml',
  ini: 'ini',
  conf: 'ini',
  cfg: 'ini',
  properties: 'properties',
  gradle: 'groovy',
  proto: 'protobuf',
  graphql: 'graphql',
  dockerfile: 'dockerfile',
  makefile: 'makefile',
  diff: 'diff',
  patch: 'diff',
  tex: 'latex',
};
const PROSE_EXTENSIONS = new Set(['txt', 'text', 'log', 'rtf', 'me', 'nfo']);
const MARKDOWN_EXTENSIONS = new Set(['md', 'markdown', 'mdx']);

/** The lower-case extension of a file name ("Dockerfile" and "Makefile" count as their own). */
export function extensionOf(name: string | undefined): string {
  if (name === undefined) return '';
  const base = name.split(/[\\/]/).pop() ?? '';
  const lower = base.toLowerCase();
  if (lower === 'dockerfile' || lower === 'makefile') return lower;
  const dot = lower.lastIndexOf('.');
  return dot <= 0 ? '' : lower.slice(dot + 1);
}

/** Bytes inspected to decide "text or binary": enough for any realistic header or first lines. */
const TEXT_SAMPLE_BYTES = 64 * 1024;

function textEncoding(bytes: Uint8Array, nameExt: string): DetectedType['encoding'] | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  const sample = bytes.subarray(0, TEXT_SAMPLE_BYTES);
  // Text never holds NUL or most C0 controls; binary formats almost always do within 64 KB.
  let controls = 0;
  for (const byte of sample) {
    if (byte === 0) return undefined;
    if (byte < 0x09 || (byte > 0x0d && byte < 0x20 && byte !== 0x1b)) controls += 1;
  }
  if (controls > sample.length / 100) return undefined;
  // `stream: true`: a multi-byte character cut at the sample's end is not an error.
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: sample.length < bytes.length });
    return 'utf-8';
  } catch {
    // Not UTF-8: a CSV or text file saved by Excel or Notepad on Chinese Windows is GB18030/GBK.
  }
  if (nameExt === 'csv' || nameExt === 'tsv' || PROSE_EXTENSIONS.has(nameExt)) {
    try {
      new TextDecoder('gb18030', { fatal: true }).decode(sample, { stream: sample.length < bytes.length });
      return 'gb18030';
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function textType(bytes: Uint8Array, nameExt: string): DetectedType | undefined {
  const encoding = textEncoding(bytes, nameExt);
  if (encoding === undefined) return undefined;
  const base = { encoding, description: 'a text file' };
  if (nameExt === 'csv' || nameExt === 'tsv') {
    return {
      kind: 'csv',
      mediaType: nameExt === 'tsv' ? 'text/tab-separated-values' : 'text/csv',
      ext: nameExt,
      delimiter: nameExt === 'tsv' ? '\t' : ',',
      ...base,
    };
  }
  if (MARKDOWN_EXTENSIONS.has(nameExt))
    return { kind: 'text', mediaType: 'text/markdown', ext: 'md', language: 'markdown', ...base };
  if (nameExt === 'json' || nameExt === 'jsonl' || nameExt === 'ndjson') {
    return { kind: 'text', mediaType: 'application/json', ext: nameExt, language: 'json', ...base };
  }
  const language = CODE_LANGUAGES[nameExt];
  if (language !== undefined) return { kind: 'text', mediaType: 'text/plain', ext: nameExt, language, ...base };
  return { kind: 'text', mediaType: 'text/plain', ext: nameExt === '' ? 'txt' : nameExt, ...base };
}

function isUtf16Text(bytes: Uint8Array): boolean {
  const little = bytes[0] === 0xff && bytes[1] === 0xfe;
  const big = bytes[0] === 0xfe && bytes[1] === 0xff;
  if (!little && !big) return false;
  const sample = bytes.subarray(2, 2 + TEXT_SAMPLE_BYTES);
  try {
    const text = new TextDecoder(little ? 'utf-16le' : 'utf-16be', { fatal: true }).decode(sample, { stream: true });
    // Text has no C0 controls besides whitespace (tab, line breaks, form feed) and escape.
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index);
      if (code < 0x09 || (code > 0x0d && code < 0x20 && code !== 0x1b)) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/** "EncryptedPackage" as the UTF-16LE stream name inside an OLE compound file. */
const ENCRYPTED_PACKAGE = Buffer.from('EncryptedPackage', 'utf16le');

/**
 * Decides what a file is from its bytes (`file-type` magic numbers, and for text a strict
 * decode), never from its name or the sender's Content-Type: a renamed file or a wrong extension
 * cannot route bytes to the wrong parser. The name only refines text: CSV vs prose vs a code
 * language.
 *
 * @example
 * const type = await detectType(bytes, 'report.pdf');
 * if (type.kind === 'pdf') ...
 */
export async function detectType(bytes: Uint8Array, nameHint?: string): Promise<DetectedType> {
  const nameExt = extensionOf(nameHint);
  // A UTF-16 BOM (FF FE) also looks like an MPEG audio frame sync to magic-number sniffing:
  // text that decodes cleanly after its BOM is text.
  if (isUtf16Text(bytes)) return textType(bytes, nameExt)!;
  const detected = await fileTypeFromBuffer(bytes);
  if (detected === undefined) {
    return (
      textType(bytes, nameExt) ?? {
        kind: 'unsupported',
        mediaType: 'application/octet-stream',
        ext: 'bin',
        description: 'a binary file of an unknown format',
      }
    );
  }
  const { ext, mime } = detected;
  const known = { mediaType: mime, ext };
  if (ext === 'pdf') return { kind: 'pdf', description: 'a PDF', ...known };
  if (ext === 'docx' || ext === 'xlsx' || ext === 'pptx') return { kind: ext, description: `a .${ext} file`, ...known };
  if (ext === 'cfb') {
    if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(ENCRYPTED_PACKAGE)) {
      return { kind: 'encrypted', description: 'a password-protected Office file', ...known };
    }
    return { kind: 'unsupported', description: 'an old binary Office file (.doc, .xls or .ppt)', ...known };
  }
  if (mime.startsWith('image/')) return { kind: 'image', description: `an image (${ext})`, ...known };
  if (mime.startsWith('audio/')) return { kind: 'audio', description: `an audio file (${ext})`, ...known };
  if (mime.startsWith('video/')) return { kind: 'unsupported', description: `a video (${ext})`, ...known };
  if (mime.startsWith('text/') || ext === 'xml') {
    return (
      textType(bytes, nameExt === '' ? ext : nameExt) ?? { kind: 'unsupported', description: `a ${ext} file`, ...known }
    );
  }
  if (
    ext === 'zip' ||
    ext === '7z' ||
    ext === 'rar' ||
    ext === 'gz' ||
    ext === 'tar' ||
    ext === 'bz2' ||
    ext === 'xz'
  ) {
    return { kind: 'unsupported', description: `a compressed archive (${ext})`, ...known };
  }
  return { kind: 'unsupported', description: `a .${ext} file`, ...known };
}
