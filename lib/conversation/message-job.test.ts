import { describe, expect, it } from 'vitest';
import { BOT_OPEN_ID, createRecordingReplySink, jobContext, messageEvent } from '../../test/support/agent-test-kit.js';
import { MessageJobError, readMessageJob, replyContextFor, startReply } from './message-job.js';
import type { ReplyContext } from './reply-sink.js';

describe('readMessageJob', () => {
  it('normalises the stored event with the bot resolved when the job runs', async () => {
    const event = messageEvent({ text: 'hello', chatId: 'oc_read' });
    const read = await readMessageJob(jobContext(event), async () => BOT_OPEN_ID);
    expect(read.inbound).toBe(event);
    expect(read.message).toMatchObject({ kind: 'message', text: 'hello', mentionsBot: true, chatId: 'oc_read' });
  });

  it('rejects a payload that is not an InboundEvent with a code', async () => {
    const job = jobContext(messageEvent({ text: 'x' }));
    const broken = { ...job, job: { ...job.job, payload: { nothing: true } } };
    await expect(readMessageJob(broken, BOT_OPEN_ID)).rejects.toMatchObject({
      name: 'MessageJobError',
      code: 'NOT_AN_INBOUND_EVENT',
    });
  });
});

describe('replyContextFor / startReply', () => {
  it('replies inside the topic thread a message came from', async () => {
    const event = messageEvent({ text: 'in a thread', threadId: 'omt_1', rootId: 'om_root', messageId: 'om_t' });
    const job = jobContext(event, { id: 'job-thread' });
    expect(replyContextFor(await readMessageJob(job, BOT_OPEN_ID))).toEqual({
      traceId: 'job-thread',
      source: 'webhook',
      messageId: 'om_t',
      chatId: 'oc_group_1',
      chatType: 'group',
      threadId: 'omt_1',
      rootId: 'om_root',
      replyInThread: true,
      job,
    });
  });

  it('can reply to an unreadable direct message that carried its ids, outside any thread', async () => {
    const event = messageEvent({
      text: '',
      chatType: 'p2p',
      chatId: 'oc_dm',
      messageType: 'share_chat',
      messageId: 'om_i',
    });
    const read = await readMessageJob(jobContext(event), BOT_OPEN_ID);
    expect(read.message.kind).toBe('unsupported');
    expect(replyContextFor(read)).toMatchObject({ messageId: 'om_i', chatId: 'oc_dm', replyInThread: false });
  });

  it('starts the sink for the message, and refuses with a code when there is nothing to reply to', async () => {
    const seen: ReplyContext[] = [];
    const sink = createRecordingReplySink();
    const read = await readMessageJob(jobContext(messageEvent({ text: 'hi' })), BOT_OPEN_ID);
    expect(
      await startReply(read, (context) => {
        seen.push(context);
        return sink;
      }),
    ).toBe(sink);
    expect(sink.calls).toEqual(['start']);
    expect(seen[0]?.messageId).toBe(read.message.messageId);

    const job = jobContext(messageEvent({ text: 'x' }));
    const withoutChat = { ...job, job: { ...job.job, payload: { source: 'webhook', event: { message: {} } } } };
    const unreadable = await readMessageJob(withoutChat, BOT_OPEN_ID);
    expect(replyContextFor(unreadable)).toBeUndefined();
    await expect(startReply(unreadable, () => createRecordingReplySink())).rejects.toBeInstanceOf(MessageJobError);
  });
});
