// One line (title and detail) per bus event, for the live feed and the timeline.

import { formatMs, formatNumber } from './dom.js';

/** One line describing an event, for the live feed and the timeline. */
export function describe(event) {
  switch (event.type) {
    case 'event.received':
      return { title: `${event.eventType} via ${event.source}`, sub: `event ${event.eventId}` };
    case 'event.duplicate':
      return { title: `Duplicate delivery (same ${event.key})`, sub: `via ${event.source}` };
    case 'event.rejected':
      return { title: `Rejected ${event.status}: ${event.reason}`, sub: `via ${event.source}` };
    case 'event.dropped':
      return { title: 'Dropped: older than the dedupe window (a replay)', sub: `via ${event.source}` };
    case 'security.event':
      return {
        title: `Security: ${event.kind} ${event.reason}, not answered`,
        sub: 'Feishu does not confirm the message this event names',
      };
    case 'message.bot-skipped':
      return {
        title: `Not answered: sent by ${event.sender === 'self' ? 'this bot itself' : `a bot (${event.sender})`}`,
        sub: '',
      };
    case 'job.queued':
      return { title: `Queued as ${event.kind}`, sub: `lane ${event.lane}` };
    case 'schedule.run': {
      const late = event.lateMs > 60_000 ? `, ${Math.round(event.lateMs / 60_000)} min late` : '';
      const what = {
        ran: 'run queued',
        skipped: 'missed: skipped with a note',
        duplicate: 'already queued (after a crash)',
      };
      return {
        title: `Schedule ${event.scheduleId} due: ${what[event.outcome] || event.outcome}${late}`,
        sub: `chat ${event.chatId}`,
      };
    }
    case 'job.started':
      return { title: `Job started (attempt ${event.attempt})`, sub: `lane ${event.lane}` };
    case 'job.finished':
      return { title: `Job ${event.outcome} after ${formatMs(event.durationMs)}`, sub: event.error || '' };
    case 'job.busy':
      return { title: `Backlog full (${event.backlog}): busy notice`, sub: '' };
    case 'message.received':
      return {
        title: event.text,
        sub: `${event.chatType} · chat ${event.chatId} · user ${event.userName ? `${event.userName} (${event.userId})` : event.userId}`,
      };
    case 'attachment.resolved':
      return describeAttachment(event);
    case 'turn.resolved':
      return {
        title: `Model gets ${event.partCount} part${event.partCount === 1 ? '' : 's'}${event.images ? `, ${event.images} image${event.images === 1 ? '' : 's'}` : ''}${event.model ? ` → ${event.model}` : ''}`,
        sub: [formatMs(event.elapsedMs), ...String(event.notices || '').split('\n')].filter(Boolean).join(' · '),
      };
    case 'message.ignored':
      return { title: `Not answered: ${event.reason}`, sub: '' };
    case 'agent.call':
      return {
        title: `${event.agent} → ${event.model}${event.outcome === 'error' ? ` failed (${event.errorCategory || 'OTHER'})` : ''}`,
        sub: `${formatMs(event.latencyMs)} · ${formatNumber(event.inputTokens)} in / ${formatNumber(event.outputTokens)} out tokens`,
      };
    case 'agent.delegation':
      return { title: `${event.from} delegates to ${event.to}`, sub: event.task };
    case 'tool.started':
      return { title: `${event.agent} starts ${event.tool}`, sub: event.toolCallId || '' };
    case 'tool.call':
      return {
        title: `${event.agent} calls ${event.tool}${event.error ? ` (failed: ${event.errorCategory || 'OTHER'})` : ''}`,
        sub: [
          formatMs(event.latencyMs),
          event.identity ? `as ${{ user: 'the user', tenant: 'the app' }[event.identity] || 'no identity'}` : '',
          event.resultChars === undefined
            ? ''
            : `${formatNumber(event.resultChars)} chars${event.truncated ? ' (truncated)' : ''}`,
          event.error || '',
        ]
          .filter(Boolean)
          .join(' · '),
      };
    case 'model.fallback':
      return { title: `Fallback ${event.from} → ${event.to}`, sub: `because ${event.reason}` };
    case 'model.rate-limit':
      return {
        title: `Rate limited on ${event.model}`,
        sub: [
          event.retryAfterMs !== undefined ? `retry after ${formatMs(event.retryAfterMs)}` : '',
          event.remaining !== undefined ? `${event.remaining} remaining` : '',
        ]
          .filter(Boolean)
          .join(' · '),
      };
    case 'model.attempt':
      return {
        title:
          event.outcome === 'success'
            ? `${event.model} answered`
            : event.outcome === 'refused'
              ? `${event.model} skipped: circuit breaker open`
              : `${event.model} failed (${event.category || 'OTHER'})`,
        sub: `${event.agent} · ${formatMs(event.latencyMs)}`,
      };
    case 'model.concurrency':
      return {
        title: `Concurrency limit of ${event.model}: ${event.previous} → ${event.limit}`,
        sub: event.reason,
      };
    case 'model.breaker':
      return {
        title: `Circuit breaker ${event.state} on ${event.model}`,
        sub:
          event.state === 'open'
            ? `next probe in ${formatMs(event.cooldownMs ?? 0)}${event.category ? ` · after ${event.category}` : ''}`
            : event.state === 'half-open'
              ? 'one probe request goes through'
              : 'the probe succeeded',
      };
    case 'reply.started':
      return { title: `Reply started (${event.mode})`, sub: event.cardId ? `card ${event.cardId}` : '' };
    case 'reply.update':
      return { title: `Card update #${event.sequence}`, sub: `${formatNumber(event.length)} chars` };
    case 'reply.card':
      return {
        title: `Card ${event.index + 1} full: the answer continues in card ${event.index + 2}`,
        sub: excerpt(event.text),
      };
    case 'reply.finished':
      return {
        title: `Reply sent (${event.mode}${event.cards > 1 ? `, ${event.cards} cards` : ''}, ${formatNumber(event.length)} chars)`,
        sub: event.notice ? `${event.notice} · ${excerpt(event.text)}` : excerpt(event.text),
      };
    case 'card.action':
      return { title: `Card button ${event.action}: ${event.outcome}`, sub: '' };
    case 'reply.fallback':
      return { title: 'Card given up: the answer goes on as text messages', sub: event.reason };
    case 'answer.feedback':
      return {
        title: event.rating === 'up' ? 'Rated 👍 by the asker' : 'Rated 👎 by the asker',
        sub: `${event.agent} · ${event.model}`,
      };
    case 'run.stopped':
      return {
        title: `Stopped by the asker (${event.via === 'message' ? 'typed stop' : 'Stop button'})`,
        sub: `${formatNumber(event.length)} chars shown`,
      };
    case 'feishu.api':
      return {
        title: `Feishu ${event.api}: ${event.outcome}`,
        sub: `${formatMs(event.latencyMs)}${event.code !== undefined ? ` · code ${event.code}` : ''}`,
      };
    case 'feishu.connection':
      return { title: `Feishu connection ${event.state}`, sub: `${event.reconnects} reconnects` };
    case 'error':
      return { title: `${event.category} in ${event.where}`, sub: event.message };
    case 'process.error':
      return { title: `Process ${event.kind}`, sub: event.message };
    default:
      return { title: event.type, sub: '' };
  }
}

