/**
 * The parts of one inbound message, in the order the sender put them, as the platform edge
 * produces them (lib/feishu/normalise-message.ts for Feishu, the devtools playground directly).
 * Plain JSON, so it can be stored with the job. Nothing here has been downloaded yet: parts that
 * need bytes or another message (image, file, audio, quote, forward) are resolved in the job by
 * `resolve-turn.ts`, never in the ack path.
 */

/** A resource inside a message: the message that carries it and the platform's key for it. */
export interface ResourceRef {
  /** The message the resource belongs to (for a quote: the quoted message). */
  messageId: string;
  /** The platform's key (Feishu `image_key` / `file_key`). */
  key: string;
}

export type MessagePart =
  /** Text as written: mentions as `@Name`, links as `label (url)`, code blocks fenced. */
  | { type: 'text'; text: string }
  | ({ type: 'image' } & ResourceRef)
  | ({ type: 'file'; name?: string; sizeBytes?: number } & ResourceRef)
  | ({ type: 'audio'; durationMs?: number } & ResourceRef)
  /** Something the bot cannot read at all (a video, a sticker, a location): named for the notice. */
  | { type: 'unreadable'; what: string }
  /** The message this one replies to; read and resolved in the job. */
  | { type: 'quote'; messageId: string }
  /** A forwarded bundle (Feishu `merge_forward`); its messages are read in the job. */
  | { type: 'forward'; messageId: string };

export type MessagePartType = MessagePart['type'];

/** Parts that need bytes downloaded. */
export type AttachmentPart = Extract<MessagePart, { type: 'image' | 'file' | 'audio' }>;

export function isAttachmentPart(part: MessagePart): part is AttachmentPart {
  return part.type === 'image' || part.type === 'file' || part.type === 'audio';
}

/**
 * True when the message carries something besides its text: an empty text is then no greeting
 * (a bare mention replying to a PDF asks about the PDF).
 */
export function hasNonTextParts(parts: readonly MessagePart[] | undefined): boolean {
  return (parts ?? []).some((part) => part.type !== 'text');
}

/**
 * Adjacent text parts joined, empty ones dropped, so "text, image, text" keeps its order and
 * nothing else changes.
 *
 * @example
 * compactParts([{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }]); // [{ type: 'text', text: 'ab' }]
 */
export function compactParts(parts: readonly MessagePart[]): MessagePart[] {
  const out: MessagePart[] = [];
  for (const part of parts) {
    if (part.type === 'text') {
      if (part.text === '') continue;
      const last = out.at(-1);
      if (last?.type === 'text') {
        out[out.length - 1] = { type: 'text', text: last.text + part.text };
        continue;
      }
    }
    out.push(part);
  }
  return out
    .map((part) => (part.type === 'text' ? { type: 'text' as const, text: tidyText(part.text) } : part))
    .filter((part) => part.type !== 'text' || part.text !== '');
}

function tidyText(value: string): string {
  // Line edges are tidied (a removed bot mention leaves a space) except inside code fences.
  let inFence = false;
  return value
    .split('\n')
    .map((line) => {
      if (line.trimStart().startsWith('```')) {
        inFence = !inFence;
        return line.trim();
      }
      return inFence ? line.trimEnd() : line.trim();
    })
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/**
 * A message read back from the platform (the one quoted, or one inside a forwarded bundle),
 * in the same neutral shape as the inbound message's parts.
 */
export interface RelatedMessage {
  messageId: string;
  /** The platform id of who sent it (a user's open_id, a bot's app id). */
  senderId: string;
  senderType: 'user' | 'app' | string;
  /** Epoch ms. */
  createTime: number;
  messageType: string;
  text: string;
  parts: MessagePart[];
  /** Inside a forwarded bundle: the bundle (or nested bundle) it belongs to. */
  upperMessageId?: string;
  deleted?: boolean;
}
