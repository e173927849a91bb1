import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { fixture } from '../../test/support/attachment-fixtures.js';
import { createAttachmentThumbnails } from './attachment-thumbnails.js';

describe('createAttachmentThumbnails', () => {
  it('keeps a small JPEG preview per trace and key, never the original', async () => {
    const thumbnails = createAttachmentThumbnails({ edge: 100 });
    const png = fixture('screenshot.png');
    await thumbnails.add('t1', 'img_1', png);
    const preview = thumbnails.get('t1', 'img_1');
    expect(preview?.mediaType).toBe('image/jpeg');
    const meta = await sharp(preview?.bytes).metadata();
    expect(meta.format).toBe('jpeg');
    expect(Math.max(meta.width ?? 0, meta.height ?? 0)).toBe(100);
    expect(thumbnails.get('t2', 'img_1')).toBeUndefined();
  });

  it('is bounded by count, oldest first, and ignores bytes that are not an image', async () => {
    const thumbnails = createAttachmentThumbnails({ maxEntries: 2 });
    const png = fixture('screenshot.png');
    await thumbnails.add('t', 'a', png);
    await thumbnails.add('t', 'b', png);
    await thumbnails.add('t', 'c', png);
    await thumbnails.add('t', 'd', Buffer.from('not an image'));
    expect(thumbnails.get('t', 'a')).toBeUndefined();
    expect(thumbnails.get('t', 'b')).toBeDefined();
    expect(thumbnails.get('t', 'c')).toBeDefined();
    expect(thumbnails.get('t', 'd')).toBeUndefined();
  });
});
