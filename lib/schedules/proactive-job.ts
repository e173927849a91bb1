import { z } from 'zod';
import { APP_ID_PATTERN } from '../feishu/feishu-apps.js';
import { appIdField } from '../inbox/app-scope.js';
import { conversationKey } from '../inbox/conversation-key.js';
import type { NewJob } from '../store/store.js';

/** The job kind of work nobody typed just now: a schedule that came due, a notification. */
export const PROACTIVE_JOB_KIND = 'proactive';

/** A chat (or a topic in it) the bot posts into without a message to reply to. */
export const proactiveTarget = z.strictObject({
  /** The app (bot) that posts it, when not the default one (several apps in one process). */
  appId: z.string().regex(APP_ID_PATTERN).optional(),
  chatId: z.string().min(1).max(128),
  chatType: z.enum(['p2p', 'group']),
  /** The topic's root message: the post goes into that topic. */
  rootMessageId: z.string().min(1).max(128).optional(),
  threadId: z.string().min(1).max(128).optional(),
});
export type ProactiveTarget = z.infer<typeof proactiveTarget>;

/**
 * - `remind`: the text as a reminder card;
 * - `message`: the text as it is (a notification, a skipped-schedule note);
 * - `run`: the text is a request the manager agent answers, its answer posted like any answer.
 */
export const proactiveAction = z.enum(['remind', 'message', 'run']);
export type ProactiveAction = z.infer<typeof proactiveAction>;

export const proactivePayload = z.strictObject({
  origin: z.enum(['schedule', 'notify']),
  action: proactiveAction,
  text: z.string().min(1).max(10_000),
  target: proactiveTarget,
  /** Who set it up (open_id), for a schedule. */
  requestedBy: z.string().max(128).optional(),
  scheduleId: z.string().max(128).optional(),
  /** The due time a schedule's run is for. */
  dueAt: z.number().int().optional(),
  timeZone: z.string().max(64).optional(),
  /** Set when the due time was missed by too much: a short note is posted instead of the work. */
  missed: z.strictObject({ lateMs: z.number().int().min(0) }).optional(),
  /** A notification's request digest: a replayed idempotency key must come with the same request. */
  requestHash: z.string().max(64).optional(),
});
export type ProactivePayload = z.infer<typeof proactivePayload>;

/**
 * The job for proactive work, in the lane of the conversation it posts into, so it waits for the
 * answer being written there and the next message waits for it.
 *
 * @example
 * await store.enqueue(proactiveJob(`notify-${hash}`, { origin: 'notify', action: 'message', text, target }));
 */
export function proactiveJob(id: string, payload: ProactivePayload): NewJob {
  const { appId, chatId, threadId, rootMessageId } = payload.target;
  return {
    id,
    lane: conversationKey({ appId, chatId, threadId, rootId: rootMessageId }),
    kind: PROACTIVE_JOB_KIND,
    payload,
  };
}

/**
 * Where proactive posts for a message's conversation go: its chat, and its topic when it is in
 * one (a reply in the thread of the topic's root message: the message itself when it starts the
 * topic). A plain reply chain without a topic gets a new message in the chat.
 */
export function proactiveTargetOf(message: {
  appId?: string | undefined;
  chatId: string;
  chatType: 'p2p' | 'group';
  messageId: string;
  threadId?: string | undefined;
  rootId?: string | undefined;
}): ProactiveTarget {
  const { chatId, chatType, messageId, threadId, rootId } = message;
  const app = appIdField(message.appId);
  if (!threadId) return { ...app, chatId, chatType };
  return { ...app, chatId, chatType, rootMessageId: rootId ?? messageId, ...(threadId ? { threadId } : {}) };
}
