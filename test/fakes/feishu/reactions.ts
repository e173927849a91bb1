import { defineFeishuArea, type FakeFeishu } from './core.js';
import { IM_CODES, messageStore } from './message-store.js';
import { fail, isReply, ok } from './reply.js';
import { hex, isRecord } from './util.js';

/** Message reactions: `im/v1/messages/:message_id/reactions` create / list / delete, added by the bot. */

declare module './core.js' {
  interface FeishuApis {
    'im.messageReaction.create': true;
    'im.messageReaction.delete': true;
    'im.messageReaction.list': true;
  }
  interface FakeFeishu {
    /** Reactions on one message, or on every message. */
    reactions(messageId?: string): FakeReaction[];
  }
}

export interface FakeReaction {
  reactionId: string;
  messageId: string;
  emojiType: string;
  operatorId: string;
  operatorType: 'app' | 'user';
  actionTime: number;
}

function reactionItem(reaction: FakeReaction): Record<string, unknown> {
  return {
    reaction_id: reaction.reactionId,
    operator: { operator_id: reaction.operatorId, operator_type: reaction.operatorType },
    action_time: String(reaction.actionTime),
    reaction_type: { emoji_type: reaction.emojiType },
  };
}

export const reactionsArea = defineFeishuArea({
  name: 'reactions',
  install(core): Pick<FakeFeishu, 'reactions'> {
    const store = core.use(messageStore);
    const reactions = new Map<string, FakeReaction>();
    core.onReset(() => reactions.clear());

    core.route({
      api: 'im.messageReaction.create',
      method: 'POST',
      path: '/open-apis/im/v1/messages/:message_id/reactions',
      handle({ params, body }) {
        const target = store.lookupTarget(params.message_id);
        if (isReply(target)) return target;
        const reactionType = body.reaction_type;
        const emojiType = isRecord(reactionType) ? reactionType.emoji_type : undefined;
        if (typeof emojiType !== 'string' || emojiType === '') {
          return fail(IM_CODES.imInvalidParameter, 'reaction_type.emoji_type is required');
        }
        const reaction: FakeReaction = {
          reactionId: hex(16),
          messageId: target.messageId,
          emojiType,
          operatorId: core.appId,
          operatorType: 'app',
          actionTime: core.now(),
        };
        reactions.set(reaction.reactionId, reaction);
        return ok(reactionItem(reaction));
      },
    });
    core.route({
      api: 'im.messageReaction.list',
      method: 'GET',
      path: '/open-apis/im/v1/messages/:message_id/reactions',
      handle({ params, query }) {
        const items = [...reactions.values()].filter(
          (reaction) =>
            reaction.messageId === params.message_id &&
            (!query.reaction_type || reaction.emojiType === query.reaction_type),
        );
        return ok({ items: items.map(reactionItem), has_more: false, page_token: '' });
      },
    });
    core.route({
      api: 'im.messageReaction.delete',
      method: 'DELETE',
      path: '/open-apis/im/v1/messages/:message_id/reactions/:reaction_id',
      handle({ params }) {
        const reaction = params.reaction_id ? reactions.get(params.reaction_id) : undefined;
        if (!reaction || reaction.messageId !== params.message_id) {
          return fail(
            IM_CODES.imInvalidParameter,
            `reaction ${String(params.reaction_id)} not found on ${String(params.message_id)}`,
          );
        }
        reactions.delete(reaction.reactionId);
        return ok(reactionItem(reaction));
      },
    });

    return {
      reactions: (messageId) =>
        [...reactions.values()].filter((reaction) => messageId === undefined || reaction.messageId === messageId),
    };
  },
});
