import { normaliseMessage, rawMessageContent } from '../feishu/normalise-message.js';
import type { InboundEvent } from '../inbox/inbound-event.js';
import type { Logger } from '../log.js';
import type { NewJob } from '../store/store.js';
import { errorMessage } from '../util/error-message.js';
import type { ChatAdminCheck } from './card-actions.js';
import { isStopRequest, mayBeStopRequest } from './commands.js';
import type { BotOpenId } from './message-job.js';
import type { RunStops } from './run-stops.js';

export interface TypedStopOptions {
  stops: RunStops;
  /** Lets a chat admin stop someone else's answer. */
  isChatAdmin?: ChatAdminCheck;
  botOpenId?: BotOpenId | undefined;
  log: Logger;
  /** The job kind of messages (only those are read). */
  messageKind?: string;
}

function inboundOf(payload: unknown): InboundEvent | undefined {
  return typeof payload === 'object' && payload !== null && 'event' in payload ? (payload as InboundEvent) : undefined;
}

/**
 * "stop" / "停止" typed in a conversation stops the answer running there. The message arrives as
 * a job in the same lane as the running answer, so it would only be read after that answer
 * ended; this looks at each job as it is enqueued instead (the inbox's `onEnqueued`) and asks
 * the lane's running answer to stop, when the sender asked it (or administers the chat). The
 * message itself is later ignored by `decide`.
 *
 * @example
 * const typedStop = createTypedStop({ stops, isChatAdmin, botOpenId, log });
 * createInbox({ ..., onEnqueued: (job) => { dispatcher.wake(job.kind); typedStop(job); } });
 */
export function createTypedStop({
  stops,
  isChatAdmin,
  botOpenId,
  log,
  messageKind = 'answer',
}: TypedStopOptions): (job: NewJob) => void {
  async function handle(job: NewJob): Promise<void> {
    const inbound = inboundOf(job.payload);
    if (inbound === undefined) return;
    // This runs for every message as it is acknowledged: one without a stop word is not read.
    const raw = inbound.message === undefined ? rawMessageContent(inbound.event) : undefined;
    if (raw !== undefined && !mayBeStopRequest(raw)) return;
    const openId = typeof botOpenId === 'function' ? await botOpenId() : botOpenId;
    const message = inbound.message ?? normaliseMessage(inbound.event, { botOpenId: openId });
    if (message.kind !== 'message' || !isStopRequest(message.text)) return;
    const active = await stops.activeRun(job.lane);
    if (active === undefined) return;
    const sender = message.sender.openId;
    const allowed = sender === active.asker || (await isChatAdmin?.(message.chatId, sender)) === true;
    if (!allowed) {
      log.info({ lane: job.lane, run: active.run }, 'a stop typed by someone else than the asker was ignored');
      return;
    }
    await stops.request(active.run, sender, 'message');
  }

  return (job) => {
    if (job.kind !== messageKind) return;
    handle(job).catch((error: unknown) => log.warn({ err: errorMessage(error), jobId: job.id }, 'typed stop failed'));
  };
}
