import * as registeredAreas from './feishu/areas.js';
import {
  type FakeFeishu,
  type FakeFeishuOptions,
  type FeishuArea,
  mergeCodes,
  startFeishuServer,
} from './feishu/core.js';
import type { CORE_CODES } from './feishu/reply.js';

/**
 * A fake Feishu Open API on a real loopback HTTP port, faithful enough that the real
 * `@larksuiteoapi/node-sdk` Client pointed at it (`domain: fake.url`) works unmodified.
 *
 * It keeps "what the user would see" (messages, threads, CardKit cards with their streamed
 * element content) so tests can assert outcomes, records every call, and injects faults.
 *
 * This file is the public entry point; the fake is built from a small core
 * (`feishu/core.ts`: server, routing, auth, faults, latency, clock, call log, `waitFor`) and one
 * file per API area (`feishu/auth.ts`, `im-messages.ts`, `reactions.ts`, `cardkit.ts`,
 * `bot-info.ts`, `docx.ts`, `wiki.ts`, `sheets.ts`, `bitable.ts`, `calendar.ts`, `task.ts`,
 * `contact.ts`, `search.ts`, …) listed in `feishu/areas.ts`. To add an API area, read the header of
 * `feishu/core.ts`: one new file plus one line in `feishu/areas.ts`. Request and response shapes
 * come from the node SDK's `.d.ts` types and Feishu's documentation, never from our own code.
 *
 * Error codes and HTTP statuses follow the Feishu docs where they are documented. Where the docs
 * give no code, the fake picks one and names it in `FEISHU_CODES` so tests never hard-code numbers.
 *
 * @example
 * const fake = await startFakeFeishu();
 * const client = createFeishuClient({ appId: fake.appId, appSecret: fake.appSecret, domain: fake.url });
 * await client.im.v1.message.create({ params: { receive_id_type: 'chat_id' },
 *   data: { receive_id: 'oc_1', msg_type: 'text', content: JSON.stringify({ text: 'hi' }) } });
 * expect(fake.messages()[0] && fake.visibleText(fake.messages()[0].messageId)).toBe('hi');
 * await fake.close();
 */

export type { FakeScope } from './feishu/application-scopes.js';
export { DEFAULT_GRANTED_SCOPES } from './feishu/application-scopes.js';
export type { SeedBase } from './feishu/bitable.js';
export type { CardEntity } from './feishu/card-store.js';
export type { CardElementState, CardState } from './feishu/cardkit.js';
export type { FakeChat, SeedChat } from './feishu/chats.js';
export type {
  FakeApp,
  FakeFeishu,
  FakeFeishuOptions,
  FeishuApiName,
  RateLimitViolation,
  RecordedCall,
  WaitForOptions,
} from './feishu/core.js';
export type { FakeUser } from './feishu/directory-store.js';
export type { SeedDocPart, SeedDocument } from './feishu/docx.js';
export type { FaultInjection, InjectedFault } from './feishu/faults.js';
export type { SeedResource } from './feishu/message-resources.js';
export type { FakeMention, FakeMessage, FakeMessageSender, SeedMessageOptions } from './feishu/message-store.js';
export { p2pChatIdFor } from './feishu/message-store.js';
export type { FakeReaction } from './feishu/reactions.js';
export type { SeedSearchDocument } from './feishu/search.js';
export type { SeedSheet, SeedSpreadsheet } from './feishu/sheets.js';
export type { SeedTask } from './feishu/task.js';
export { cardVisibleText, postVisibleText } from './feishu/visible-text.js';
export type { SeedWikiNode } from './feishu/wiki.js';

const AREAS: readonly FeishuArea[] = Object.values(registeredAreas);

type RegisteredArea = (typeof registeredAreas)[keyof typeof registeredAreas];
type CodesOf<Area> = Area extends FeishuArea<infer Codes> ? Codes : never;
type Intersection<Union> = (Union extends unknown ? (value: Union) => void : never) extends (value: infer Both) => void
  ? Both
  : never;

/** Codes the fake answers with, from the core and every area. Tests should compare against these names, not literals. */
export const FEISHU_CODES = mergeCodes(AREAS) as Readonly<typeof CORE_CODES & Intersection<CodesOf<RegisteredArea>>>;

/** Starts the fake with every registered API area on 127.0.0.1 and an ephemeral port. */
export function startFakeFeishu(options: FakeFeishuOptions = {}): Promise<FakeFeishu> {
  return startFeishuServer(AREAS, options);
}
