import type { ImagePart, TextPart } from 'ai';
import { AttachmentError, formatBytes } from '../attachments/attachment-error.js';
import type { AttachmentResolver, ResolvedAttachment } from '../attachments/resolve-attachment.js';
import type { ResourceCache } from '../attachments/resource-cache.js';
import { type BotTexts, textsFor } from '../i18n/bot-texts.js';
import type { Language } from '../i18n/language.js';
import type { Logger } from '../log.js';
import type { AttachmentResolvedEvent } from '../observe/bot-event.js';
import type { EventBus } from '../observe/event-bus.js';
import { errorMessage } from '../util/error-message.js';
import type { NormalisedMessage } from './inbound-message.js';
import type { AttachmentPart, MessagePart, RelatedMessage } from './message-parts.js';
import type { MessageSource } from './message-source.js';

/** What the model gets for the user's turn, in the order the user sent it. */

const ENGLISH = textsFor('en');
export type TurnContent = Array<TextPart | ImagePart>;

export interface ResolvedTurn {
  content: TurnContent;
  /** One line per content part, for the trace: what reached the model, without the bytes. */
  summary: string[];
  /** The text of the message replied to, for the instructions (its attachments are in `content`). */
  quoted?: string;
  /** Short sentences the user must see (a file that could not be read, an image over the cap). */
  notices: string[];
  /** Images in `content`: a turn with any needs a model that can see. */
  images: number;
  /** Whether `content` holds anything to answer besides notices. */
  readable: boolean;
  /** The compact form memory keeps: text, documents' text (bounded), images noted by key. */
  memoryText: string;
}

export interface TurnLimits {
  /** Per file (ATTACHMENT_MAX_BYTES). */
  maxBytes: number;
  /** Images per message (ATTACHMENT_MAX_IMAGES). */
  maxImages: number;
  downloadTimeoutMs: number;
  /** Forwarded bundles inside bundles are read this deep. */
  maxForwardDepth: number;
  /** Messages of one forwarded bundle read at most. */
  maxForwardMessages: number;
  /** Characters of one document's text kept in memory. */
  memoryChars: number;
}

/** Characters of one forwarded message the model gets (a bundle holds up to `maxForwardMessages`). */
const FORWARDED_MESSAGE_CHARS = 2_000;
/** Memory keeps at most this many documents' worth (`memoryChars` each) of one turn. */
const MEMORY_TURN_DOCUMENTS = 4;

export const DEFAULT_TURN_LIMITS: TurnLimits = {
  maxBytes: 20_000_000,
  maxImages: 10,
  downloadTimeoutMs: 30_000,
  maxForwardDepth: 3,
  maxForwardMessages: 50,
  memoryChars: 4_000,
};

export interface TurnResolverOptions {
  /** Without one (the playground without Feishu) attachments get a notice. */
  source?: MessageSource | undefined;
  resolver: AttachmentResolver;
  cache?: ResourceCache | undefined;
  limits?: Partial<TurnLimits>;
  bus: EventBus;
  log?: Logger;
  /** Sees each image that reaches the model (the devtools keep a small preview); must not throw. */
  onImage?: (traceId: string, key: string, image: Uint8Array) => void;
  /** Display names for senders of quoted and forwarded messages; failures fall back to the id. */
  nameOf?: (senderId: string) => Promise<string | undefined>;
  now?: () => number;
}

export interface ResolveTurnOptions {
  /** The job: resources are cached under it for its retries. */
  jobId: string;
  traceId: string;
  signal?: AbortSignal;
  /** False when no configured model can see images: images get a notice and are not downloaded. */
  canSeeImages: boolean;
  /** The language of the notices the person sees; absent: English. */
  language?: Language | undefined;
}

export interface TurnResolver {
  resolve(message: NormalisedMessage, options: ResolveTurnOptions): Promise<ResolvedTurn>;
  /** The job is done: its cached resources go. */
  release(jobId: string): Promise<void>;
}

