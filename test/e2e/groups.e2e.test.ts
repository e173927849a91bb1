import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningBot } from '../../lib/bot.js';
import { buildBotMembershipEvent, buildMessageEvent, postEvent } from '../fakes/event-sender.js';
import type { FakeFeishu } from '../fakes/fake-feishu.js';
import type { FakeOpenAI } from '../fakes/fake-openai.js';
import { sayInChat, waitForClosedAnswer } from '../support/ask-in-chat.js';
import { pressCard } from '../support/card-press.js';
import {
  type E2eService,
  type EnvOverrides,
  E2E_ENCRYPT_KEY as encryptKey,
  E2E_VERIFICATION_TOKEN as token,
  useE2eService,
} from '../support/e2e-service.js';

/**
 * Group behaviour through the running service: signed, encrypted events into the webhook, the
 * real lark SDK against the fake Feishu, the real AI SDK provider against the fake OpenAI.
 */

const LI_LEI = { openId: 'ou_lilei0000000000000000000000001', name: 'Li Lei' };
const HAN_MEI = { openId: 'ou_hanmei000000000000000000000002', name: 'Han Meimei' };

/** Polls an async condition (a store read) until it holds, or fails naming it. */
async function until(probe: () => Promise<boolean>, description: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A bot on fresh fakes for one describe block: started before its tests, stopped after them. */
function useGroupBot(env: EnvOverrides = {}): E2eService {
  return useE2eService({ env: { MODEL_FIRST_TOKEN_TIMEOUT_MS: '5000', ...env } });
}

describe('groups, end to end', () => {
  let feishu: FakeFeishu;
  let openai: FakeOpenAI;
  let webhookUrl: string;

  const harness = useGroupBot();
  beforeAll(() => {
    ({ feishu, openai, webhookUrl } = harness);
  });

  beforeEach(() => {
    openai.reset();
    feishu.clearCalls();
    feishu.seedUser(LI_LEI);
    feishu.seedUser(HAN_MEI);
  });

  async function send(options: Parameters<typeof buildMessageEvent>[0]) {
    const event = buildMessageEvent({ fake: feishu, token, ...options });
    const response = await postEvent(webhookUrl, event, { encryptKey });
    expect(response.status).toBe(200);
    return event.event.message.message_id;
  }

  async function answered(messageId: string) {
    await waitForClosedAnswer({ ...harness, messageId });
    return feishu.repliesTo(messageId, { fromBot: true });
  }

  it('reads the room: a mention sees the recent discussion of its own chat with display names, not other chats', async () => {
    const chatId = 'oc_room_chat';
    const start = Date.now() - 60_000;
    feishu.seedMessage({ chatId, senderOpenId: LI_LEI.openId, text: 'Shall we ship v2 on Friday?', createTime: start });
    feishu.seedMessage({
      chatId,
      senderOpenId: HAN_MEI.openId,
      text: 'Only if QA signs off.',
      createTime: start + 1_000,
    });
    feishu.seedMessage({
      chatId: 'oc_other_chat',
      senderOpenId: HAN_MEI.openId,
      text: 'secret salary talk',
      createTime: start + 2_000,
    });
    openai.script('gpt-test', { text: 'Friday, once QA signs off.' });

    const asked = await send({
      chatType: 'group',
      chatId,
      mentionBot: true,
      senderOpenId: LI_LEI.openId,
      text: 'so when do we ship?',
    });
    await answered(asked);

    const said = JSON.stringify(openai.requestsFor('gpt-test')[0]?.messages);
    expect(said).toContain('Li Lei: Shall we ship v2 on Friday?');
    expect(said).toContain('Han Meimei: Only if QA signs off.');
    expect(said).not.toContain('secret salary talk');
    // The question itself is the last turn, with its sender's name, and not repeated as context.
    expect(said.split('so when do we ship?')).toHaveLength(2);
    // Read from Feishu on demand, from that chat only.
    const lists = feishu.callsTo('im.message.list');
    expect(lists.length).toBeGreaterThan(0);
    expect(lists.every((call) => call.query.container_id === chatId)).toBe(true);
  });

  it('reads the room again without repeating its own exchange: earlier answers stay memory, not context', async () => {
    const chatId = 'oc_room_twice';
    openai.script('gpt-test', { text: 'First answer.' });
    const first = await send({
      chatType: 'group',
      chatId,
      mentionBot: true,
      senderOpenId: LI_LEI.openId,
      text: 'first question',
    });
    await answered(first);
    await send({ chatType: 'group', chatId, senderOpenId: HAN_MEI.openId, text: 'chatter in between' });
    openai.script('gpt-test', { text: 'Second answer.' });
    const second = await send({
      chatType: 'group',
      chatId,
      mentionBot: true,
      senderOpenId: LI_LEI.openId,
      text: 'second question',
    });
    await answered(second);
    const said = JSON.stringify(openai.requestsFor('gpt-test').at(-1)?.messages);
    expect(said).toContain('Han Meimei: chatter in between');
    expect(said.split('first question')).toHaveLength(2);
    expect(said.split('First answer.')).toHaveLength(2);
  });

  it('topic groups: answers go into the topic, and each topic has its own memory', async () => {
    const chatId = 'oc_topic_group';
    const topicA = 'omt_topic_a';
    const topicB = 'omt_topic_b';
    const rootA = feishu.seedMessage({
      chatId,
      threadId: topicA,
      senderOpenId: HAN_MEI.openId,
      text: 'Topic: the Q3 roadmap',
    });
    const rootB = feishu.seedMessage({ chatId, threadId: topicB, senderOpenId: LI_LEI.openId, text: 'Topic: lunch' });

    const askInTopic = (threadId: string, rootId: string, who: { openId: string }, text: string) =>
      send({ chatType: 'group', chatId, threadId, rootId, mentionBot: true, senderOpenId: who.openId, text });

    openai.script('gpt-test', { text: 'Noted: the roadmap has three milestones.' });
    const inA = await askInTopic(topicA, rootA.messageId, LI_LEI, 'the roadmap has three milestones');
    const [replyA] = await answered(inA);
    expect(replyA?.threadId).toBe(topicA);

    openai.script('gpt-test', { text: 'Noodles it is.' });
    const inB = await askInTopic(topicB, rootB.messageId, HAN_MEI, 'noodles or rice?');
    const [replyB] = await answered(inB);
    expect(replyB?.threadId).toBe(topicB);

    const toB = JSON.stringify(openai.requestsFor('gpt-test').at(-1)?.messages);
    // The topic's first message, seeded from Feishu with its author's display name.
    expect(toB).toContain('Li Lei: Topic: lunch');
    expect(toB).not.toContain('milestones');
    expect(toB).not.toContain('roadmap');

    openai.script('gpt-test', { text: 'Three.' });
    const again = await askInTopic(topicA, rootA.messageId, HAN_MEI, 'how many milestones again?');
    const [replyAgain] = await answered(again);
    expect(replyAgain?.threadId).toBe(topicA);
    const toA = JSON.stringify(openai.requestsFor('gpt-test').at(-1)?.messages);
    expect(toA).toContain('Han Meimei: Topic: the Q3 roadmap');
    expect(toA).toContain('Noted: the roadmap has three milestones.');
    expect(toA).not.toContain('noodles');
    // Only the topic's own thread is read from Feishu, never the whole chat.
    const containers = feishu.callsTo('im.message.list').map((call) => call.query.container_id);
    expect(containers).not.toContain(chatId);
  });
});

describe('groups with the group-message scope (stored context), end to end', () => {
  let feishu: FakeFeishu;
  let openai: FakeOpenAI;
  let bot: RunningBot;
  let webhookUrl: string;

  const harness = useGroupBot({ GROUP_CONTEXT: 'stored', GROUP_CONTEXT_MAX_MESSAGES: '2' });
  beforeAll(() => {
    ({ feishu, openai, bot, webhookUrl } = harness);
    feishu.seedUser(LI_LEI);
    feishu.seedUser(HAN_MEI);
  });

  it('keeps unmentioned messages as they arrive and gives the newest ones, bounded, to the next mention', async () => {
    const chatId = 'oc_stored_room';
    const ids: string[] = [];
    for (const [who, text] of [
      [LI_LEI, 'oldest remark'],
      [HAN_MEI, 'the build is red'],
      [LI_LEI, 'I am on it'],
    ] as const) {
      const event = buildMessageEvent({
        fake: feishu,
        token,
        chatType: 'group',
        chatId,
        senderOpenId: who.openId,
        text,
      });
      expect((await postEvent(webhookUrl, event, { encryptKey })).status).toBe(200);
      ids.push(`message:${event.event.message.message_id}`);
    }
    // Each one is worked (and kept) before the mention arrives.
    await until(async () => {
      const jobs = await Promise.all(ids.map((id) => bot.store.getJob(id)));
      return jobs.every((job) => job?.status === 'done');
    }, 'the unmentioned messages handled');
    openai.script('gpt-test', { text: 'Li Lei is fixing the build.' });
    const event = buildMessageEvent({
      fake: feishu,
      token,
      chatType: 'group',
      chatId,
      mentionBot: true,
      senderOpenId: HAN_MEI.openId,
      text: 'who is on the build?',
    });
    expect((await postEvent(webhookUrl, event, { encryptKey })).status).toBe(200);
    const messageId = event.event.message.message_id;
    await feishu.waitFor(
      () => feishu.repliesTo(messageId, { fromBot: true }).length > 0 && openai.requestsFor('gpt-test').length > 0,
      {
        timeoutMs: 20_000,
        description: 'the answer',
      },
    );
    const said = JSON.stringify(openai.requestsFor('gpt-test')[0]?.messages);
    expect(said).toContain('Han Meimei: the build is red');
    expect(said).toContain('Li Lei: I am on it');
    expect(said).not.toContain('oldest remark');
    // Nothing was fetched: the room came from what the events carried.
    expect(feishu.callsTo('im.message.list').filter((call) => call.query.container_id === chatId)).toHaveLength(0);
  });
});

describe('per-chat settings with /config, end to end', () => {
  const ZHANG = { openId: 'ou_zhang00000000000000000000000003', name: 'Zhang Wei' };
  const chatId = 'oc_config_chat';
  let feishu: FakeFeishu;
  let openai: FakeOpenAI;
  let bot: RunningBot;
  let webhookUrl: string;

  const harness = useGroupBot({
    CHAT_ALLOWED_MODELS: 'gpt-test,gpt-alt',
    CHAT_LOCKED_SETTINGS: 'language',
  });
  beforeAll(() => {
    ({ feishu, openai, bot, webhookUrl } = harness);
  });

  beforeEach(() => {
    openai.reset();
    feishu.clearCalls();
    for (const person of [LI_LEI, HAN_MEI, ZHANG]) feishu.seedUser(person);
    // Li Lei owns the group and Han Meimei manages it; Zhang Wei is a member.
    feishu.seedChat({ chatId, name: 'Release team', ownerOpenId: LI_LEI.openId, managerOpenIds: [HAN_MEI.openId] });
  });

  /** Sends `text` mentioning the bot as `who` and returns what the user sees of the bot's reply. */
  function say(who: { openId: string }, text: string): Promise<string> {
    return sayInChat({ feishu, webhookUrl, encryptKey, token, chatId, senderOpenId: who.openId, text });
  }

  it('refuses a change from a member who is not an admin, checked with the chat API, and changes nothing', async () => {
    const reply = await say(ZHANG, '/config model gpt-alt');
    expect(reply).toContain('Only the group owner or a group admin');
    expect(feishu.callsTo('im.chat.get').map((call) => call.path)).toContain(`/open-apis/im/v1/chats/${chatId}`);
    expect(await bot.store.chatSettingsHistory(chatId, 10)).toEqual([]);
    expect(openai.requests).toHaveLength(0);
    // Anyone may look.
    expect(await say(ZHANG, '/config')).toContain('model: (default)');
  });

  it('lets the owner and an admin set persona, model and tools, effective on the next message and versioned', async () => {
    expect(
      await say(LI_LEI, '/config persona You are the release assistant of this team. Sign with RELEASE-BOT.'),
    ).toContain('Saved');
    expect(await say(HAN_MEI, '/config model gpt-alt')).toContain('model: gpt-alt');
    expect(await say(HAN_MEI, '/config tools readDocument off')).toContain('readDocument off');
    expect(openai.requests).toHaveLength(0);

    openai.script('gpt-alt', { text: 'Ship on Friday. — RELEASE-BOT' });
    expect(await say(ZHANG, 'when do we ship?')).toContain('RELEASE-BOT');
    const [request] = openai.requestsFor('gpt-alt');
    expect(openai.requestsFor('gpt-test')).toHaveLength(0);
    const system = JSON.stringify(request?.messages[0]);
    expect(system).toContain('You are the release assistant of this team. Sign with RELEASE-BOT.');
    const toolNames = (request?.tools ?? []).map((each) => (each as { function?: { name?: string } }).function?.name);
    expect(toolNames).not.toContain('readDocument');
    expect(toolNames).toContain('currentTime');

    const history = await bot.store.chatSettingsHistory(chatId, 10);
    expect(history.map((version) => [version.version, version.changedBy, version.change])).toEqual([
      [3, HAN_MEI.openId, 'tools: readDocument off'],
      [2, HAN_MEI.openId, 'model = gpt-alt'],
      [1, LI_LEI.openId, expect.stringContaining('persona = You are the release assistant')],
    ]);
    const shown = await say(ZHANG, '/config history');
    expect(shown).toContain('Han Meimei');
    expect(shown).toContain('Li Lei');

    // A model outside the allowed list and a locked setting are refused with the reason.
    expect(await say(LI_LEI, '/config model gpt-secret')).toContain('not an allowed model');
    expect(await say(LI_LEI, '/config language zh')).toContain('locked');
    expect((await bot.store.chatSettingsHistory(chatId, 10))[0]?.version).toBe(3);

    // Back to the defaults: the next answer uses the configured model again.
    expect(await say(LI_LEI, '/config reset all')).toContain('model: (default)');
    openai.script('gpt-test', { text: 'Default model here.' });
    expect(await say(ZHANG, 'still there?')).toContain('Default model here.');
    expect(JSON.stringify(openai.requestsFor('gpt-test')[0]?.messages[0])).not.toContain('RELEASE-BOT');
  });
});

describe('the settings card, end to end', () => {
  const ZHANG = { openId: 'ou_zhang00000000000000000000000003', name: 'Zhang Wei' };
  const chatId = 'oc_settings_card';
  let feishu: FakeFeishu;
  let openai: FakeOpenAI;
  let bot: RunningBot;
  let base: string;

  const harness = useGroupBot({ CHAT_ALLOWED_MODELS: 'gpt-test,gpt-alt' });
  beforeAll(() => {
    ({ feishu, openai, bot, base } = harness);
    for (const person of [LI_LEI, HAN_MEI, ZHANG]) feishu.seedUser(person);
    feishu.seedChat({ chatId, ownerOpenId: LI_LEI.openId, managerOpenIds: [HAN_MEI.openId] });
  });

  /** The callback value of the card's button whose value matches `setting` and `to`. */
  function button(replyId: string, setting: string, to: string): Record<string, unknown> {
    const card = JSON.parse(feishu.message(replyId)!.content) as { body: { elements: Array<Record<string, unknown>> } };
    for (const element of card.body.elements) {
      const behaviors = element.behaviors as Array<{ value: Record<string, unknown> }> | undefined;
      const value = behaviors?.[0]?.value;
      if (value?.setting === setting && value.to === to) return value;
    }
    throw new Error(`no ${setting} → ${to} button on the card`);
  }

  it('answers /config with buttons; a member cannot press them, an admin can, and the card shows the new settings', async () => {
    const event = buildMessageEvent({
      fake: feishu,
      token,
      chatType: 'group',
      chatId,
      mentionBot: true,
      senderOpenId: ZHANG.openId,
      text: '/config',
    });
    expect((await postEvent(`${base}/webhook/event`, event, { encryptKey })).status).toBe(200);
    const asked = event.event.message.message_id;
    await feishu.waitFor(() => feishu.repliesTo(asked, { fromBot: true }).length > 0, {
      timeoutMs: 10_000,
      description: 'the settings card',
    });
    const [reply] = feishu.repliesTo(asked, { fromBot: true });
    expect(reply?.msgType).toBe('interactive');
    expect(feishu.visibleText(reply!.messageId)).toContain('context: on-demand');

    // Zhang asked, but is no admin: the press changes nothing.
    const refused = await pressCard(`${base}/webhook/card`, {
      fake: feishu,
      replyId: reply!.messageId,
      value: button(reply!.messageId, 'context', 'off'),
      encryptKey,
      token,
      operator: ZHANG.openId,
      chatId,
    });
    expect(refused.toast?.content).toContain('owner or a group admin');
    expect(await bot.store.chatSettingsHistory(chatId, 10)).toEqual([]);

    // Han Meimei manages the group: her presses are saved as versions by her.
    const saved = await pressCard(`${base}/webhook/card`, {
      fake: feishu,
      replyId: reply!.messageId,
      value: button(reply!.messageId, 'context', 'off'),
      encryptKey,
      token,
      operator: HAN_MEI.openId,
      chatId,
    });
    expect(saved.toast?.content).toContain('Saved');
    await feishu.waitFor(() => feishu.visibleText(reply!.messageId).includes('context: off'), {
      timeoutMs: 10_000,
      description: 'the redrawn card',
    });
    await pressCard(`${base}/webhook/card`, {
      fake: feishu,
      replyId: reply!.messageId,
      value: button(reply!.messageId, 'model', 'gpt-alt'),
      encryptKey,
      token,
      operator: HAN_MEI.openId,
      chatId,
    });
    expect(
      (await bot.store.chatSettingsHistory(chatId, 10)).map((version) => [version.changedBy, version.change]),
    ).toEqual([
      [HAN_MEI.openId, 'model = gpt-alt'],
      [HAN_MEI.openId, 'context = off'],
    ]);

    // The next message uses them: the chosen model, and no room read (context off).
    feishu.clearCalls();
    openai.script('gpt-alt', { text: 'From the card settings.' });
    const next = buildMessageEvent({
      fake: feishu,
      token,
      chatType: 'group',
      chatId,
      mentionBot: true,
      senderOpenId: ZHANG.openId,
      text: 'hello?',
    });
    expect((await postEvent(`${base}/webhook/event`, next, { encryptKey })).status).toBe(200);
    await feishu.waitFor(() => openai.requestsFor('gpt-alt').length > 0, {
      timeoutMs: 20_000,
      description: 'the answer',
    });
    expect(feishu.callsTo('im.message.list')).toHaveLength(0);
  });
});

describe('added to and removed from a group, end to end', () => {
  let feishu: FakeFeishu;
  let openai: FakeOpenAI;
  let bot: RunningBot;
  let webhookUrl: string;
  const DAY = 86_400_000;

  const harness = useGroupBot({ CHAT_STATE_RETENTION_DAYS: '7', CHAT_DEFAULT_LANGUAGE: 'en' });
  beforeAll(() => {
    ({ feishu, openai, bot, webhookUrl } = harness);
  });

  async function membership(kind: 'added' | 'deleted', chatId: string, eventId?: string) {
    const event = buildBotMembershipEvent({
      fake: feishu,
      token,
      kind,
      chatId,
      chatName: 'Release team',
      ...(eventId ? { eventId } : {}),
    });
    const response = await postEvent(webhookUrl, event, { encryptKey });
    expect(response.status).toBe(200);
  }

  it('welcomes a group once with what it can do and how to configure it, also when Feishu delivers the event twice', async () => {
    const chatId = 'oc_new_group';
    await membership('added', chatId, 'ev_added_1');
    await membership('added', chatId, 'ev_added_1');
    await feishu.waitFor(() => feishu.messages({ chatId, fromBot: true }).length > 0, {
      timeoutMs: 10_000,
      description: 'the welcome card',
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const sent = feishu.messages({ chatId, fromBot: true });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.msgType).toBe('interactive');
    const text = feishu.visibleText(sent[0]!.messageId);
    expect(text).toContain('@mentioning me');
    expect(text).toContain('/config');
    // The chat's language (CHAT_DEFAULT_LANGUAGE=en): no Chinese half.
    expect(text).not.toContain('你好');
    expect(openai.requests).toHaveLength(0);
    expect((await bot.chats.membership.list(10)).find((chat) => chat.chatId === chatId)?.state).toBe('member');
  });

  it("keeps a removed group's state through the retention, then purges memory, topics and settings", async () => {
    const chatId = 'oc_leaving_group';
    const other = 'oc_staying_group';
    await bot.store.appendHistory(`chat:${chatId}`, [{ role: 'user', content: 'hello', at: Date.now() }], 10);
    await bot.store.appendHistory(
      `chat:${chatId}:thread:omt_1`,
      [{ role: 'user', content: 'topic', at: Date.now() }],
      10,
    );
    await bot.store.appendHistory(`chat:${other}`, [{ role: 'user', content: 'stay', at: Date.now() }], 10);
    await bot.chats.settings.change(chatId, { name: 'persona', value: 'Be terse.' }, 'ou_owner');
    await bot.chats.settings.change(other, { name: 'persona', value: 'Be kind.' }, 'ou_owner');

    await membership('deleted', chatId);
    await until(
      async () =>
        (await bot.chats.membership.list(10)).some((chat) => chat.chatId === chatId && chat.state === 'removed'),
      'the removal recorded',
    );
    // A housekeeping pass inside the retention changes nothing.
    await bot.housekeeping.runOnce();
    expect(await bot.store.readHistory(`chat:${chatId}`, 10)).toHaveLength(1);
    expect((await bot.chats.settings.effective(chatId)).persona).toBe('Be terse.');

    // Past the retention the chat's state is gone; other chats keep theirs.
    expect(await bot.chats.membership.purgeRemoved(Date.now() + 8 * DAY)).toBe(1);
    expect(await bot.store.readHistory(`chat:${chatId}`, 10)).toEqual([]);
    expect(await bot.store.readHistory(`chat:${chatId}:thread:omt_1`, 10)).toEqual([]);
    expect((await bot.chats.settings.effective(chatId)).version).toBe(0);
    expect(await bot.store.readHistory(`chat:${other}`, 10)).toHaveLength(1);
    expect((await bot.chats.settings.effective(other)).persona).toBe('Be kind.');
    expect(await bot.chats.membership.purgeRemoved(Date.now() + 8 * DAY)).toBe(0);
  });

  it('does not purge a group the bot was added back to before the retention ended', async () => {
    const chatId = 'oc_back_again';
    await bot.chats.settings.change(chatId, { name: 'language', value: 'zh' }, 'ou_owner');
    await membership('deleted', chatId);
    await until(
      async () =>
        (await bot.chats.membership.list(10)).some((chat) => chat.chatId === chatId && chat.state === 'removed'),
      'the removal recorded',
    );
    await membership('added', chatId);
    await feishu.waitFor(() => feishu.messages({ chatId, fromBot: true }).length > 0, { timeoutMs: 10_000 });
    // Welcomed in the chat's own language.
    expect(feishu.visibleText(feishu.messages({ chatId, fromBot: true })[0]!.messageId)).toContain('你好');
    expect(await bot.chats.membership.purgeRemoved(Date.now() + 8 * DAY)).toBe(0);
    expect((await bot.chats.settings.effective(chatId)).language).toBe('zh');
  });
});

describe('chat settings in the devtools (token-protected API), end to end', () => {
  const DEVTOOLS_TOKEN = 'groups-devtools-token-0123456789abcdef';
  const chatId = 'oc_devtools_chat';
  let feishu: FakeFeishu;
  let openai: FakeOpenAI;
  let bot: RunningBot;
  let base: string;
  const auth = { authorization: `Bearer ${DEVTOOLS_TOKEN}` };

  // Bound beyond loopback: no loopback pass, only the token opens the devtools.
  const harness = useGroupBot({
    HOST: '0.0.0.0',
    ENABLE_DEVTOOLS: 'true',
    DEVTOOLS_TOKEN,
    CHAT_ALLOWED_MODELS: 'gpt-test,gpt-alt',
    CHAT_LOCKED_SETTINGS: 'user-reads',
  });
  beforeAll(() => {
    ({ feishu, openai, bot, base } = harness);
  });

  const save = (body: unknown, headers: Record<string, string> = auth) =>
    fetch(`${base}/devtools/api/chats/${chatId}/settings`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('refuses without the token, saves a version by devtools that the next message uses, and refuses stale or locked edits', async () => {
    expect((await fetch(`${base}/devtools/api/chats`)).status).toBe(401);
    expect((await save({ settings: { model: 'gpt-alt' } }, {})).status).toBe(401);
    expect((await save({ settings: { model: 'gpt-alt' } }, { authorization: 'Bearer wrong-token' })).status).toBe(401);
    expect(await bot.store.chatSettingsHistory(chatId, 10)).toEqual([]);

    // The owner changes something with /config in Feishu while the form shows version 0.
    feishu.seedUser(LI_LEI);
    feishu.seedChat({ chatId, ownerOpenId: LI_LEI.openId });
    const config = buildMessageEvent({
      fake: feishu,
      token,
      chatType: 'group',
      chatId,
      mentionBot: true,
      senderOpenId: LI_LEI.openId,
      text: '/config language en',
    });
    expect((await postEvent(`${base}/webhook/event`, config, { encryptKey })).status).toBe(200);
    await until(async () => (await bot.store.chatSettingsHistory(chatId, 10)).length === 1, 'the /config change');
    const stale = await save({
      settings: { persona: 'Answer like a ship captain.', model: 'gpt-alt' },
      expectedVersion: 0,
    });
    expect(stale.status).toBe(409);

    const saved = await save({
      settings: { persona: 'Answer like a ship captain.', model: 'gpt-alt', language: 'en' },
      expectedVersion: 1,
    });
    expect(saved.status).toBe(200);
    expect(await saved.json()).toMatchObject({ effective: { model: 'gpt-alt', version: 2 } });

    const listed = (await (await fetch(`${base}/devtools/api/chats`, { headers: auth })).json()) as {
      chats: Array<{ chatId: string; changedBy: string; effective: { persona: string } }>;
      policy: { allowedModels: string[]; locked: string[] };
    };
    expect(listed.policy).toMatchObject({ allowedModels: ['gpt-test', 'gpt-alt'], locked: ['user-reads'] });
    expect(listed.chats.find((chat) => chat.chatId === chatId)).toMatchObject({
      changedBy: 'devtools',
      effective: { persona: 'Answer like a ship captain.' },
    });

    expect((await save({ settings: { persona: 'Late.' }, expectedVersion: 1 })).status).toBe(409);
    expect((await save({ settings: { userReadsInGroup: true }, expectedVersion: 2 })).status).toBe(400);
    expect((await save({ settings: { model: 'gpt-secret' }, expectedVersion: 2 })).status).toBe(400);
    expect((await save({ settings: { colour: 'blue' }, expectedVersion: 2 })).status).toBe(400);

    // Effective on the next message in Feishu.
    openai.script('gpt-alt', { text: 'Aye, Friday it is.' });
    const event = buildMessageEvent({
      fake: feishu,
      token,
      chatType: 'group',
      chatId,
      mentionBot: true,
      text: 'when do we ship?',
    });
    expect((await postEvent(`${base}/webhook/event`, event, { encryptKey })).status).toBe(200);
    await feishu.waitFor(() => openai.requestsFor('gpt-alt').length > 0, {
      timeoutMs: 20_000,
      description: 'the answer',
    });
    expect(JSON.stringify(openai.requestsFor('gpt-alt')[0]?.messages[0])).toContain('Answer like a ship captain.');

    const detail = (await (await fetch(`${base}/devtools/api/chats/${chatId}`, { headers: auth })).json()) as {
      version: number;
      history: Array<{ changedBy: string; changedByName: string; change: string }>;
    };
    expect(detail.version).toBe(2);
    expect(detail.history).toEqual([
      expect.objectContaining({ changedBy: 'devtools', change: 'changed persona, model' }),
      // People are shown by their display name.
      expect.objectContaining({ changedBy: LI_LEI.openId, changedByName: 'Li Lei', change: 'language = en' }),
    ]);
  });
});
