import type * as lark from '@larksuiteoapi/node-sdk';
import type { Logger } from '../log.js';
import { errorMessage } from '../util/error-message.js';

/** A protobuf frame header as the SDK's decoder yields it. */
interface FrameHeader {
  key: string;
  value: string;
}

/** The fields of the SDK's decoded `pbbp2.Frame` this hook reads and writes. */
interface DataFrame {
  headers: FrameHeader[];
  payload?: Uint8Array;
  [field: string]: unknown;
}

/**
 * The two WSClient methods the hook relies on. Both are private in the SDK's types but plain
 * prototype methods at run time; `installCardFrameHook` checks they exist before using them.
 */
interface WsClientInternals {
  handleEventData(frame: DataFrame): Promise<void>;
  sendMessage(frame: DataFrame): void;
}

/** Feishu's frame header naming a data frame's kind: `event`, or `card` for card callbacks. */
const TYPE_HEADER = 'type';
const CARD_TYPE = 'card';

const utf8Decoder = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

function header(frame: DataFrame, key: string): string | undefined {
  return frame.headers.find((entry) => entry.key === key)?.value;
}

/** Parsed card callback JSON → the answer object (toast / card), or undefined for no answer. */
export type CardFrameHandler = (callback: unknown) => Promise<Record<string, unknown> | undefined>;

/**
 * Lets the SDK's long-connection client answer card callbacks. The SDK's `WSClient` hands data
 * frames of type `event` to the EventDispatcher and drops those of type `card` (button presses);
 * this wraps that one instance method: card frames go to `onCard`, and its answer goes back on
 * the same connection as the SDK answers events (the request frame echoed with a `biz_rt`
 * header, payload `{"code":200,"data":base64(JSON answer)}`). Every other frame takes the SDK's
 * own path untouched. No fork and no subclass of private members: if an SDK upgrade renames the
 * methods, the hook is not installed (returns false, logged) and events keep working.
 *
 * Card callbacks are small; a card callback split over several frames (`sum` > 1) is not
 * expected and is answered with an error code so Feishu shows its own failure.
 *
 * @example
 * const client = new lark.WSClient({ appId, appSecret });
 * installCardFrameHook(client, async (callback) => ({ toast: { type: 'info', content: 'Stopping…' } }), log);
 */
export function installCardFrameHook(client: lark.WSClient, onCard: CardFrameHandler, log: Logger): boolean {
  const internals = client as unknown as Partial<WsClientInternals>;
  const original = internals.handleEventData;
  const send = internals.sendMessage;
  if (typeof original !== 'function' || typeof send !== 'function') {
    log.warn('this version of the Feishu SDK has no frame hook point: card buttons over the long connection are off');
    return false;
  }
  internals.handleEventData = async function handleEventData(this: WsClientInternals, frame: DataFrame) {
    if (header(frame, TYPE_HEADER) !== CARD_TYPE) return original.call(this, frame);
    const startedAt = Date.now();
    let response: { code: number; data?: string };
    try {
      if (Number(header(frame, 'sum') ?? '1') > 1) throw new Error('fragmented card callback');
      const callback: unknown = JSON.parse(utf8Decoder.decode(frame.payload ?? new Uint8Array()));
      const answer = await onCard(callback);
      response = { code: 200 };
      if (answer !== undefined) response.data = Buffer.from(JSON.stringify(answer)).toString('base64');
    } catch (error) {
      log.warn({ err: errorMessage(error) }, 'card callback over the long connection failed');
      response = { code: 500 };
    }
    send.call(this, {
      ...frame,
      headers: [...frame.headers, { key: 'biz_rt', value: String(Date.now() - startedAt) }],
      payload: utf8Encoder.encode(JSON.stringify(response)),
    });
  };
  return true;
}