/** Builds the turn while walking the parts: model content, memory text and notices side by side. */
interface TurnBuilder {
  content: TurnContent;
  memory: string[];
  notices: string[];
  images: number;
  readable: boolean;
  imagesOverCap: number;
  /** The notices' words: English keeps each notice's detailed reason, Chinese a reason per code. */
  say: BotTexts['attachments'] | undefined;
}

function addText(turn: TurnBuilder, text: string, memory: string = text): void {
  if (text.trim() === '') return;
  const last = turn.content.at(-1);
  if (last?.type === 'text') last.text = `${last.text}\n\n${text}`;
  else turn.content.push({ type: 'text', text });
  turn.memory.push(memory);
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n… (${text.length - max} more characters not kept)`;
}

/** `the file (q3.pdf)`-style label for notices about parts without a resolved name. */
function partName(part: AttachmentPart): string {
  if (part.type === 'file') return part.name ?? 'the file';
  return part.type === 'image' ? 'the image' : 'the voice message';
}

/**
 * Resolves a message's parts in the job: downloads each image, file and voice message (through
 * the job's cache, so a retry does not download again), reads it with the attachment resolver,
 * reads the quoted message and forwarded bundles, and assembles what the model gets in the
 * user's order, what memory keeps, and the notices the user must see. A part that cannot be
 * read becomes a notice and the rest still reaches the model; only an abort (shutdown) rejects.
 *
 * @example
 * const turns = createTurnResolver({ source, resolver, cache, bus });
 * const turn = await turns.resolve(message, { jobId, traceId, signal, canSeeImages: true });
 * await manager.answer({ ..., content: turn.content, quoted: turn.quoted });
 */
export function createTurnResolver({
  source,
  resolver,
  cache,
  limits: given = {},
  bus,
  log,
  nameOf,
  onImage,
  now = () => performance.now(),
}: TurnResolverOptions): TurnResolver {
  const limits: TurnLimits = { ...DEFAULT_TURN_LIMITS, ...given };

  function emit(event: Omit<AttachmentResolvedEvent, 'type'>): void {
    bus.emit({ type: 'attachment.resolved', ...event });
  }

  async function displayName(senderId: string): Promise<string> {
    if (nameOf === undefined) return senderId;
    try {
      return (await nameOf(senderId)) ?? senderId;
    } catch {
      return senderId;
    }
  }

  /** Downloads (or takes from the job's cache) and reads one attachment. */
  async function resolveAttachment(
    part: AttachmentPart,
    context: ResolveTurnOptions,
  ): Promise<{ resolved: ResolvedAttachment; cached: boolean; downloadMs: number }> {
    const name = partName(part);
    const startedAt = now();
    const key = `${part.messageId}/${part.key}`;
    let resource = await cache?.get(context.jobId, key);
    const cached = resource !== undefined;
    if (resource === undefined) {
      if (source === undefined) {
        throw new AttachmentError({
          code: 'ATTACHMENT_UNSUPPORTED',
          fileName: name,
          reason: 'files cannot be downloaded here (no Feishu connection)',
        });
      }
      if (part.type === 'file' && part.sizeBytes !== undefined && part.sizeBytes > limits.maxBytes) {
        throw new AttachmentError({
          code: 'ATTACHMENT_TOO_LARGE',
          fileName: name,
          reason: `it is larger than the ${formatBytes(limits.maxBytes)} limit`,
        });
      }
      const downloaded = await source.download(part, {
        name,
        maxBytes: limits.maxBytes,
        timeoutMs: limits.downloadTimeoutMs,
        ...(context.signal === undefined ? {} : { signal: context.signal }),
      });
      resource = cache === undefined ? downloaded : await cache.put(context.jobId, key, downloaded);
    }
    const downloadMs = now() - startedAt;
    const resolved = await resolver.resolve(
      {
        kind: part.type,
        ...(part.type === 'file' ? { name: part.name ?? resource.fileName ?? 'the file' } : {}),
        bytes: resource.bytes,
      },
      context.signal === undefined ? {} : { signal: context.signal },
    );
    return { resolved, cached, downloadMs };
  }

  /** A platform failure of a download or read, as the notice the user sees. */
  function failureNotice(
    name: string,
    error: unknown,
    say: BotTexts['attachments'] | undefined,
  ): { notice: string; code: string } {
    if (AttachmentError.isInstance(error))
      return { notice: say?.failed(error.fileName, error.code) ?? error.notice, code: error.code };
    const code = (error as { code?: unknown } | null)?.code;
    return {
      notice: (say ?? ENGLISH.attachments).downloadFailed(name),
      code: typeof code === 'number' ? `FEISHU_${code}` : 'ATTACHMENT_DOWNLOAD_FAILED',
    };
  }

  async function addAttachment(turn: TurnBuilder, part: AttachmentPart, context: ResolveTurnOptions, label = '') {
    const startedAt = now();
    const name = partName(part);
    const base = { traceId: context.traceId, part: part.type, messageId: part.messageId, key: part.key };
    if (part.type === 'image') {
      if (!context.canSeeImages) {
        const notice = (turn.say ?? ENGLISH.attachments).noVision;
        if (!turn.notices.includes(notice)) turn.notices.push(notice);
        addText(turn, `[${label}an image the assistant cannot see]`, `[image ${part.key}, not seen]`);
        emit({ ...base, name, outcome: 'notice', notice, code: 'VISION_UNAVAILABLE', elapsedMs: now() - startedAt });
        return;
      }
      if (turn.images >= limits.maxImages) {
        turn.imagesOverCap += 1;
        addText(turn, `[${label}an image not looked at: over ${limits.maxImages} images]`, `[image ${part.key}]`);
        emit({ ...base, name, outcome: 'notice', code: 'ATTACHMENT_TOO_MANY_IMAGES', elapsedMs: now() - startedAt });
        return;
      }
    }
    let result: Awaited<ReturnType<typeof resolveAttachment>>;
    try {
      result = await resolveAttachment(part, context);
    } catch (error) {
      if (AttachmentError.isInstance(error) && error.code === 'ATTACHMENT_ABORTED') throw error;
      if (context.signal?.aborted) throw error;
      const { notice, code } = failureNotice(name, error, turn.say);
      log?.info({ traceId: context.traceId, part: part.type, code, err: errorMessage(error) }, 'attachment not read');
      turn.notices.push(notice);
      addText(turn, `[${label}${name} could not be read: ${notice}]`);
      emit({ ...base, name, outcome: 'notice', notice, code, elapsedMs: now() - startedAt });
      return;
    }
    const { resolved, cached, downloadMs } = result;
    const done = {
      ...base,
      name: resolved.name,
      mediaType: resolved.mediaType,
      sizeBytes: resolved.sizeBytes,
      cached,
      downloadMs: Math.round(downloadMs),
      elapsedMs: Math.round(now() - startedAt),
    };
    switch (resolved.kind) {
      case 'image': {
        turn.images += 1;
        turn.readable = true;
        if (label !== '') addText(turn, `[${label}the image below]`, '');
        turn.content.push({ type: 'image', image: resolved.image.bytes, mediaType: resolved.image.mediaType });
        try {
          onImage?.(context.traceId, part.key, resolved.image.bytes);
        } catch (error) {
          log?.debug({ traceId: context.traceId, err: errorMessage(error) }, 'image listener failed');
        }
        turn.memory.push(`[image ${part.key}]`);
        emit({ ...done, outcome: 'ok' });
        return;
      }
      case 'document': {
        turn.readable = true;
        const header = `[${label}File ${resolved.name} (${resolved.mediaType}, ${formatBytes(resolved.sizeBytes)})]`;
        addText(
          turn,
          `${header}\n${resolved.document.text}\n[End of ${resolved.name}]`,
          `${header}\n${cut(resolved.document.text, limits.memoryChars)}`,
        );
        emit({ ...done, outcome: 'ok', chars: resolved.document.text.length });
        return;
      }
      case 'transcript': {
        turn.readable = true;
        const text = `[${label}Voice message, transcribed]: ${resolved.transcript.text}`;
        addText(turn, text);
        emit({
          ...done,
          outcome: 'ok',
          chars: resolved.transcript.text.length,
          transcript: resolved.transcript.text.slice(0, 500),
        });
        return;
      }
      case 'notice': {
        turn.notices.push(turn.say?.failed(resolved.name, resolved.code) ?? resolved.notice);
        addText(turn, `[${label}${resolved.name} could not be read: ${resolved.notice}]`);
        emit({ ...done, outcome: 'notice', notice: resolved.notice, code: resolved.code });
        return;
      }
    }
  }

  /** One part of the message (or of a quoted / forwarded one, with `label` saying whose). */
  async function addPart(turn: TurnBuilder, part: MessagePart, context: ResolveTurnOptions, label = '') {
    switch (part.type) {
      case 'text':
        turn.readable = true;
        addText(turn, part.text);
        return;
      case 'image':
      case 'file':
      case 'audio':
        await addAttachment(turn, part, context, label);
        return;
      case 'unreadable': {
        const notice = (turn.say ?? ENGLISH.attachments).cannotRead(part.what);
        if (!turn.notices.includes(notice)) turn.notices.push(notice);
        addText(turn, `[${label}${part.what}, which cannot be read]`);
        emit({
          traceId: context.traceId,
          part: 'unreadable',
          name: part.what,
          outcome: 'notice',
          notice,
          elapsedMs: 0,
        });
        return;
      }
      case 'forward':
        await addForward(turn, part.messageId, context, 1);
        return;
      case 'quote':
        // Handled before the other parts (it sets `quoted`); a quote inside a quote is not followed.
        return;
    }
  }

  async function addForward(turn: TurnBuilder, messageId: string, context: ResolveTurnOptions, depth: number) {
    const startedAt = now();
    const base = { traceId: context.traceId, part: 'forward' as const, messageId, name: 'a forwarded bundle' };
    if (source === undefined) return;
    let items: RelatedMessage[];
    try {
      items = await source.readMessages(messageId, context.signal === undefined ? {} : { signal: context.signal });
    } catch (error) {
      if (context.signal?.aborted) throw error;
      const notice = (turn.say ?? ENGLISH.attachments).forwardUnreadable;
      turn.notices.push(notice);
      addText(turn, `[${notice}]`);
      emit({ ...base, outcome: 'notice', notice, code: 'FORWARD_UNREADABLE', elapsedMs: now() - startedAt });
      return;
    }
    const members = items.filter((item) => item.messageId !== messageId);
    const children = (upper: string) => members.filter((item) => item.upperMessageId === upper);
    let count = 0;
    let left = 0;
    const walk = async (upper: string, level: number, indent: string) => {
      for (const member of children(upper)) {
        if (count >= limits.maxForwardMessages) {
          left += 1;
          continue;
        }
        count += 1;
        const who = await displayName(member.senderId);
        const when = member.createTime > 0 ? ` (${new Date(member.createTime).toISOString().slice(0, 16)}Z)` : '';
        if (member.messageType === 'merge_forward') {
          if (level >= limits.maxForwardDepth) {
            addText(turn, `${indent}${who}${when} forwarded more messages (not expanded: too deeply nested)`);
            continue;
          }
          addText(turn, `${indent}${who}${when} forwarded these messages:`);
          await walk(member.messageId, level + 1, `${indent}  `);
          continue;
        }
        const words = member.parts.filter((part) => part.type === 'text').map((part) => part.text);
        const said = cut(words.join(' '), FORWARDED_MESSAGE_CHARS);
        addText(turn, `${indent}${who}${when}: ${said}`.trimEnd(), `${indent}${who}: ${cut(said, 300)}`.trimEnd());
        for (const part of member.parts) {
          if (part.type !== 'text') await addPart(turn, part, context, `From ${who}: `);
        }
      }
    };
    addText(turn, '[Forwarded messages, in order]');
    await walk(messageId, depth, '');
    if (left > 0) addText(turn, `[… ${left} more forwarded messages not included]`);
    addText(turn, '[End of forwarded messages]');
    turn.readable = turn.readable || count > 0;
    emit({ ...base, outcome: 'ok', chars: members.length, elapsedMs: Math.round(now() - startedAt) });
  }

  /** Reads the quoted message: its words go to the instructions, its attachments into the turn. */
  async function addQuote(
    turn: TurnBuilder,
    messageId: string,
    context: ResolveTurnOptions,
  ): Promise<string | undefined> {
    const startedAt = now();
    const base = { traceId: context.traceId, part: 'quote' as const, messageId, name: 'the quoted message' };
    if (source === undefined) return undefined;
    let quoted: RelatedMessage | undefined;
    try {
      const items = await source.readMessages(
        messageId,
        context.signal === undefined ? {} : { signal: context.signal },
      );
      quoted = items.find((item) => item.messageId === messageId);
    } catch (error) {
      if (context.signal?.aborted) throw error;
      log?.debug({ traceId: context.traceId, err: errorMessage(error) }, 'quoted message not read');
    }
    if (quoted === undefined || quoted.deleted === true) {
      emit({ ...base, outcome: 'notice', code: 'QUOTE_UNREADABLE', elapsedMs: Math.round(now() - startedAt) });
      return undefined;
    }
    const who = await displayName(quoted.senderId);
    const attachments = quoted.parts.filter((part) => part.type !== 'text' && part.type !== 'quote');
    for (const part of attachments) await addPart(turn, part, context, 'From the quoted message: ');
    const words = quoted.parts
      .filter((part) => part.type === 'text')
      .map((part) => part.text)
      .join('\n');
    const text = words.trim() === '' ? quoted.text : words;
    turn.memory.unshift(`[replying to ${who}: ${cut(text, 500)}]`);
    emit({ ...base, outcome: 'ok', chars: text.length, elapsedMs: Math.round(now() - startedAt) });
    return text;
  }

  return {
    async resolve(message, context) {
      const turn: TurnBuilder = {
        content: [],
        memory: [],
        notices: [],
        images: 0,
        readable: false,
        imagesOverCap: 0,
        // English keeps each notice's own detailed wording; another language words them by code.
        say:
          context.language === undefined || context.language === 'en'
            ? undefined
            : textsFor(context.language).attachments,
      };
      let quoted: string | undefined;
      const quote = message.parts.find((part) => part.type === 'quote');
      if (quote !== undefined) quoted = await addQuote(turn, quote.messageId, context);
      for (const part of message.parts) await addPart(turn, part, context);
      if (turn.imagesOverCap > 0) {
        turn.notices.push((turn.say ?? ENGLISH.attachments).tooManyImages(limits.maxImages, turn.imagesOverCap));
      }
      // Attachments from the quote alone (a bare mention replying to a PDF) are something to answer too.
      const readable = turn.readable || quoted !== undefined;
      return {
        content: turn.content,
        summary: summarise(turn.content),
        ...(quoted === undefined ? {} : { quoted }),
        notices: turn.notices,
        images: turn.images,
        readable,
        memoryText: cut(
          turn.memory.filter((line) => line !== '').join('\n'),
          limits.memoryChars * MEMORY_TURN_DOCUMENTS,
        ),
      };
    },
    async release(jobId) {
      await cache?.purge(jobId).catch((error: unknown) => {
        log?.warn({ jobId, err: errorMessage(error) }, 'could not purge the job’s cached attachments');
      });
    },
  };
}

/** `text (1 234 chars)` / `image (image/png, 3.1 KB)` per part, in order. */
export function summarise(content: TurnContent): string[] {
  return content.map((part) =>
    part.type === 'text'
      ? `text (${part.text.length} chars): ${part.text.slice(0, 80).replace(/\s+/g, ' ')}${part.text.length > 80 ? '…' : ''}`
      : `image (${part.mediaType ?? 'image'}, ${part.image instanceof Uint8Array ? formatBytes(part.image.byteLength) : 'by URL'})`,
  );
}
