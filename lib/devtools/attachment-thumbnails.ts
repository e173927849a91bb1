import sharp from 'sharp';

/**
 * Small previews of the images users sent, for the devtools trace: made once per image with
 * sharp (at most `edge` pixels a side, JPEG), kept in memory, bounded by count (oldest dropped),
 * and served only through the authenticated devtools API. The original bytes are never kept.
 *
 * @example
 * const thumbnails = createAttachmentThumbnails();
 * await thumbnails.add('message:om_1', 'img_1', bytes);
 * thumbnails.get('message:om_1', 'img_1'); // { bytes, mediaType: 'image/jpeg' }
 */
export interface AttachmentThumbnails {
  /** Never rejects: an image sharp cannot read simply has no preview. */
  add(traceId: string, key: string, image: Uint8Array): Promise<void>;
  get(traceId: string, key: string): { bytes: Buffer; mediaType: string } | undefined;
}

export function createAttachmentThumbnails({
  maxEntries = 200,
  edge = 240,
  maxInputPixels = 50_000_000,
}: {
  maxEntries?: number;
  edge?: number;
  maxInputPixels?: number;
} = {}): AttachmentThumbnails {
  const entries = new Map<string, Buffer>();
  const id = (traceId: string, key: string) => `${traceId}\n${key}`;
  return {
    async add(traceId, key, image) {
      try {
        const bytes = await sharp(image, { limitInputPixels: maxInputPixels, animated: false })
          .rotate()
          .resize({ width: edge, height: edge, fit: 'inside', withoutEnlargement: true })
          .jpeg({ quality: 70 })
          .toBuffer();
        entries.delete(id(traceId, key));
        entries.set(id(traceId, key), bytes);
        while (entries.size > maxEntries) {
          const oldest = entries.keys().next().value;
          if (oldest === undefined) break;
          entries.delete(oldest);
        }
      } catch {
        // No preview for this one; the trace still names the image.
      }
    },
    get(traceId, key) {
      const bytes = entries.get(id(traceId, key));
      return bytes === undefined ? undefined : { bytes, mediaType: 'image/jpeg' };
    },
  };
}
