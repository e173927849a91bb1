import type { ConversationMemory } from '../agents/memory.js';
import type { NormalisedMessage } from '../feishu/normalise-message.js';
import type { Logger } from '../log.js';
import type { HistoryMessage } from '../store/store.js';

/** Records a finished turn in the conversation's memory. */
export interface TurnMemory {
  /** Appends the question and the answer (when it said anything). */
  remember(
    key: string,
    message: NormalisedMessage,
    userName: string | undefined,
    answerText: string,
    traceId: string,
    asked?: string,
  ): Promise<void>;
  /** The answer a continuation gave after the person's decision (the question is stored already). */
  rememberAnswer(key: string, text: string, traceId: string): Promise<void>;
}

/**
 * Writes a turn to memory after its reply closed. A failed write is logged, never thrown: the
 * user has the answer, and re-running the job for memory would answer twice.
 *
 * @example
 * const turnMemory = createTurnMemory({ memory, log });
 * await turnMemory.remember(key, message, userName, answer.text, traceId);
 */
export function createTurnMemory({
  memory,
  log,
  now = Date.now,
}: {
  memory: Pick<ConversationMemory, 'append'>;
  log: Logger;
  now?: () => number;
}): TurnMemory {
  return {
    async remember(key, message, userName, answerText, traceId, asked = message.text) {
      const stored: HistoryMessage[] = [
        {
          role: 'user',
          content: asked,
          at: message.createTime || now(),
          author: userName ?? message.sender.openId,
          messageId: message.messageId,
        },
      ];
      if (answerText.trim() !== '') stored.push({ role: 'assistant', content: answerText, at: now() });
      try {
        await memory.append(key, stored);
      } catch (error) {
        log.error({ traceId, key, err: error }, 'could not store the conversation turn');
      }
    },
    async rememberAnswer(key, text, traceId) {
      if (text.trim() === '') return;
      try {
        await memory.append(key, [{ role: 'assistant', content: text, at: now() }]);
      } catch (error) {
        log.error({ traceId, key, err: error }, 'could not store the answer after an approval');
      }
    },
  };
}
