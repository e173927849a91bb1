/**
 * The bytes of a body stream, at most `maxBytes`: reading stops there (the rest is never
 * downloaded), and `truncated` says so. Works on web streams (fetch) and Node streams alike.
 *
 * @example
 * const { bytes, truncated } = await readCapped(response.body, 2_000_000);
 */
export async function readCapped(
  body: AsyncIterable<Uint8Array> | null | undefined,
  maxBytes: number,
): Promise<{ bytes: Buffer; truncated: boolean }> {
  if (body === null || body === undefined) return { bytes: Buffer.alloc(0), truncated: false };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const room = maxBytes - size;
    if (chunk.byteLength > room) {
      if (room > 0) chunks.push(Buffer.from(chunk.subarray(0, room)));
      size = maxBytes;
      // Leaving the loop early cancels the stream, so the rest is not downloaded.
      return { bytes: Buffer.concat(chunks, size), truncated: true };
    }
    chunks.push(Buffer.from(chunk));
    size += chunk.byteLength;
  }
  return { bytes: Buffer.concat(chunks, size), truncated: false };
}
