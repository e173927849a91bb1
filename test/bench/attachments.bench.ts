/**
 * What resolving an attachment adds beyond downloading it.
 *
 *   node --expose-gc --import tsx test/bench/attachments.bench.ts [runs] [attachments]
 *
 * Three figures, each next to a baseline measured in the same run:
 * 1. A 10-page text PDF (the report fixture): extraction in the warm worker pool (what the
 *    service does) and in-process, against the bare download of the same bytes over HTTP from
 *    127.0.0.1. Goal: extraction under 200 ms.
 * 2. A 5 MB PNG within the model limits: detect + prepare (which must hand the original bytes
 *    through, not re-encode them) against a bare byte copy of the same 5 MB.
 * 3. Memory: RSS and heap after resolving `attachments` mixed files (PDF, Word, Excel,
 *    PowerPoint, CSV, PNG) against the idle baseline taken after one warm-up round, with GC
 *    forced; then again once the idle worker has exited.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { detectType } from '../../lib/attachments/detect-type.js';
import { extractDocument } from '../../lib/attachments/extract-document.js';
import { createExtractionPool } from '../../lib/attachments/extraction-pool.js';
import { prepareImage } from '../../lib/attachments/prepare-image.js';
import { readBounded } from '../../lib/attachments/read-bounded.js';
import { createAttachmentResolver } from '../../lib/attachments/resolve-attachment.js';
import { describeMachine, mib, ms, printTable, ratio, summarise, summaryLine } from './bench-support.js';

const runs = Number(process.argv[2] ?? 30);
const attachments = Number(process.argv[3] ?? 100);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

const fixture = (name: string) => readFileSync(new URL(`../fixtures/attachments/${name}`, import.meta.url));

async function settle(): Promise<{ rss: number; heapUsed: number }> {
  for (let round = 0; round < 3; round++) {
    gc?.();
    await sleep(20);
  }
  const usage = process.memoryUsage();
  return { rss: usage.rss, heapUsed: usage.heapUsed };
}

async function timeRuns(count: number, run: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  return times;
}

console.log(`attachments: ${describeMachine()}`);
const pdf = fixture('report.pdf');
const pdfType = await detectType(pdf, 'report.pdf');
const server = createServer((_, response) => {
  response.writeHead(200, { 'content-type': 'application/pdf', 'content-length': pdf.byteLength }).end(pdf);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/report.pdf`;
const pool = createExtractionPool({ idleMs: 2_000 });
const workerStart = performance.now();
await pool.warm();
const workerStartMs = performance.now() - workerStart;

try {
  // ── 1. the 10-page PDF ──
  const download = async () => {
    const response = await fetch(url);
    return readBounded(response.body!, { name: 'report.pdf', maxBytes: 20_000_000, timeoutMs: 10_000 });
  };
  const options = { name: 'report.pdf', maxChars: 1_000_000 };
  const check = await pool.extract(pdf, pdfType, options);
  if (check.includedUnits !== 10) throw new Error(`expected all 10 pages, got ${check.includedUnits}`);
  // JIT warm-up on both threads, so neither figure includes compiling pdf.js.
  await timeRuns(3, () => extractDocument(pdf, pdfType, options));
  await timeRuns(3, () => pool.extract(pdf, pdfType, options));
  const downloadTimes = summarise(await timeRuns(runs, download));
  const inWorker = summarise(await timeRuns(runs, () => pool.extract(pdf, pdfType, options)));
  const inProcess = summarise(await timeRuns(runs, () => extractDocument(pdf, pdfType, options)));
  const downloadAndExtract = summarise(
    await timeRuns(runs, async () => pool.extract(await download(), pdfType, options)),
  );
  console.log(
    `  10-page text PDF (${(pdf.byteLength / 1024).toFixed(1)} KiB, ${check.keptChars} characters), ${runs} runs each; worker start-up ${ms(workerStartMs, 0)} (once, at service start)`,
  );
  printTable(
    ['', 'p50', 'p99', 'vs bare download p50'],
    [
      ['bare download over HTTP (baseline)', ms(downloadTimes.p50), ms(downloadTimes.p99), '1.00×'],
      ['extract in the worker pool', ms(inWorker.p50), ms(inWorker.p99), ratio(inWorker.p50, downloadTimes.p50)],
      ['extract in-process', ms(inProcess.p50), ms(inProcess.p99), ratio(inProcess.p50, downloadTimes.p50)],
      [
        'download + extract in the pool',
        ms(downloadAndExtract.p50),
        ms(downloadAndExtract.p99),
        ratio(downloadAndExtract.p50, downloadTimes.p50),
      ],
    ],
  );
  // Judged on p50: on a shared machine the tail measures the neighbours (the load is printed above).
  const pdfGoal = inWorker.p50 < 200 ? 'PASS' : 'FAIL';
  summaryLine(
    `attachments: 10-page PDF extracted in ${ms(inWorker.p50)} p50 / ${ms(inWorker.p99)} p99 in the worker (goal p50 < 200 ms: ${pdfGoal}); in-process ${ms(inProcess.p50)}; bare download ${ms(downloadTimes.p50)} (${ratio(inWorker.p50, downloadTimes.p50)})`,
  );

  // ── 2. a 5 MB image within the limits ──
  const side = 1300;
  // Random pixels do not compress: the PNG comes out at about 5 MB, like a large photo.
  const noise = randomBytes(side * side * 3);
  const png = await sharp(noise, { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
  const pngType = await detectType(png, 'photo.png');
  const passed = await prepareImage(png, pngType, { name: 'photo.png' });
  if (passed.reencoded || passed.bytes !== png) throw new Error('the 5 MB image was re-encoded');
  const copies = summarise(await timeRuns(runs, async () => Buffer.from(png)));
  const prepared = summarise(
    await timeRuns(runs, async () => prepareImage(png, await detectType(png, 'photo.png'), { name: 'photo.png' })),
  );
  const reencode = summarise(await timeRuns(Math.min(runs, 5), () => sharp(png).png().toBuffer()));
  console.log(
    `  ${(png.byteLength / 1e6).toFixed(1)} MB PNG, ${side} × ${side}, within the limits: handed through, re-encoded: ${passed.reencoded ? 'yes' : 'no'}`,
  );
  printTable(
    ['', 'p50', 'p99', 'vs byte copy p50'],
    [
      ['bare byte copy (baseline)', ms(copies.p50), ms(copies.p99), '1.00×'],
      ['detect + prepareImage (pass-through)', ms(prepared.p50), ms(prepared.p99), ratio(prepared.p50, copies.p50)],
      ['for scale: one PNG re-encode', ms(reencode.p50), ms(reencode.p99), ratio(reencode.p50, copies.p50)],
    ],
  );
  summaryLine(
    `attachments: 5 MB PNG passed through unchanged in ${ms(prepared.p50)} p50 (bare 5 MB copy ${ms(copies.p50)}, ${ratio(prepared.p50, copies.p50)}; a re-encode would take ${ms(reencode.p50, 0)})`,
  );

  // ── 3. memory after many attachments ──
  const resolver = createAttachmentResolver({ extraction: pool, maxChars: 40_000 });
  const mix = [
    { kind: 'file' as const, name: 'report.pdf', bytes: pdf },
    { kind: 'file' as const, name: 'plan.docx', bytes: fixture('plan.docx') },
    { kind: 'file' as const, name: 'budget.xlsx', bytes: fixture('budget.xlsx') },
    { kind: 'file' as const, name: 'deck.pptx', bytes: fixture('deck.pptx') },
    { kind: 'file' as const, name: 'contacts.csv', bytes: fixture('contacts.csv') },
    { kind: 'image' as const, name: 'photo.png', bytes: png },
  ];
  for (const input of mix) await resolver.resolve(input);
  const idle = await settle();
  let notices = 0;
  for (let index = 0; index < attachments; index++) {
    const part = await resolver.resolve(mix[index % mix.length]!);
    if (part.kind === 'notice') notices += 1;
  }
  const after = await settle();
  await sleep(2_500); // idleMs: the worker exits and returns its memory
  const afterIdle = await settle();
  console.log(
    `  ${attachments} attachments resolved (${notices} notices), worker alive after the idle wait: ${pool.stats().workerAlive}`,
  );
  printTable(
    ['', 'RSS', 'vs idle', 'heap used', 'vs idle'],
    [
      ['idle, after one warm-up round (baseline)', mib(idle.rss), '1.00×', mib(idle.heapUsed), '1.00×'],
      [
        `after ${attachments} attachments`,
        mib(after.rss),
        ratio(after.rss, idle.rss),
        mib(after.heapUsed),
        ratio(after.heapUsed, idle.heapUsed),
      ],
      [
        'after the idle worker exited',
        mib(afterIdle.rss),
        ratio(afterIdle.rss, idle.rss),
        mib(afterIdle.heapUsed),
        ratio(afterIdle.heapUsed, idle.heapUsed),
      ],
    ],
  );
  summaryLine(
    `attachments: memory after ${attachments} attachments: heap ${mib(after.heapUsed)} vs idle ${mib(idle.heapUsed)} (${ratio(after.heapUsed, idle.heapUsed)}), RSS ${mib(after.rss)} vs ${mib(idle.rss)} (${ratio(after.rss, idle.rss)}); after the worker's idle exit RSS ${mib(afterIdle.rss)}`,
  );
} finally {
  await pool.close();
  server.close();
}
