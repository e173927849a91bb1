/**
 * A tiny process with the real lifecycle wiring, for lib/process/process-handlers.test.ts:
 *   node --import tsx test/support/lifecycle-fixture.ts <idle|throw|reject|reject-many>
 * Logs JSON lines to stdout; its drain has one step that logs "store closed".
 */
import { createLogger } from '../../lib/log.js';
import { createEventBus } from '../../lib/observe/event-bus.js';
import { createGracefulShutdown } from '../../lib/process/graceful-shutdown.js';
import { installProcessHandlers } from '../../lib/process/process-handlers.js';
import { createReadiness } from '../../lib/process/readiness.js';

const log = createLogger({ pretty: false });
const readiness = createReadiness();
const bus = createEventBus();
bus.subscribe((event) => {
  if (event.type === 'process.error') log.info({ kind: event.kind }, 'process.error event');
});
const lifecycle = createGracefulShutdown({
  log,
  readiness,
  timeoutMs: Number(process.env.SHUTDOWN_TIMEOUT_MS ?? 5_000),
  steps: [
    {
      name: 'close store',
      run: async () => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        log.info('store closed');
      },
    },
  ],
});
lifecycle.install();
const onFatal = (reason: string) => lifecycle.shutdown(reason, 1);
const limits = { maxUnhandledRejections: 3, unhandledRejectionWindowMs: 60_000 };
const first = installProcessHandlers({ log, bus, onFatal, ...limits });
const second = installProcessHandlers({ log, bus, onFatal, ...limits });
readiness.markReady();
setInterval(() => {}, 1_000);
log.info({ sameHandle: first === second, listeners: process.listenerCount('uncaughtException') }, 'fixture ready');

const action = process.argv[2] ?? 'idle';
if (action === 'throw') {
  setTimeout(() => {
    throw new Error('boom from a timer');
  }, 20);
}
if (action === 'reject') {
  setTimeout(() => {
    void Promise.reject(new Error('forgotten rejection'));
    setTimeout(() => log.info({ rejections: first.counts.unhandledRejection }, 'still serving'), 100);
  }, 20);
}
if (action === 'reject-many') {
  setTimeout(() => {
    for (let rejection = 0; rejection < 3; rejection++)
      void Promise.reject(new Error(`forgotten rejection ${rejection}`));
  }, 20);
}
