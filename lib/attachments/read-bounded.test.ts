import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { attachmentFailure } from '../../test/support/attachment-fixtures.js';
import { readBounded } from './read-bounded.js';

const KB = 1024;

/** An endless source that counts how many chunks were pulled from it. */
function endless(chunkBytes: number) {
  const state = { pulled: 0, returned: false };
  const source: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]() {
      return {
        async next() {
          state.pulled += 1;
          return { done: false, value: new Uint8Array(chunkBytes) };
        },
        async return() {
          state.returned = true;
          return { done: true, value: undefined };
        },
      };
    },
  };
  return { source, state };
}

describe('readBounded', () => {
  it('reads a Node stream into one buffer with every byte in order', async () => {
    const chunks = [Buffer.from('hello '), Buffer.from('bounded '), Buffer.from('world')];
    const bytes = await readBounded(Readable.from(chunks), { name: 'a.txt', maxBytes: 100, timeoutMs: 1_000 });
    expect(bytes.toString()).toBe('hello bounded world');
  });

  it('reads a web ReadableStream and string chunks', async () => {
    const web = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('web '));
        controller.enqueue(new TextEncoder().encode('stream'));
        controller.close();
      },
    });
    expect((await readBounded(web, { name: 'w', maxBytes: 100, timeoutMs: 1_000 })).toString()).toBe('web stream');
    const strings = (async function* () {
      yield 'a';
      yield 'b';
    })();
    expect((await readBounded(strings, { name: 's', maxBytes: 10, timeoutMs: 1_000 })).toString()).toBe('ab');
  });

  it('accepts exactly maxBytes and stops at the first byte beyond, without reading on', async () => {
    const exact = await readBounded(Readable.from([Buffer.alloc(64 * KB)]), {
      name: 'x',
      maxBytes: 64 * KB,
      timeoutMs: 1_000,
    });
    expect(exact.byteLength).toBe(64 * KB);

    const { source, state } = endless(16 * KB);
    const error = await attachmentFailure(
      readBounded(source, { name: 'huge.bin', maxBytes: 100 * KB, timeoutMs: 5_000 }),
    );
    expect(error.code).toBe('ATTACHMENT_TOO_LARGE');
    expect(error.notice).toBe('huge.bin: it is larger than the 102.4 KB limit.');
    // 100 KB fits six 16 KB chunks; the seventh crosses the cap and nothing more is pulled.
    expect(state.pulled).toBe(7);
    expect(state.returned).toBe(true);
  });

  it('fails on a declared length over the cap before reading anything', async () => {
    const { source, state } = endless(KB);
    const error = await attachmentFailure(
      readBounded(source, { name: 'big.pdf', maxBytes: 10 * KB, timeoutMs: 1_000, declaredBytes: 50 * KB }),
    );
    expect(error.code).toBe('ATTACHMENT_TOO_LARGE');
    expect(state.pulled).toBe(0);
  });

  it('times out on a stream that stalls mid-body and destroys it', async () => {
    const stalled = new Readable({ read() {} });
    stalled.push(Buffer.from('first bytes'));
    const error = await attachmentFailure(readBounded(stalled, { name: 'slow.pdf', maxBytes: KB, timeoutMs: 50 }));
    expect(error.code).toBe('ATTACHMENT_TIMEOUT');
    expect(error.reason).toBe('the download did not finish within 50 ms');
    expect(stalled.destroyed).toBe(true);
  });

  it('stops with ATTACHMENT_ABORTED when the caller aborts, before or during the read', async () => {
    const before = new AbortController();
    before.abort();
    expect(
      (
        await attachmentFailure(
          readBounded(Readable.from([]), { name: 'a', maxBytes: 1, timeoutMs: 1_000, signal: before.signal }),
        )
      ).code,
    ).toBe('ATTACHMENT_ABORTED');
    const during = new AbortController();
    const stalled = new Readable({ read() {} });
    const reading = readBounded(stalled, { name: 'b', maxBytes: KB, timeoutMs: 5_000, signal: during.signal });
    setTimeout(() => during.abort(), 10);
    expect((await attachmentFailure(reading)).code).toBe('ATTACHMENT_ABORTED');
    expect(stalled.destroyed).toBe(true);
  });

  it('reports a stream that errors as ATTACHMENT_DOWNLOAD_FAILED with the cause kept', async () => {
    const broken = new Readable({
      read() {
        this.destroy(new Error('ECONNRESET'));
      },
    });
    const error = await attachmentFailure(readBounded(broken, { name: 'c.docx', maxBytes: KB, timeoutMs: 1_000 }));
    expect(error.code).toBe('ATTACHMENT_DOWNLOAD_FAILED');
    expect(String((error.cause as Error).message)).toBe('ECONNRESET');
  });
});
