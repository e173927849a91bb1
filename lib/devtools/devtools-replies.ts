import type { ReplySink } from '../conversation/reply-sink.js';
import type { BotEvent } from '../observe/bot-event.js';
import type { EventBus } from '../observe/event-bus.js';
import { createRedactor, type Redactor } from '../observe/redact.js';

/** One step of a playground answer, as the SSE stream sends it. `text` is always the full text so far. */
export interface DevtoolsReplyUpdate {
  type: 'start' | 'update' | 'finish' | 'fail';
  text: string;
  /** finish: the footer (model, tokens); fail: the notice. */
  detail?: string;
}

export type DevtoolsReplyListener = (update: DevtoolsReplyUpdate) => void;

export interface DevtoolsReplies {
  /** The sink the conversation layer writes a devtools-sourced answer into. */
  sinkFor(traceId: string): ReplySink;
  /**
   * Follows one answer. The listener first gets what happened so far (start, then the latest
   * text, or the final state), then every change live. Returns the unsubscribe function, or null
   * for a trace the playground did not start (or that expired): nothing is created for it.
   */
  subscribe(traceId: string, listener: DevtoolsReplyListener): (() => void) | null;
  /** The latest state of an answer, or null when unknown or expired. */
  get(traceId: string): DevtoolsReplyUpdate | null;
}

export interface DevtoolsRepliesOptions {
  /** How long an answer is kept after its last change. */
  ttlMs?: number;
  /** Answers kept at most; the least recently changed go first. */
  maxEntries?: number;
  /** Longest answer text kept (a runaway model must not grow memory). */
  maxTextChars?: number;
  /** Listeners per answer (browser tabs following it). */
  maxListeners?: number;
  /**
   * Reports reply.started / reply.finished (mode 'devtools'), so a playground trace ends like a
   * Feishu one. Also read: a playground message (`event.received` from source 'devtools') opens
   * its answer, and a job that ends without writing one (ignored, dead-lettered) closes it with a
   * notice, so a browser following it is told at once instead of polling for it.
   */
  bus?: EventBus;
  /** Scrubs the failure text of a dead-lettered job before a browser sees it. */
  redact?: Redactor;
  now?: () => number;
}

interface Entry {
  state: 'pending' | 'streaming' | 'finished' | 'failed';
  text: string;
  detail: string | undefined;
  changedAt: number;
  listeners: Set<DevtoolsReplyListener>;
  /** Why the conversation layer did not answer (`message.ignored`), for the closing notice. */
  ignoredReason: string | undefined;
}

/** Longest failure text shown in a closing notice. */
const MAX_NOTICE_CHARS = 500;

/**
 * Holds the playground's answers so the browser can stream them: the conversation layer writes
 * into `sinkFor(traceId)` exactly as it writes into a Feishu card, and the SSE route
 * `subscribe`s. Entries expire `ttlMs` after their last change and are capped at `maxEntries`.
 *
 * @example
 * const replies = createDevtoolsReplies();
 * const stop = replies.subscribe('job-1', (update) => console.log(update.type, update.text));
 * const sink = replies.sinkFor('job-1');
 * await sink.start(); sink.update('Hel'); await sink.finish('Hello');
 */
