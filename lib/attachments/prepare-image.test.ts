import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { attachmentFailure } from '../../test/support/attachment-fixtures.js';
import { detectType } from './detect-type.js';
import { prepareImage } from './prepare-image.js';

const screenshot = readFileSync(new URL('../../test/fixtures/attachments/screenshot.png', import.meta.url));

/** The screenshot with its IHDR claiming other dimensions (CRC fixed, so it is a valid header). */
function pngClaiming(width: number, height: number): Buffer {
  const png = Buffer.from(screenshot);
  // Signature (8) + length (4) + "IHDR" (4): width and height follow, then the rest, then the CRC.
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)) >>> 0, 29);
  return png;
}

describe('prepareImage', () => {
  it('passes an image within the limits through as the very same bytes', async () => {
    const type = await detectType(screenshot);
    const image = await prepareImage(screenshot, type, { name: 'screenshot.png' });
    expect(image.reencoded).toBe(false);
    expect(image.bytes).toBe(screenshot);
    expect(image).toMatchObject({ mediaType: 'image/png', width: 800, height: 600 });
  });

  it('scales an image over the pixel or edge limit down, keeping its format and aspect', async () => {
    const type = await detectType(screenshot);
    const byPixels = await prepareImage(screenshot, type, { name: 's.png', maxPixels: 120_000 });
    expect(byPixels.reencoded).toBe(true);
    expect(byPixels.width * byPixels.height).toBeLessThanOrEqual(120_000);
    expect(byPixels.width / byPixels.height).toBeCloseTo(800 / 600, 1);
    expect((await sharp(byPixels.bytes).metadata()).format).toBe('png');
    const byEdge = await prepareImage(screenshot, type, { name: 's.png', maxEdge: 400 });
    expect([byEdge.width, byEdge.height]).toEqual([400, 300]);
    expect(byEdge.original).toEqual({ bytes: screenshot.byteLength, width: 800, height: 600, mediaType: 'image/png' });
  });

  it('brings a photo over the byte limit under it', async () => {
    const noise = await sharp(Buffer.from(Array.from({ length: 600 * 400 * 3 }, (_, index) => (index * 7919) % 251)), {
      raw: { width: 600, height: 400, channels: 3 },
    })
      .jpeg({ quality: 95 })
      .toBuffer();
    const limit = Math.floor(noise.byteLength / 3);
    const image = await prepareImage(noise, await detectType(noise), { name: 'photo.jpg', maxBytes: limit });
    expect(image.reencoded).toBe(true);
    expect(image.bytes.byteLength).toBeLessThanOrEqual(limit);
    expect(image.mediaType).toBe('image/jpeg');
  });

  it('converts a format models do not take (TIFF) and refuses one nothing here decodes', async () => {
    const tiff = await sharp(screenshot).tiff().toBuffer();
    const converted = await prepareImage(tiff, await detectType(tiff), { name: 'scan.tiff' });
    expect(converted).toMatchObject({ reencoded: true, mediaType: 'image/png', width: 800, height: 600 });
    // A 1 × 1 24-bit BMP: file header, info header, one padded pixel row.
    const bmp = Buffer.alloc(58);
    bmp.write('BM', 0, 'latin1');
    bmp.writeUInt32LE(58, 2);
    bmp.writeUInt32LE(54, 10);
    bmp.writeUInt32LE(40, 14);
    bmp.writeInt32LE(1, 18);
    bmp.writeInt32LE(1, 22);
    bmp.writeUInt16LE(1, 26);
    bmp.writeUInt16LE(24, 28);
    const type = await detectType(bmp);
    expect(type.kind).toBe('image');
    const error = await attachmentFailure(prepareImage(bmp, type, { name: 'old.bmp' }));
    expect(error.code).toBe('ATTACHMENT_UNSUPPORTED');
    expect(error.notice).toBe('old.bmp: it is a BMP image, which cannot be read; a PNG or JPEG works.');
  });

  it('refuses a decompression bomb from its header, without decoding it', async () => {
    const bomb = pngClaiming(100_000, 100_000);
    expect(bomb.byteLength).toBe(screenshot.byteLength);
    const error = await attachmentFailure(prepareImage(bomb, await detectType(bomb), { name: 'bomb.png' }));
    expect(error.code).toBe('ATTACHMENT_TOO_LARGE');
    expect(error.notice).toBe('bomb.png: the image is 100000 × 100000 pixels, too large to open safely.');
  });

  it('calls a truncated image corrupt when it has to be decoded', async () => {
    const truncated = screenshot.subarray(0, 200);
    const error = await attachmentFailure(
      prepareImage(truncated, await detectType(truncated), { name: 'cut.png', maxEdge: 100 }),
    );
    expect(error.code).toBe('ATTACHMENT_CORRUPT');
  });
});
