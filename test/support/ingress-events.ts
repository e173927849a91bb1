import { encryptEvent } from '../../lib/feishu/webhook/decrypt-event.js';
import { computeSignature } from '../../lib/feishu/webhook/verify-signature.js';
import type { InboundEvent } from '../../lib/inbox/inbound-event.js';

/** A v2 `im.message.receive_v1` envelope as Feishu posts it to the webhook. */
export function messageEnvelope({
  eventId,
  messageId,
  chatId = 'oc_chat',
  chatType = 'p2p',
  text = 'hello',
  token = 'verification-token',
  rootId,
  threadId,
  createTime = Date.now(),
  senderType = 'user',
  senderOpenId = 'ou_user',
  mentions = [],
}: {
  eventId: string;
  messageId: string;
  chatId?: string;
  chatType?: 'p2p' | 'group';
  text?: string;
  token?: string;
  rootId?: string;
  threadId?: string;
  createTime?: number;
  senderType?: string;
  senderOpenId?: string;
  mentions?: unknown[];
}) {
  return {
    schema: '2.0',
    header: {
      event_id: eventId,
      event_type: 'im.message.receive_v1',
      create_time: String(createTime),
      token,
      app_id: 'cli_a1b2c3d4e5f60718',
      tenant_key: 'tenant',
    },
    event: {
      sender: {
        sender_id: { open_id: senderOpenId, user_id: 'u1', union_id: 'on_u' },
        sender_type: senderType,
        tenant_key: 'tenant',
      },
      message: {
        message_id: messageId,
        chat_id: chatId,
        chat_type: chatType,
        message_type: 'text',
        create_time: String(createTime),
        content: JSON.stringify({ text }),
        mentions,
        ...(rootId ? { root_id: rootId } : {}),
        ...(threadId ? { thread_id: threadId } : {}),
      },
    },
  };
}

/** The same as the inbox sees it after a transport parsed it. */
export function inboundMessage(options: Parameters<typeof messageEnvelope>[0]): InboundEvent {
  const envelope = messageEnvelope(options);
  return {
    source: 'webhook',
    eventId: envelope.header.event_id,
    eventType: envelope.header.event_type,
    createdAt: Number(envelope.header.create_time),
    receivedAt: Date.now(),
    event: envelope.event,
  };
}

/** Headers and body of a webhook POST as Feishu sends it: optionally encrypted, signed when a key is given. */
export function webhookRequest(
  payload: unknown,
  {
    encryptKey,
    encrypt = encryptKey !== undefined,
    sign = encryptKey !== undefined,
    timestamp = String(Math.floor(Date.now() / 1000)),
    nonce = `nonce-${Math.random().toString(36).slice(2)}`,
  }: { encryptKey?: string; encrypt?: boolean; sign?: boolean; timestamp?: string; nonce?: string } = {},
): { headers: Record<string, string>; body: string } {
  const body =
    encrypt && encryptKey ? JSON.stringify({ encrypt: encryptEvent(payload, encryptKey) }) : JSON.stringify(payload);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (sign && encryptKey) {
    headers['x-lark-request-timestamp'] = timestamp;
    headers['x-lark-request-nonce'] = nonce;
    headers['x-lark-signature'] = computeSignature({
      timestamp,
      nonce,
      encryptKey,
      rawBody: new TextEncoder().encode(body),
    });
  }
  return { headers, body };
}
