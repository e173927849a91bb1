import type { DevtoolsReplies } from '../devtools/devtools-replies.js';
import type { FeishuClient } from '../feishu/feishu-client.js';
import { createReplySinkForJob } from '../feishu/reply/reply-for-job.js';
import { textsFor } from '../i18n/bot-texts.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import { controlValue } from './card-actions.js';
import type { ReplySinkFor } from './reply-sink.js';

/** The Stop button's label on a streaming answer (English; the reply's language picks its own). */
export const STOP_LABEL = textsFor('en').buttons.stop;
/** The feedback buttons' labels on a finished answer. */
export const FEEDBACK_LABELS = { up: textsFor('en').buttons.up, down: textsFor('en').buttons.down } as const;

/** Thrown when a message arrives from a channel whose replies are not wired (a configuration mismatch). */
export class ReplyRouteError extends Error {
  readonly code = 'REPLY_CHANNEL_OFF';
  constructor(message: string) {
    super(message);
    this.name = 'ReplyRouteError';
  }
}

export interface ReplyRouterOptions {
  /** Feishu replies; absent when the Feishu channel is off. */
  feishu?: {
    client: FeishuClient;
    /** Sequenced writes per card per second (REPLY_CARD_UPDATES_PER_SECOND). */
    cardUpdatesPerSecond?: number;
  };
  /** The playground's answers; absent when devtools are off. */
  devtools?: DevtoolsReplies;
  bus: EventBus;
  log: Logger;
}

/**
 * Where an answer goes, by the transport that brought the message: a devtools playground message
 * streams back to the playground, a Feishu message (webhook or long connection) into a CardKit
 * card under it (plain text when cards are unavailable) that a resumed job continues.
 *
 * @example
 * const replySinkFor = createReplyRouter({ feishu: { client, cardUpdatesPerSecond: 4 }, devtools, bus, log });
 * const sink = replySinkFor(replyContext);
 * await sink.start();
 */
export function createReplyRouter({ feishu, devtools, bus, log }: ReplyRouterOptions): ReplySinkFor {
  return (reply) => {
    if (reply.source === 'devtools') {
      if (devtools === undefined) throw new ReplyRouteError('a devtools message arrived while devtools are off');
      return devtools.sinkFor(reply.traceId);
    }
    if (feishu === undefined) throw new ReplyRouteError('a Feishu message arrived while the Feishu channel is off');
    const asker = reply.stoppableBy;
    const { language } = reply;
    const { buttons, thinking } = textsFor(language ?? 'en');
    return createReplySinkForJob({
      ...(asker === undefined
        ? {}
        : {
            controls: [
              {
                id: 'stop',
                label: buttons.stop,
                style: 'danger',
                value: controlValue({ action: 'stop', run: reply.traceId, asker, language }),
              },
            ],
            // A finished answer can be rated by the person who asked.
            finishControls: (['up', 'down'] as const).map((choice) => ({
              id: `feedback_${choice}`,
              label: buttons[choice],
              value: controlValue({ action: 'feedback', run: reply.traceId, asker, choice, language }),
            })),
          }),
      // English keeps the card's own default; another language names its "thinking" state.
      ...(language === undefined || language === 'en' ? {} : { thinkingText: thinking, language }),
      context: reply.job,
      message: reply,
      client: feishu.client,
      bus,
      log,
      ...(feishu.cardUpdatesPerSecond === undefined ? {} : { updatesPerSecond: feishu.cardUpdatesPerSecond }),
    });
  };
}
