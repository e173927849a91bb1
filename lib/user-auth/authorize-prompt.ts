import { callFeishu } from '../feishu/call-feishu.js';
import type { FeishuClient } from '../feishu/feishu-client.js';
import { textsFor } from '../i18n/bot-texts.js';
import type { Language } from '../i18n/language.js';
import type { EventBus } from '../observe/event-bus.js';

/** What the person is asked to authorize, and the link that does it. */
export interface AuthorizePrompt {
  userId: string;
  /** The consent page (personal: the callback refuses anyone else who opens it). */
  url: string;
  /** Tool names that asked, for the card's text. */
  tools: readonly string[];
  /** Idempotency key of the card (Feishu's uuid): one card per started authorization. */
  key: string;
  /** The language of the card (the question's); absent: English. */
  language?: Language;
}

/** The card: a short why, and an Authorize button that opens the consent page. */
export function authorizeCard({
  url,
  tools,
  language = 'en',
}: Pick<AuthorizePrompt, 'url' | 'tools' | 'language'>): string {
  const what = tools.map((tool) => `\`${tool}\``).join(', ');
  const say = textsFor(language).authorize;
  return JSON.stringify({
    schema: '2.0',
    header: { title: { tag: 'plain_text', content: say.title }, template: 'blue' },
    body: {
      elements: [
        {
          tag: 'markdown',
          content: say.why(what),
        },
        {
          tag: 'button',
          text: { tag: 'plain_text', content: say.button },
          type: 'primary',
          behaviors: [{ type: 'open_url', default_url: url }],
        },
      ],
    },
  });
}

/**
 * Sends the Authorize card to the person directly (a private chat with the bot), wherever they
 * asked: the consent link is theirs, and a group need not see it.
 *
 * @example
 * await sendAuthorizePrompt({ client, bus }, { userId, url, tools: ['searchDocuments'], key: state });
 */
export async function sendAuthorizePrompt(
  { client, bus, timeoutMs = 10_000 }: { client: FeishuClient; bus: EventBus; timeoutMs?: number },
  prompt: AuthorizePrompt,
): Promise<void> {
  await callFeishu(
    bus,
    'im.v1.message.create',
    () =>
      client.im.v1.message.create({
        params: { receive_id_type: 'open_id' },
        data: {
          receive_id: prompt.userId,
          msg_type: 'interactive',
          content: authorizeCard(prompt),
          uuid: `authorize-${prompt.key}`.slice(0, 50),
        },
      }),
    { client, timeoutMs },
  );
}