export function createDevtoolsReplies({
  ttlMs = 10 * 60_000,
  maxEntries = 200,
  maxTextChars = 100_000,
  maxListeners = 8,
  bus,
  redact = createRedactor(),
  now = Date.now,
}: DevtoolsRepliesOptions = {}): DevtoolsReplies {
  const entries = new Map<string, Entry>(); // insertion order = least recently changed first

  function sweep(): void {
    const cutoff = now() - ttlMs;
    for (const [id, entry] of entries) {
      if (entry.changedAt >= cutoff && entries.size <= maxEntries) break;
      entries.delete(id);
    }
  }

  function entryFor(traceId: string): Entry {
    let entry = entries.get(traceId);
    if (!entry) {
      entry = {
        state: 'pending',
        text: '',
        detail: undefined,
        changedAt: now(),
        listeners: new Set(),
        ignoredReason: undefined,
      };
      entries.set(traceId, entry);
      sweep();
    }
    return entry;
  }

  function change(
    traceId: string,
    mutate: (entry: Entry) => DevtoolsReplyUpdate | null,
    entry: Entry = entryFor(traceId),
  ): void {
    if (entry.state === 'finished' || entry.state === 'failed') return; // the sink contract ends here
    const update = mutate(entry);
    if (!update) return;
    entry.changedAt = now();
    entries.delete(traceId);
    entries.set(traceId, entry);
    for (const listener of [...entry.listeners]) {
      try {
        listener(update);
      } catch {
        // A broken SSE writer must not break the answer being produced.
      }
    }
  }

  const cap = (text: string) => (text.length > maxTextChars ? text.slice(0, maxTextChars) : text);

  /** The job of a playground message ended; an answer it never finished is closed with why. */
  function jobEnded(event: Extract<BotEvent, { type: 'job.finished' }>): void {
    const entry = entries.get(event.traceId);
    if (!entry) return;
    const notice = entry.ignoredReason
      ? `Not answered: ${entry.ignoredReason}`
      : event.outcome === 'dead'
        ? `The job failed for good${event.error ? `: ${redact(event.error).slice(0, MAX_NOTICE_CHARS)}` : ''}`
        : 'Finished without an answer';
    change(
      event.traceId,
      (ended) => {
        ended.state = 'failed';
        ended.detail = notice;
        return { type: 'fail', text: ended.text, detail: notice };
      },
      entry,
    );
  }

  bus?.subscribe((event) => {
    if (event.type === 'event.received' && event.source === 'devtools') entryFor(event.traceId);
    else if (event.type === 'message.ignored') {
      const entry = entries.get(event.traceId);
      if (entry) entry.ignoredReason = event.reason;
    } else if (event.type === 'job.finished' && (event.outcome === 'done' || event.outcome === 'dead')) jobEnded(event);
  });

  function current(entry: Entry): DevtoolsReplyUpdate | null {
    switch (entry.state) {
      case 'pending':
        return null;
      case 'streaming':
        return { type: 'update', text: entry.text };
      case 'finished':
        return { type: 'finish', text: entry.text, ...(entry.detail === undefined ? {} : { detail: entry.detail }) };
      case 'failed':
        return { type: 'fail', text: entry.text, ...(entry.detail === undefined ? {} : { detail: entry.detail }) };
    }
  }

  return {
    sinkFor(traceId) {
      return {
        async start() {
          change(traceId, (entry) => {
            if (entry.state !== 'pending') return null;
            entry.state = 'streaming';
            bus?.emit({ type: 'reply.started', traceId, mode: 'devtools' });
            return { type: 'start', text: '' };
          });
        },
        update(fullText) {
          change(traceId, (entry) => {
            entry.state = 'streaming';
            entry.text = cap(fullText);
            return { type: 'update', text: entry.text };
          });
        },
        async finish(finalText, summary) {
          change(traceId, (entry) => {
            entry.state = 'finished';
            entry.text = cap(finalText);
            entry.detail = summary;
            bus?.emit({
              type: 'reply.finished',
              traceId,
              mode: 'devtools',
              length: finalText.length,
              cards: 0,
              text: finalText,
            });
            return { type: 'finish', text: entry.text, ...(summary === undefined ? {} : { detail: summary }) };
          });
        },
        async fail(partialText, notice) {
          change(traceId, (entry) => {
            entry.state = 'failed';
            entry.text = cap(partialText);
            entry.detail = notice;
            bus?.emit({
              type: 'reply.finished',
              traceId,
              mode: 'devtools',
              length: partialText.length,
              cards: 0,
              text: partialText,
              notice,
            });
            return { type: 'fail', text: entry.text, detail: notice };
          });
        },
      };
    },

    subscribe(traceId, listener) {
      sweep();
      const entry = entries.get(traceId);
      if (!entry) return null;
      if (entry.listeners.size >= maxListeners) {
        // Oldest listener gives way: a reloaded tab should not be refused by its own dead tab.
        const oldest = entry.listeners.values().next().value;
        if (oldest) entry.listeners.delete(oldest);
      }
      const replay = current(entry);
      if (replay) {
        listener({ type: 'start', text: '' });
        listener(replay);
      }
      entry.listeners.add(listener);
      return () => {
        entry.listeners.delete(listener);
      };
    },

    get(traceId) {
      sweep();
      const entry = entries.get(traceId);
      return entry ? current(entry) : null;
    },
  };
}