const PART_NAMES = {
  image: 'Image',
  file: 'File',
  audio: 'Voice',
  quote: 'Quoted message',
  forward: 'Forwarded messages',
  unreadable: 'Unreadable',
};

/** Name, type, size, characters or transcript, and how long downloading and reading took. */
function describeAttachment(event) {
  // "the image" / "the voice message" name themselves; files and quotes get their kind first.
  const what = /^the /.test(event.name)
    ? `${event.name[0].toUpperCase()}${event.name.slice(1)}`
    : `${PART_NAMES[event.part] || event.part} ${event.name}`;
  const size = event.sizeBytes === undefined ? '' : `${formatNumber(event.sizeBytes)} bytes`;
  const read =
    event.transcript !== undefined
      ? `“${excerpt(event.transcript, 80)}”`
      : event.chars === undefined
        ? ''
        : `${formatNumber(event.chars)} chars`;
  return {
    title:
      event.outcome === 'notice'
        ? `${what}: ${event.notice || event.code || 'not read'}`
        : `${what}${read ? ` → ${read}` : ''}`,
    sub: [
      event.mediaType,
      size,
      event.cached
        ? 'from the job cache'
        : event.downloadMs === undefined
          ? ''
          : `downloaded in ${formatMs(event.downloadMs)}`,
      `resolved in ${formatMs(event.elapsedMs)}`,
    ]
      .filter(Boolean)
      .join(' · '),
  };
}

export function isErrorEvent(event) {
  return (
    event.type === 'error' ||
    event.type === 'process.error' ||
    (event.type === 'agent.call' && event.outcome === 'error') ||
    (event.type === 'tool.call' && Boolean(event.error)) ||
    (event.type === 'attachment.resolved' && event.outcome === 'notice') ||
    (event.type === 'job.finished' && (event.outcome === 'dead' || event.outcome === 'retry'))
  );
}

/** The start of a text on one line. */
export function excerpt(text, max = 140) {
  const flat = String(text ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
