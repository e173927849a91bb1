import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { AttachmentError, formatBytes } from './attachment-error.js';
import type { DetectedType } from './detect-type.js';

export interface ImageLimits {
  /** Largest image sent to the model (OpenAI takes 20 MB per image). */
  maxBytes?: number;
  /** Most pixels sent to the model; larger images are scaled down to fit. */
  maxPixels?: number;
  /** Longest side sent to the model. */
  maxEdge?: number;
  /** Beyond this many pixels an image is refused without decoding it (a decompression bomb). */
  maxDecodePixels?: number;
  /** Decoding and scaling one image. */
  timeoutMs?: number;
}

export const DEFAULT_IMAGE_LIMITS = {
  maxBytes: 20_000_000,
  maxPixels: 33_177_600,
  maxEdge: 8_000,
  maxDecodePixels: 268_402_689,
  timeoutMs: 15_000,
} as const;

export interface PreparedImage {
  /** The original bytes when within the limits (never re-encoded), else the scaled-down image. */
  bytes: Buffer;
  mediaType: string;
  width: number;
  height: number;
  original: { bytes: number; width: number; height: number; mediaType: string };
  /** True when `bytes` is not the original: scaled down or converted to a format models take. */
  reencoded: boolean;
}

/** The formats vision models accept as they are. */
const MODEL_FORMATS: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
};
/** What sharp's prebuilt libvips decodes besides those (HEIC needs a patented codec it lacks). */
const CONVERTIBLE = new Set(['tiff', 'avif', 'heif']);
/** file-type's extensions for everything sharp can open; others (BMP, ICO, PSD, HEIC) are refused unread. */
const DECODABLE_EXTENSIONS = new Set(['png', 'jpg', 'webp', 'gif', 'tif', 'avif']);

/**
 * Checks an image against the model's limits from its header alone (sharp/libvips reads the
 * size without decoding), and hands the original bytes through untouched when it fits. Only an
 * image over a limit, or in a format models do not take (TIFF, AVIF), is decoded and scaled down
 * (EXIF rotation applied, same format where models take it). An image too large to decode safely,
 * one that cannot be brought under the byte limit, or an unknown format is a typed failure.
 *
 * @example
 * const image = await prepareImage(bytes, type, { name: 'screenshot.png' });
 * // image.reencoded === false → image.bytes is bytes
 */
export async function prepareImage(
  bytes: Buffer,
  type: Pick<DetectedType, 'ext' | 'mediaType'>,
  {
    name,
    maxBytes = DEFAULT_IMAGE_LIMITS.maxBytes,
    maxPixels = DEFAULT_IMAGE_LIMITS.maxPixels,
    maxEdge = DEFAULT_IMAGE_LIMITS.maxEdge,
    maxDecodePixels = DEFAULT_IMAGE_LIMITS.maxDecodePixels,
    timeoutMs = DEFAULT_IMAGE_LIMITS.timeoutMs,
  }: { name: string } & ImageLimits,
): Promise<PreparedImage> {
  const corrupt = (cause?: unknown) =>
    new AttachmentError({
      code: 'ATTACHMENT_CORRUPT',
      fileName: name,
      reason: 'the image is damaged and could not be read',
      cause,
    });
  if (!DECODABLE_EXTENSIONS.has(type.ext)) {
    throw new AttachmentError({
      code: 'ATTACHMENT_UNSUPPORTED',
      fileName: name,
      reason: `it is a ${type.ext.toUpperCase()} image, which cannot be read; a PNG or JPEG works`,
    });
  }
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw corrupt(error);
  }
  const { width, height, format } = metadata;
  if (width === undefined || height === undefined || width === 0 || height === 0) throw corrupt();
  const modelType = MODEL_FORMATS[format];
  if (modelType === undefined && !CONVERTIBLE.has(format)) {
    throw new AttachmentError({
      code: 'ATTACHMENT_UNSUPPORTED',
      fileName: name,
      reason: `it is a ${format.toUpperCase()} image, which cannot be read; a PNG or JPEG works`,
    });
  }
  const pixels = width * height;
  if (pixels > maxDecodePixels) {
    throw new AttachmentError({
      code: 'ATTACHMENT_TOO_LARGE',
      fileName: name,
      reason: `the image is ${width} × ${height} pixels, too large to open safely`,
    });
  }
  const original = { bytes: bytes.byteLength, width, height, mediaType: modelType ?? type.mediaType };
  if (
    modelType !== undefined &&
    bytes.byteLength <= maxBytes &&
    pixels <= maxPixels &&
    Math.max(width, height) <= maxEdge
  ) {
    return { bytes, mediaType: modelType, width, height, original, reencoded: false };
  }

  // Over a limit or not a model format: scale to fit, keeping the format where models take it.
  // Lossless PNG for everything but JPEG and WebP, so screenshots stay sharp.
  const outputFormat: 'png' | 'jpeg' | 'webp' = format === 'jpeg' || format === 'webp' ? format : 'png';
  let scale = Math.min(1, Math.sqrt(maxPixels / pixels), maxEdge / Math.max(width, height));
  for (let attempt = 0; attempt < 6; attempt++) {
    const targetWidth = Math.max(1, Math.floor(width * scale));
    const targetHeight = Math.max(1, Math.floor(height * scale));
    // Photos past the byte limit after scaling switch to JPEG, which compresses them far better.
    const encodeAs = attempt >= 2 && !metadata.hasAlpha ? 'jpeg' : outputFormat;
    let output: { data: Buffer; info: OutputInfo };
    try {
      output = await sharp(bytes, { limitInputPixels: maxDecodePixels, animated: false })
        .timeout({ seconds: Math.max(1, Math.ceil(timeoutMs / 1000)) })
        .rotate()
        .resize(targetWidth, targetHeight, { fit: 'inside', withoutEnlargement: true })
        .toFormat(encodeAs, encodeAs === 'png' ? { compressionLevel: 9 } : { quality: 85 })
        .toBuffer({ resolveWithObject: true });
    } catch (error) {
      if (String(error).includes('timeout')) {
        throw new AttachmentError({
          code: 'ATTACHMENT_TIMEOUT',
          fileName: name,
          reason: 'scaling the image down took too long',
          cause: error,
        });
      }
      throw corrupt(error);
    }
    if (output.data.byteLength <= maxBytes) {
      return {
        bytes: output.data,
        mediaType: MODEL_FORMATS[encodeAs]!,
        width: output.info.width,
        height: output.info.height,
        original,
        reencoded: true,
      };
    }
    scale *= 0.7;
  }
  throw new AttachmentError({
    code: 'ATTACHMENT_TOO_LARGE',
    fileName: name,
    reason: `the image could not be brought under the ${formatBytes(maxBytes)} limit`,
  });
}
