import {
  BOT_SENDER_REASON,
  botSender,
  ignoreReason,
  type NormalisedMessage,
  type UnsupportedMessage,
} from '../feishu/normalise-message.js';
import { type CommandName, isStopRequest, parseCommand } from './commands.js';
import { hasNonTextParts } from './message-parts.js';
import type { PolicyVerdict } from './policy.js';

/**
 * What the decision reads of a message: fields of the neutral normalised message, never the
 * platform payload, so a richer message shape only has to keep these fields meaning the same.
 */
export type DecidableMessage =
  | (Pick<NormalisedMessage, 'kind' | 'chatType' | 'sender' | 'mentionsBot' | 'text'> &
      Partial<Pick<NormalisedMessage, 'parts'>>)
  | Pick<UnsupportedMessage, 'kind' | 'reason' | 'detail' | 'chatType' | 'messageId' | 'chatId' | 'sender'>;

/** The fixed short replies the decision can choose instead of an answer. */
export type NoticeKind =
  /** A direct message the bot cannot read (an image, a file): say so rather than stay silent. */
  | 'unsupported-type'
  /** A bare mention with no question: a greeting that says how to ask. */
  | 'greeting';

/** What the conversation step does with one message. Closed: every handler switch is exhaustive. */
export type Decision =
  /** Run the manager agent and stream its answer. */
  | { action: 'answer' }
  /** A slash command, answered without the model. */
  | { action: 'command'; command: CommandName }
  /** No reply at all; reported as `message.ignored` with `reason`. */
  | { action: 'ignore'; reason: string }
  /**
   * A fixed short reply. With a `reason` the message also counts as ignored (it was not read),
   * and is reported as `message.ignored` with it.
   */
  | { action: 'notice'; kind: NoticeKind; reason?: string }
  /** The policy's friendly refusal (rate limited, too long); reported as `message.ignored` too. */
  | { action: 'refuse'; reason: string; text: string };

export interface DecisionInput {
  message: DecidableMessage;
  /**
   * The policy's verdict. Only a message `addressedToBot` is put to the policy (asking counts it
   * against the rate limits), so this is absent for every other message.
   */
  verdict?: PolicyVerdict | undefined;
}

/**
 * A readable message the bot is meant to hear: a direct message, or a group message that
 * mentions it, never one from a bot (bots answering bots loop forever).
 */
export function addressedToBot<Message extends DecidableMessage>(
  message: Message,
): message is Extract<Message, { kind: 'message' }> {
  return message.kind === 'message' && ignoreReason(message) === undefined;
}

/**
 * Whether and how to answer one message, in order: unreadable → not addressed to the bot →
 * the policy's verdict → a command → an empty mention → answer. Pure: the caller reads the
 * message and asks the policy; this only decides.
 *
 * @example
 * const verdict = addressedToBot(message) ? await policy.evaluate(subject) : undefined;
 * const decision = decide({ message, verdict });
 * if (decision.action === 'ignore') bus.emit({ type: 'message.ignored', traceId, reason: decision.reason });
 */
export function decide({ message, verdict }: DecisionInput): Decision {
  if (message.kind === 'unsupported') {
    // Not even a notice for a bot: two bots telling each other "I can only read text" loop forever.
    if (message.sender !== undefined && botSender(message.sender) !== undefined) {
      return { action: 'ignore', reason: BOT_SENDER_REASON };
    }
    const reason = `unsupported: ${message.detail}`;
    // In a direct chat the person is clearly talking to us: say why nothing else happens.
    const tellSender =
      message.reason === 'MESSAGE_TYPE_UNSUPPORTED' &&
      message.chatType === 'p2p' &&
      Boolean(message.messageId) &&
      Boolean(message.chatId);
    return tellSender ? { action: 'notice', kind: 'unsupported-type', reason } : { action: 'ignore', reason };
  }
  const notAddressed = ignoreReason(message);
  if (notAddressed !== undefined) return { action: 'ignore', reason: notAddressed };
  // The stop itself happened when the message arrived (see typed-stop.ts); nothing to answer, and
  // nothing for the policy to count: a "stop" must never be refused as one message too many.
  if (isStopRequest(message.text)) return { action: 'ignore', reason: 'stop request' };
  // Fail closed: a message nobody put to the policy must not reach the model.
  if (verdict === undefined) return { action: 'ignore', reason: 'policy not consulted' };
  if (verdict.action === 'ignore') return { action: 'ignore', reason: verdict.reason };
  const command = parseCommand(message.text);
  if (verdict.action === 'reply' && !(verdict.answersOnly && command !== undefined)) {
    return { action: 'refuse', reason: verdict.reason, text: verdict.text };
  }
  if (command !== undefined) return { action: 'command', command };
  // A picture, a file or a voice message with no words is still something to answer.
  if (message.text.trim() === '' && !hasNonTextParts(message.parts)) return { action: 'notice', kind: 'greeting' };
  return { action: 'answer' };
}
