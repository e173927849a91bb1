import type { Logger } from '../log.js';
import type { EventBus } from './event-bus.js';

/**
 * The few bus events worth a log line each, so `pm2 logs` alone answers "did the message arrive,
 * was it ignored and why, and was it answered" (docs/troubleshooting.md walks through them). The
 * trace id ties the three lines of one message together; devtools shows the rest of its steps.
 * Rejected webhook requests log where they are refused (`webhook request rejected`).
 *
 * @example
 * const unsubscribe = logBotEvents(bus, log);
 */
export function logBotEvents(bus: EventBus, log: Logger): () => void {
  return bus.subscribe((event) => {
    switch (event.type) {
      case 'event.received':
        log.info(
          { traceId: event.traceId, source: event.source, eventType: event.eventType, eventId: event.eventId },
          'event received',
        );
        return;
      case 'message.ignored':
        log.info({ traceId: event.traceId, reason: event.reason }, 'message ignored');
        return;
      case 'job.finished':
        // With several instances, this line says which one answered what.
        log.info(
          { traceId: event.traceId, jobId: event.jobId, outcome: event.outcome, durationMs: event.durationMs },
          'job finished',
        );
        return;
    }
  });
}
