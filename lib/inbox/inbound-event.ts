import type { NormalisedMessage } from '../conversation/inbound-message.js';
import type { EventSource } from '../observe/bot-event.js';

/**
 * One Feishu event as the inbox sees it, whatever transport brought it: the webhook (after
 * signature check and decryption), the long connection, or the devtools playground.
 * This is what is persisted before the ack, so it must be plain JSON.
 */
export interface InboundEvent {
  source: EventSource;
  /**
   * The Feishu app (bot) that received it, by its configured id (a playground message: the app it
   * is addressed to); absent for the FEISHU_APP_ID app and a playground message to the default
   * app, whose stored events and keys predate several apps.
   */
  appId?: string;
  /** `header.event_id` (v2) or `uuid` (v1); devtools makes one up. */
  eventId: string;
  /** e.g. `im.message.receive_v1`. */
  eventType: string;
  /** `header.create_time` in epoch ms when Feishu sent it, else the receive time. */
  createdAt: number;
  receivedAt: number;
  /** The v2 `event` object (for messages: `{ sender, message }`); empty when `message` is given. */
  event: unknown;
  /**
   * The message already in the neutral shape, when the receiver built it itself (the devtools
   * playground); Feishu events are normalised from `event` in the job instead, where the bot's
   * own open_id (needed for mentions) is known.
   */
  message?: NormalisedMessage;
}

/** The outcome of `inbox.accept`, which the transport turns into its ack. */
export type AcceptResult =
  | { status: 'accepted'; jobId: string }
  | { status: 'duplicate'; key: 'event_id' | 'message_id' }
  | { status: 'ignored'; reason: string }
  /** The store could not persist it: do NOT ack (webhook 503) so Feishu delivers it again. */
  | { status: 'unavailable'; reason: string };

/** Both transports and the playground feed one inbox through this tiny interface. */
export interface InboxReceiver {
  accept(event: InboundEvent): Promise<AcceptResult>;
}
