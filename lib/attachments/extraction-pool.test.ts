import { afterEach, describe, expect, it } from 'vitest';
import { attachmentFailure, fixture } from '../../test/support/attachment-fixtures.js';
import { docxZipBomb, slowPdf } from '../../test/support/hostile-files.js';
import { detectType } from './detect-type.js';
import { createExtractionPool, type ExtractionPool } from './extraction-pool.js';

let pool: ExtractionPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('createExtractionPool', () => {
  it('extracts in a worker thread and cuts to the budget with a note', async () => {
    pool = createExtractionPool();
    const bytes = fixture('report.pdf');
    const document = await pool.extract(bytes, await detectType(bytes, 'report.pdf'), {
      name: 'report.pdf',
      maxChars: 4_000,
    });
    expect(document).toMatchObject({ unit: 'page', totalUnits: 10, truncated: true });
    expect(document.text).toContain('Marker for page 1: cobalt-1.');
    expect(document.text).toMatch(/… \d more pages not included \(\d of 10 shown\)\.$/);
    expect(bytes.equals(fixture('report.pdf'))).toBe(true);
  });

  it('brings typed failures back across the thread boundary', async () => {
    pool = createExtractionPool();
    const encrypted = fixture('encrypted.pdf');
    const error = await attachmentFailure(
      pool.extract(encrypted, await detectType(encrypted), { name: 'secret.pdf', maxChars: 1_000 }),
    );
    expect(error.code).toBe('ATTACHMENT_ENCRYPTED');
    expect(error.notice).toBe('secret.pdf: the PDF is password-protected.');
    const bomb = await docxZipBomb({ inflatedBytes: 1024 ** 3 });
    expect(
      (await attachmentFailure(pool.extract(bomb, await detectType(bomb), { name: 'bomb.docx', maxChars: 1_000 })))
        .code,
    ).toBe('ATTACHMENT_TOO_LARGE');
  });

  it('stops a hostile PDF at the time limit without blocking the event loop, then reads the next file', async () => {
    // About 2 s of parsing on an idle two-core machine against a 0.5 s limit: the cut is what is
    // tested, so the file must stay well beyond the limit on a fast machine too.
    pool = createExtractionPool({ timeoutMs: 500 });
    await pool.warm();
    const hostile = slowPdf(4_000_000);
    let ticks = 0;
    const ticker = setInterval(() => {
      ticks += 1;
    }, 10);
    const error = await attachmentFailure(
      pool.extract(hostile, await detectType(hostile), { name: 'hostile.pdf', maxChars: 1_000 }),
    );
    clearInterval(ticker);
    expect(error.code).toBe('ATTACHMENT_TIMEOUT');
    expect(error.notice).toBe('hostile.pdf: reading it took longer than 500 ms.');
    // The parse ran on another thread: the main loop kept ticking all along (a blocked loop gives ~0).
    expect(ticks).toBeGreaterThan(10);
    expect(pool.stats()).toMatchObject({ restarts: 1, running: false, queued: 0 });
    const csv = Buffer.from('a,b\n1,2\n');
    const next = await pool.extract(csv, await detectType(csv, 'x.csv'), { name: 'x.csv', maxChars: 1_000 });
    expect(next.text).toBe('| a | b |\n| --- | --- |\n| 1 | 2 |');
  });

  it('runs one file at a time, and fails extra work beyond the queue bound with ATTACHMENT_BUSY', async () => {
    pool = createExtractionPool({ maxQueued: 1, timeoutMs: 10_000 });
    const csv = Buffer.from('a\n1\n');
    const type = await detectType(csv, 'a.csv');
    const first = pool.extract(csv, type, { name: 'first.csv', maxChars: 100 });
    const second = pool.extract(csv, type, { name: 'second.csv', maxChars: 100 });
    const third = await attachmentFailure(pool.extract(csv, type, { name: 'third.csv', maxChars: 100 }));
    expect(third.code).toBe('ATTACHMENT_BUSY');
    expect((await first).text).toContain('| 1 |');
    expect((await second).text).toContain('| 1 |');
  });

  it('aborts queued and running work with ATTACHMENT_ABORTED when the caller aborts or the pool closes', async () => {
    pool = createExtractionPool({ timeoutMs: 30_000 });
    const hostile = slowPdf();
    const type = await detectType(hostile);
    const controller = new AbortController();
    const running = pool.extract(hostile, type, { name: 'slow.pdf', maxChars: 100, signal: controller.signal });
    const queued = pool.extract(hostile, type, { name: 'queued.pdf', maxChars: 100 });
    setTimeout(() => controller.abort(), 50);
    expect((await attachmentFailure(running)).code).toBe('ATTACHMENT_ABORTED');
    const closing = pool.close();
    expect((await attachmentFailure(queued)).code).toBe('ATTACHMENT_ABORTED');
    await closing;
    expect(pool.stats().workerAlive).toBe(false);
  });
});
