import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FEEDBACK_TEXT, feedbackFor } from '../../lib/conversation/answer-feedback.js';
import { CARD_PRESS_TEXT } from '../../lib/conversation/card-actions.js';
import { STOPPED_MEMORY_MARK, STOPPED_NOTICE } from '../../lib/conversation/handle-message.js';
import { STOP_TEXT } from '../../lib/conversation/run-stops.js';
import { buildMessageEvent, DEFAULT_USER_OPEN_ID, postEvent } from '../fakes/event-sender.js';
import { type CardState, FEISHU_CODES } from '../fakes/fake-feishu.js';
import { type FakeLongConnection, startFakeLongConnection } from '../fakes/fake-long-connection.js';
import { answerCard, buttonValue, pressCallback, pressCard, waitForStreamingCard } from '../support/card-press.js';
import { useE2eService } from '../support/e2e-service.js';

/**
 * The Stop button as a person uses it: a signed, encrypted mention → a streaming card with a Stop
 * button (fake Feishu) → the button's value read from the card Feishu holds → a signed, encrypted
 * `card.action.trigger` callback to /webhook/card → the toast the presser sees, the card closed as
 * "Stopped" with the text so far, the model request cut (fake OpenAI), memory and the lane.
 */

const GROUP_CHAT = 'oc_card_controls_group';
const OTHER_USER = 'ou_someone_else_000000000000000000';
const ADMIN_USER = 'ou_chat_admin_00000000000000000000';
/** A slow answer: 60 chunks 150 ms apart, so a Stop lands mid-stream. */
const SLOW_ANSWER = Array.from({ length: 60 }, (_, index) => `word${index}`).join(' ');

