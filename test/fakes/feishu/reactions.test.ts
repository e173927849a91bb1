import { describe, expect, it } from 'vitest';
import { useFakeFeishuPerTest } from './sdk-harness.js';

describe('fake Feishu reactions with the real lark SDK client', () => {
  const feishu = useFakeFeishuPerTest();

  it('adds, lists and removes reactions', async () => {
    const { fake, client } = feishu();
    const message = fake.seedMessage({ chatId: 'oc_g', text: 'hi' });
    const added = await client.im.v1.messageReaction.create({
      path: { message_id: message.messageId },
      data: { reaction_type: { emoji_type: 'Typing' } },
    });
    const reactionId = added.data?.reaction_id ?? '';
    expect(fake.reactions(message.messageId).map((reaction) => reaction.emojiType)).toEqual(['Typing']);
    await client.im.v1.messageReaction.delete({ path: { message_id: message.messageId, reaction_id: reactionId } });
    expect(fake.reactions(message.messageId)).toEqual([]);
  });
});
