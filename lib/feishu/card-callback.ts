import type { CardPress, CardPressAnswer } from '../conversation/card-actions.js';
import type { Logger } from '../log.js';
import type { CardAction, CardActionResponse } from './webhook/webhook-routes.js';

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The button's value: an object (schema 2.0), or a JSON string some clients send. */
function actionValue(value: unknown): JsonObject {
  if (isObject(value)) return value;
  if (typeof value === 'string') {
    try {
      const parsed: unknown = JSON.parse(value);
      if (isObject(parsed)) return parsed;
    } catch {
      // not JSON: no value
    }
  }
  return {};
}

/**
 * A Feishu card callback as the neutral `CardPress`: the v2 `card.action.trigger` event
 * (`operator`, `action.value`, `context.open_message_id` / `open_chat_id`) or a legacy (schema 1)
 * body (`open_id`, `open_message_id`, `open_chat_id`, `action.value`). Undefined when it names
 * no operator.
 *
 * @example
 * readCardPress({ eventId: 'e1', eventType: 'card.action.trigger', event });
 * // { deliveryId: 'e1', operatorId: 'ou_…', messageId: 'om_…', chatId: 'oc_…', value: { action: 'stop', … } }
 */
export function readCardPress(action: CardAction): CardPress | undefined {
  const event = action.event;
  if (!isObject(event)) return undefined;
  const operator = isObject(event.operator) ? event.operator : undefined;
  const context = isObject(event.context) ? event.context : undefined;
  const operatorId = text(operator?.open_id) ?? text(event.open_id);
  if (operatorId === undefined) return undefined;
  const act = isObject(event.action) ? event.action : {};
  return {
    deliveryId: action.eventId,
    operatorId,
    messageId: text(context?.open_message_id) ?? text(event.open_message_id),
    chatId: text(context?.open_chat_id) ?? text(event.open_chat_id),
    value: actionValue(act.value),
  };
}

/** The neutral answer in Feishu's callback response shape (`{ toast: { type, content } }`). */
export function toFeishuCardResponse(answer: CardPressAnswer): CardActionResponse {
  return answer.toast === undefined ? {} : { toast: { type: answer.toast.kind, content: answer.toast.text } };
}

/**
 * The card callback handler both transports use (the webhook's `onCardAction`, the long
 * connection's card frames): Feishu JSON in, the router's answer out as Feishu expects it.
 *
 * @example
 * webhookRoutes({ ..., onCardAction: feishuCardActionHandler({ onPress: router, log }) });
 */
export function feishuCardActionHandler({
  onPress,
  log,
}: {
  onPress: (press: CardPress) => Promise<CardPressAnswer>;
  log: Logger;
}): (action: CardAction) => Promise<CardActionResponse> {
  return async (action) => {
    const press = readCardPress(action);
    if (press === undefined) {
      log.warn({ eventType: action.eventType }, 'card callback without an operator ignored');
      return {};
    }
    return toFeishuCardResponse(await onPress(press));
  };
}