describe('card controls over the webhook: Stop', () => {
  let threadCount = 0;

  const service = useE2eService({
    env: {
      CARD_UPDATES_PER_SECOND: '5',
      // One person asks every question of this file within a minute.
      USER_MESSAGES_PER_MINUTE: '1000',
      CHAT_MESSAGES_PER_MINUTE: '1000',
    },
  });

  beforeEach(() => {
    service.openai.reset();
    service.events.length = 0;
  });

  async function mention(text: string, { thread, sender }: { thread?: string; sender?: string } = {}) {
    const threadId = thread ?? `omt_controls_${++threadCount}`;
    const root = service.feishu.seedMessage({ chatId: GROUP_CHAT, threadId, text: 'thread root' });
    const event = buildMessageEvent({
      fake: service.feishu,
      chatId: GROUP_CHAT,
      mentionBot: true,
      text,
      rootId: root.messageId,
      threadId,
      token: service.token,
      ...(sender === undefined ? {} : { senderOpenId: sender }),
    });
    const response = await postEvent(service.webhookUrl, event, { encryptKey: service.encryptKey });
    expect(response.status).toBe(200);
    return { messageId: event.event.message.message_id, threadId, rootId: root.messageId };
  }

  const replyCard = (messageId: string) => answerCard(service.feishu, messageId);
  const stopButton = (card: CardState) => buttonValue(card, 'stop');

  /** Waits until the answer card streams some words and shows its Stop button; returns the button value. */
  async function streamingWithStop(messageId: string) {
    const { replyId, card } = await waitForStreamingCard(service.feishu, messageId);
    const value = stopButton(card);
    expect(value).toBeDefined();
    return { replyId, value: value! };
  }

  async function press(replyId: string, value: Record<string, unknown>, operator?: string, eventId?: string) {
    const { status, ...answer } = await pressCard(`${service.base}/webhook/card`, {
      fake: service.feishu,
      replyId,
      value,
      encryptKey: service.encryptKey,
      token: service.token,
      chatId: GROUP_CHAT,
      ...(operator === undefined ? {} : { operator }),
      ...(eventId === undefined ? {} : { eventId }),
    });
    expect(status).toBe(200);
    return answer;
  }

  async function closed(messageId: string) {
    await service.feishu.waitFor(() => replyCard(messageId)?.card.streaming === false, {
      timeoutMs: 15_000,
      description: 'the answer card closed',
    });
    return replyCard(messageId)!;
  }

  it('the asker presses Stop: toast, card "Stopped" with the text so far, model cut, memory marked, lane free', async () => {
    service.openai.script('gpt-test', { text: SLOW_ANSWER, chunkSize: 6, chunkDelayMs: 150 });
    const { messageId, threadId, rootId } = await mention('tell me a long story');
    const { replyId, value } = await streamingWithStop(messageId);

    const pressedAt = Date.now();
    expect(await press(replyId, value)).toEqual({ toast: { type: 'info', content: STOP_TEXT.stopping } });
    const { card } = await closed(messageId);
    const stoppedAfter = Date.now() - pressedAt;
    // Within a second on a quiet machine; generous here for a loaded CI box.
    expect(stoppedAfter).toBeLessThan(5_000);

    const shown = service.feishu.visibleText(replyId);
    expect(shown).toContain('word1');
    expect(shown).toContain(STOPPED_NOTICE);
    expect(shown).not.toContain('word59');
    // The closed card has no button left to press: no Stop, and a stopped answer is not rated.
    expect(stopButton(card)).toBeUndefined();
    expect(buttonValue(card, 'feedback_up')).toBeUndefined();
    await service.openai.waitForIdle(5_000);
    expect(service.openai.requestsFor('gpt-test')[0]?.outcome).toBe('client-closed');
    await expect
      .poll(() => service.events.find((event) => event.type === 'run.stopped' && event.traceId === value.run), {
        timeout: 5_000,
      })
      .toMatchObject({ via: 'button' });
    const job = await service.bot.store.getJob(String(value.run));
    await expect
      .poll(async () => (await service.bot.store.getJob(String(value.run)))?.status, { timeout: 5_000 })
      .toBe('done');
    expect(job).not.toBeNull();

    const history = await service.bot.store.readHistory(`chat:${GROUP_CHAT}:thread:${threadId}`, 10);
    const assistant = history.filter((turn) => turn.role === 'assistant').at(-1);
    expect(assistant?.content).toContain(STOPPED_MEMORY_MARK);
    expect(assistant?.content).toContain('word1');

    // The lane is free: the next question in the thread is answered.
    service.openai.script('gpt-test', { text: 'Next answer.' });
    const next = await mention('and now?', { thread: threadId });
    expect(rootId).toBeDefined();
    await closed(next.messageId);
    expect(service.feishu.visibleText(replyCard(next.messageId)!.replyId)).toContain('Next answer.');
    // The second model call saw the stopped answer in its history.
    const followUp = JSON.stringify(service.openai.requestsFor('gpt-test').at(-1)?.body);
    expect(followUp).toContain('stopped by the user');
  });

  it('Stop does not wait for a slow phase before the model (reading the thread into memory)', async () => {
    // Reading the thread from Feishu takes 20 s.
    const slowThread = service.feishu.inject({
      api: 'im.message.list',
      latencyMs: 20_000,
      // Only this message's read: later tests read their threads at full speed.
      times: 1,
      match: ({ query }) => query.container_id_type === 'thread',
    });
    const { messageId } = await mention('a question in a long thread');
    await service.feishu.waitFor(() => slowThread.hits > 0 && replyCard(messageId) !== undefined, {
      timeoutMs: 15_000,
      description: 'the thread being read',
    });
    const seeding = replyCard(messageId)!;
    const pressedAt = Date.now();
    expect(await press(seeding.replyId, stopButton(seeding.card)!)).toMatchObject({
      toast: { content: STOP_TEXT.stopping },
    });
    await closed(messageId);
    // Generous for a loaded machine, and still far below the 20 s the read would have taken.
    expect(Date.now() - pressedAt).toBeLessThan(8_000);
    expect(service.feishu.visibleText(seeding.replyId)).toContain(STOPPED_NOTICE);
    // The model was never asked.
    expect(service.openai.requestsFor('gpt-test')).toHaveLength(0);
  });

  it('Stop during a running tool: the card closes as Stopped at once and the tool result never reaches the model', async () => {
    const documentId = service.feishu.seedDocument({ title: 'Slow read', parts: [{ text: 'SECRET_TOOL_RESULT' }] });
    // The document read takes 20 s: longer than the test waits for the Stop.
    const slowRead = service.feishu.inject({ api: 'docx.documentBlock.list', latencyMs: 20_000 });
    service.openai.script(
      'gpt-test',
      { toolCalls: [{ name: 'readDocument', arguments: { document: documentId } }] },
      { text: 'The document says something.' },
    );
    const { messageId } = await mention('read that slow document');
    // The live steps show the tool while it runs, not only once it finished.
    await service.feishu.waitFor(
      () =>
        slowRead.hits > 0 &&
        replyCard(messageId)?.card.streaming === true &&
        (replyCard(messageId)?.card.elements.steps?.content ?? '').includes('⏳ Used `readDocument`'),
      { timeoutMs: 15_000, description: 'the steps panel showing the running tool' },
    );
    const running = replyCard(messageId)!;
    const pressedAt = Date.now();
    expect(await press(running.replyId, stopButton(running.card)!)).toEqual({
      toast: { type: 'info', content: STOP_TEXT.stopping },
    });
    await closed(messageId);
    // Within a second on a quiet machine; generous for a loaded CI box, far below the 20 s read.
    expect(Date.now() - pressedAt).toBeLessThan(5_000);
    expect(service.feishu.visibleText(running.replyId)).toContain(STOPPED_NOTICE);
    // The read was still under way when the card closed, and the stop closed its HTTP request.
    expect(service.feishu.callsTo('docx.documentBlock.list').every((call) => call.status === 0)).toBe(true);
    await service.feishu.waitFor(
      () => service.feishu.callsTo('docx.documentBlock.list').every((call) => call.clientClosed),
      {
        timeoutMs: 5_000,
        description: 'the document read cancelled',
      },
    );
    // Only the first model call (the one that asked for the tool): no result went back to the model.
    await service.openai.waitForIdle(5_000);
    expect(service.openai.requestsFor('gpt-test')).toHaveLength(1);
    expect(JSON.stringify(service.openai.requestsFor('gpt-test'))).not.toContain('SECRET_TOOL_RESULT');
    await expect
      .poll(async () => (await service.bot.store.getJob(String(stopButton(running.card)!.run)))?.status, {
        timeout: 5_000,
      })
      .toBe('done');
    expect(service.events.some((event) => event.type === 'tool.call' && event.tool === 'readDocument')).toBe(false);
  });

  it('someone else gets a toast and the answer goes on; a chat admin may stop it', async () => {
    service.feishu.seedChat({ chatId: GROUP_CHAT, ownerOpenId: ADMIN_USER });
    service.openai.script('gpt-test', { text: SLOW_ANSWER, chunkSize: 6, chunkDelayMs: 120 });
    const { messageId } = await mention('another long story');
    const { replyId, value } = await streamingWithStop(messageId);

    expect(await press(replyId, value, OTHER_USER)).toEqual({
      toast: { type: 'warning', content: CARD_PRESS_TEXT.notYours },
    });
    expect(replyCard(messageId)?.card.streaming).toBe(true);
    expect(service.events.find((event) => event.type === 'card.action')).toMatchObject({ outcome: 'refused' });

    expect(await press(replyId, value, ADMIN_USER)).toEqual({ toast: { type: 'info', content: STOP_TEXT.stopping } });
    await closed(messageId);
    expect(service.feishu.visibleText(replyId)).toContain(STOPPED_NOTICE);
  });

  it('a double press and a repeated delivery: one stop, then "already finished" and "already received"', async () => {
    service.openai.script('gpt-test', { text: SLOW_ANSWER, chunkSize: 6, chunkDelayMs: 120 });
    const { messageId } = await mention('a third long story');
    const { replyId, value } = await streamingWithStop(messageId);

    expect(await press(replyId, value, DEFAULT_USER_OPEN_ID, 'ev_press_once')).toMatchObject({
      toast: { content: STOP_TEXT.stopping },
    });
    // Feishu delivers the same callback again (same event id).
    expect(await press(replyId, value, DEFAULT_USER_OPEN_ID, 'ev_press_once')).toMatchObject({
      toast: { content: CARD_PRESS_TEXT.duplicate },
    });
    await closed(messageId);
    await expect
      .poll(async () => (await service.bot.store.getJob(String(value.run)))?.status, { timeout: 5_000 })
      .toBe('done');
    // A second press of the (by now replaced) button.
    expect(await press(replyId, value)).toMatchObject({ toast: { content: STOP_TEXT.finished } });
    expect(service.events.filter((event) => event.type === 'run.stopped' && event.traceId === value.run)).toHaveLength(
      1,
    );
  });

  it('shows live steps while the agent works (tool call, then a silent phase) and folds them when done', async () => {
    service.openai.script(
      'gpt-test',
      { toolCalls: [{ name: 'currentTime', arguments: { timeZone: 'UTC' } }] },
      { text: 'It is late. Here is the answer.', firstTokenDelayMs: 3_500, chunkSize: 8, chunkDelayMs: 20 },
    );
    const { messageId } = await mention('what time is it?');
    const panelOf = (card: CardState) => {
      const elements = (card.card.body as { elements?: Array<Record<string, unknown>> }).elements ?? [];
      return elements.find((element) => element.element_id === 'steps_panel');
    };
    // The tool call shows at once; the silent phase after it says the agent is still working, with the time.
    await service.feishu.waitFor(
      () => {
        const found = replyCard(messageId);
        const steps = found?.card.elements.steps?.content ?? '';
        return found?.card.streaming === true && steps.includes('`currentTime`') && /Working… [1-9]/.test(steps);
      },
      { timeoutMs: 15_000, description: 'the steps panel with the tool call and a working status' },
    );
    expect(panelOf(replyCard(messageId)!.card)).toMatchObject({ tag: 'collapsible_panel', expanded: true });

    const { replyId, card } = await closed(messageId);
    expect(service.feishu.visibleText(replyId)).toContain('Here is the answer.');
    const panel = panelOf(card);
    expect(panel).toMatchObject({
      expanded: false,
      header: { title: { content: expect.stringMatching(/^1 step · /) } },
    });
    expect(JSON.stringify(panel)).toContain('✓ Used `currentTime`');
    expect(JSON.stringify(panel)).not.toContain('Working');
    // Within the card's rate limits all along.
    expect(card.rejectedSequences).toEqual([]);
    expect(service.feishu.calls.filter((call) => call.path.includes(card.cardId) && call.status === 429)).toEqual([]);

    // A plain, quick answer has no panel.
    service.openai.script('gpt-test', { text: 'Quick.' });
    const quick = await mention('quick one');
    expect(panelOf((await closed(quick.messageId)).card)).toBeUndefined();
  });

  it('a finished answer can be rated 👍 / 👎 by the asker; the latest vote is stored with what answered', async () => {
    service.openai.script('gpt-test', { text: 'A finished answer.' });
    const { messageId } = await mention('rate me');
    const { replyId, card } = await closed(messageId);
    expect(stopButton(card)).toBeUndefined();
    const down = buttonValue(card, 'feedback_down');
    const up = buttonValue(card, 'feedback_up');
    expect(down).toMatchObject({ action: 'feedback', choice: 'down', asker: DEFAULT_USER_OPEN_ID });
    expect(service.feishu.visibleText(replyId)).toContain('👍');

    expect(await press(replyId, down!, OTHER_USER)).toEqual({
      toast: { type: 'warning', content: CARD_PRESS_TEXT.notYours },
    });
    expect(await feedbackFor(service.bot.store, String(down!.run))).toBeUndefined();
    expect(await press(replyId, down!)).toEqual({ toast: { type: 'success', content: FEEDBACK_TEXT.thanks.down } });
    expect(await press(replyId, up!)).toEqual({ toast: { type: 'success', content: FEEDBACK_TEXT.thanks.up } });
    expect(await feedbackFor(service.bot.store, String(up!.run))).toMatchObject({
      rating: 'up',
      by: DEFAULT_USER_OPEN_ID,
      agent: 'manager',
      model: 'gpt-test',
    });
    // The reply closed its own card and says so, so the card watchdog leaves it alone.
    await expect
      .poll(async () => (await service.bot.store.getJob(String(up!.run)))?.checkpoint, { timeout: 5_000 })
      .toMatchObject({ reply: { closed: true } });
    const metrics = await (await fetch(`${service.base}/metrics`)).text();
    expect(metrics).toMatch(/answer_feedback_total\{[^}]*rating="up"[^}]*\} 1/);
    expect(metrics).toMatch(/answer_feedback_total\{[^}]*rating="down"[^}]*\} 1/);
  });

  it('a rating of an answer that relays a specialist counts against that specialist', async () => {
    service.openai.script(
      'gpt-test',
      { toolCalls: [{ name: 'writer', arguments: { task: 'Translate "Good morning, team" into Chinese.' } }] },
      { text: '早上好，团队' },
      { text: 'Here is the translation: 早上好，团队' },
    );
    const { messageId } = await mention('translate "Good morning, team" into Chinese');
    const { replyId, card } = await closed(messageId);
    expect(service.feishu.visibleText(replyId)).toContain('早上好，团队');
    // The writer was asked in its own request, and the manager got its result back.
    expect(service.openai.requests).toHaveLength(3);
    expect(JSON.stringify(service.openai.requests[1]?.messages)).toContain('careful writer');
    expect(JSON.stringify(service.openai.requests[2]?.messages)).toContain('早上好，团队');
    const up = buttonValue(card, 'feedback_up');
    expect(await press(replyId, up!)).toEqual({ toast: { type: 'success', content: FEEDBACK_TEXT.thanks.up } });
    expect(await feedbackFor(service.bot.store, String(up!.run))).toMatchObject({ rating: 'up', agent: 'writer' });
    const metrics = await (await fetch(`${service.base}/metrics`)).text();
    expect(metrics).toMatch(/answer_feedback_total\{[^}]*agent="writer"[^}]*rating="up"[^}]*\} 1/);
  });

  it('an answer with more tables than a card holds is shown whole: the extra tables as code, never refused', async () => {
    const answer = Array.from(
      { length: 8 },
      (_, index) => `Table ${index}:\n\n| item | value |\n|---|---|\n| row${index} | ${index * 10} |`,
    ).join('\n\n');
    service.openai.script('gpt-test', { text: answer, chunkSize: 40, chunkDelayMs: 10 });
    const { messageId } = await mention('eight tables please');
    const { replyId, card } = await closed(messageId);
    const shown = service.feishu.visibleText(replyId);
    for (let index = 0; index < 8; index++) expect(shown).toContain(`row${index}`);
    // Degraded before sending: Feishu never had to refuse a card for its tables.
    expect(service.feishu.calls.filter((call) => call.code === FEISHU_CODES.tooManyTables)).toEqual([]);
    expect(card.streaming).toBe(false);
  });

  it('"stop" typed in the thread stops the running answer, and is not answered itself', async () => {
    service.openai.script('gpt-test', { text: SLOW_ANSWER, chunkSize: 6, chunkDelayMs: 150 });
    const { messageId, threadId } = await mention('yet another long story');
    const { replyId, value } = await streamingWithStop(messageId);

    const stop = await mention('停止', { thread: threadId });
    await closed(messageId);
    expect(service.feishu.visibleText(replyId)).toContain(STOPPED_NOTICE);
    await expect
      .poll(() => service.events.find((event) => event.type === 'run.stopped' && event.traceId === value.run), {
        timeout: 5_000,
      })
      .toMatchObject({ via: 'message' });
    await expect
      .poll(() => service.events.some((event) => event.type === 'message.ignored' && event.reason === 'stop request'), {
        timeout: 5_000,
      })
      .toBe(true);
    expect(service.feishu.repliesTo(stop.messageId, { fromBot: true })).toHaveLength(0);
    expect(service.openai.requestsFor('gpt-test')).toHaveLength(1);
  });
});

