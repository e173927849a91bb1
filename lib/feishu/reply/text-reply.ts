import type { ReplySink } from '../../conversation/reply-sink.js';
import { sleep as realSleep } from '../../util/sleep.js';
import { callFeishu } from '../call-feishu.js';
import { REPLY_DEFAULTS, type ReplyOptions } from './reply-options.js';
import { resolveRetryPolicy } from './retry-policy.js';
import { sendReply } from './send-reply.js';

export type TextReplyFormat = 'text' | 'post';

export interface TextReplyOptions extends ReplyOptions {
  /**
   * `text` (default) shows exactly what the model wrote; `post` renders its markdown through
   * Feishu's `md` post element (30 KB per message instead of 150 KB).
   */
  format?: TextReplyFormat;
  /** Budget per message for its JSON `content`, under Feishu's limit (150 KB text, 30 KB post). */
  maxMessageBytes?: number;
  /** Emoji put on the user's message while the answer is produced (`false`: none). */
  reaction?: string | false;
}

const DEFAULT_MAX_BYTES: Record<TextReplyFormat, number> = { text: 140_000, post: 28_000 };

/**
 * A ReplySink that shows nothing while the answer is produced (a reaction on the user's message
 * says it is being worked on) and replies with the whole answer at the end: one message, or
 * several cut at line boundaries when it exceeds Feishu's size limit. Every message carries a
 * `uuid` from `idempotencyKey`, so a retried or resumed job cannot post it twice.
 *
 * It is the fallback when CardKit cards are unavailable, and what the streaming card switches to
 * when a card can no longer be written.
 *
 * @example
 * const sink = createTextReply({ client, bus, log, traceId: job.id, idempotencyKey,
 *   target: { messageId, chatId, replyInThread: true } });
 * await sink.start();
 * sink.update('partial…');
 * await sink.finish('The whole answer.');
 */
export function createTextReply({
  client,
  bus,
  log,
  target,
  traceId,
  idempotencyKey,
  format = 'text',
  maxMessageBytes = DEFAULT_MAX_BYTES[format],
  reaction = 'Typing',
  emptyText = REPLY_DEFAULTS.emptyText,
  backoff,
  requestTimeoutMs = REPLY_DEFAULTS.requestTimeoutMs,
  sleep = realSleep,
}: TextReplyOptions): ReplySink {
  const retry = resolveRetryPolicy(backoff);
  let reactionId: string | undefined;
  let finished = false;

  const encode = (text: string): string =>
    format === 'post'
      ? JSON.stringify({ zh_cn: { title: '', content: [[{ tag: 'md', text }]] } })
      : JSON.stringify({ text: escapeTextMessage(text) });

  const removeReaction = async () => {
    if (reactionId === undefined || target.messageId === undefined) return;
    const id = reactionId;
    const messageId = target.messageId;
    reactionId = undefined;
    try {
      await callFeishu(
        bus,
        'im.v1.messageReaction.delete',
        () => client.im.v1.messageReaction.delete({ path: { message_id: messageId, reaction_id: id } }),
        { client, timeoutMs: requestTimeoutMs },
      );
    } catch (error) {
      log.debug({ err: error }, 'could not remove the working reaction');
    }
  };

  const deliver = async (text: string, notice?: string) => {
    if (finished) return;
    finished = true;
    const shown = text === '' ? emptyText : text;
    const chunks = splitForMessages(shown, maxMessageBytes, encode);
    for (const [index, chunk] of chunks.entries()) {
      await sendReply({
        client,
        bus,
        log,
        target,
        msgType: format,
        content: encode(chunk),
        uuid: idempotencyKey(`text-${index}`),
        chatUuid: idempotencyKey(`text-${index}-chat`),
        timeoutMs: requestTimeoutMs,
        retry,
        sleep,
      });
    }
    await removeReaction();
    bus.emit({
      type: 'reply.finished',
      traceId,
      mode: 'text',
      length: text.length,
      cards: 0,
      text: shown,
      ...(notice === undefined ? {} : { notice }),
    });
  };

  return {
    async start() {
      bus.emit({ type: 'reply.started', traceId, mode: 'text' });
      // Nothing to react to when the answer is not a reply (a scheduled run, a notification).
      const messageId = target.messageId;
      if (reaction === false || messageId === undefined) return;
      try {
        const body = await callFeishu(
          bus,
          'im.v1.messageReaction.create',
          () =>
            client.im.v1.messageReaction.create({
              path: { message_id: messageId },
              data: { reaction_type: { emoji_type: reaction } },
            }),
          { client, timeoutMs: requestTimeoutMs },
        );
        reactionId = body?.data?.reaction_id;
      } catch (error) {
        // Only a courtesy: the answer itself must not depend on it.
        log.debug({ err: error }, 'could not add the working reaction');
      }
    },
    update() {
      // Nothing is shown until the end: message edits are limited to about 20 per message.
    },
    finish(finalText, summary) {
      return deliver(summary ? `${finalText}\n\n${summary}` : finalText);
    },
    fail(partialText, notice) {
      return deliver(withNotice(partialText, notice), notice);
    },
  };
}

/** The partial answer followed by the notice, separated by a blank line. */
export function withNotice(partialText: string, notice: string): string {
  return partialText.trim() === '' ? notice : `${partialText}\n\n${notice}`;
}

/**
 * In a text message `<at user_id="…">` mentions people (`all` mentions everyone). The model's
 * text must never do that, so a zero-width space breaks the tag without changing what is seen.
 */
export function escapeTextMessage(text: string): string {
  return text.replace(/<(\/?at\b)/gi, '<\u200b$1');
}

/**
 * Cuts `text` into pieces whose encoded form fits `maxBytes`, at line ends where possible. The
 * pieces concatenate back to `text` exactly.
 */
export function splitForMessages(text: string, maxBytes: number, encode: (piece: string) => string): string[] {
  const fits = (piece: string) => Buffer.byteLength(encode(piece), 'utf8') <= maxBytes;
  if (fits(text)) return [text];
  const pieces: string[] = [];
  let rest = text;
  while (rest !== '' && !fits(rest)) {
    // Largest fitting prefix by binary search, then back off to the last line end in it.
    let low = 1;
    let high = rest.length;
    if (!fits(rest.slice(0, 1))) throw new RangeError(`maxBytes ${maxBytes} cannot hold a single character`);
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if (fits(rest.slice(0, middle))) low = middle;
      else high = middle - 1;
    }
    let cut = low;
    const code = rest.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff && cut > 1) cut--;
    const newline = rest.lastIndexOf('\n', cut - 1);
    if (newline >= Math.floor(cut / 2)) cut = newline + 1;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest !== '') pieces.push(rest);
  return pieces;
}