describe('card controls over the long connection: Stop', () => {
  let gateway: FakeLongConnection;

  afterAll(async () => {
    await gateway?.close();
  });

  const service = useE2eService({
    env: async ({ feishu }) => {
      // One domain serves the gateway and the Open API, as on Feishu.
      gateway = await startFakeLongConnection({ apiUrl: feishu.url });
      return {
        FEISHU_DOMAIN: gateway.url,
        FEISHU_EVENT_MODE: 'websocket',
        FEISHU_ENCRYPT_KEY: undefined,
        FEISHU_VERIFICATION_TOKEN: undefined,
      };
    },
  });

  beforeAll(async () => {
    await service.bot.feishu?.connection?.ready;
  });

  it('a press arrives as a card frame, is answered on the connection with a toast, and stops the answer', async () => {
    service.openai.script('gpt-test', { text: SLOW_ANSWER, chunkSize: 6, chunkDelayMs: 150 });
    const event = buildMessageEvent({ fake: service.feishu, chatType: 'p2p', text: 'a long story over the socket' });
    expect(await gateway.sendEvent(event)).toEqual({ code: 200 });
    const messageId = event.event.message.message_id;
    const { replyId, card } = await waitForStreamingCard(service.feishu, messageId);
    const value = buttonValue(card, 'stop')!;

    const someoneElse = await gateway.sendCardAction(
      pressCallback({ fake: service.feishu, replyId, value, token: '', operator: OTHER_USER }),
    );
    expect(someoneElse).toEqual({
      code: 200,
      type: 'card',
      data: { toast: { type: 'warning', content: CARD_PRESS_TEXT.notYours } },
    });
    const asker = await gateway.sendCardAction(pressCallback({ fake: service.feishu, replyId, value, token: '' }));
    expect(asker).toEqual({ code: 200, type: 'card', data: { toast: { type: 'info', content: STOP_TEXT.stopping } } });
    await service.feishu.waitFor(() => answerCard(service.feishu, messageId)?.card.streaming === false, {
      timeoutMs: 10_000,
      description: 'the card closed',
    });
    expect(service.feishu.visibleText(replyId)).toContain(STOPPED_NOTICE);
    expect(service.feishu.visibleText(replyId)).not.toContain('word59');
  });
});
