import { textsFor } from '../i18n/bot-texts.js';
import { type Language, readLanguage } from '../i18n/language.js';
import type { Logger } from '../log.js';
import type { EventBus } from '../observe/event-bus.js';
import type { Store } from '../store/store.js';
import { errorMessage } from '../util/error-message.js';

/**
 * A button press on one of the bot's cards, as the platform edge hands it on (the Feishu
 * callback becomes this shape in `lib/feishu/card-callback.ts`; nothing past it reads Feishu JSON).
 */
export interface CardPress {
  /** The delivery's id: a retried delivery carries the same one (de-duplication). */
  deliveryId: string | undefined;
  /** Who pressed (open_id). */
  operatorId: string;
  /** The card's message and chat, when the platform says. */
  messageId: string | undefined;
  chatId: string | undefined;
  /** The value the button was built with (see `controlValue`). */
  value: Record<string, unknown>;
}

/** What the presser sees at once: a toast (the card itself is updated by the run's own writer). */
export interface CardPressAnswer {
  toast?: { kind: 'info' | 'success' | 'warning' | 'error'; text: string };
}

/** The value every control button carries: which action, on which run, asked by whom. */
export interface ControlValue {
  action: string;
  /** The run (inbox job id) the button belongs to. */
  run: string;
  /** The open_id of the person who asked: only they (or a chat admin) may press. */
  asker: string;
  /** Which of the control's options (a rating, a decision), when it has several buttons. */
  choice?: string;
  /** The language the button was written in: its toasts answer in the same one. */
  language?: Language;
}

/** The button value of a control: `action` selects the handler, `run` and `asker` scope it. */
export function controlValue(value: ControlValue): Record<string, string> {
  return {
    action: value.action,
    run: value.run,
    asker: value.asker,
    ...(value.choice === undefined ? {} : { choice: value.choice }),
    ...(value.language === undefined ? {} : { lang: value.language }),
  };
}

function readControl(value: Record<string, unknown>): ControlValue | undefined {
  const { action, run, asker, choice, lang } = value;
  if (typeof action !== 'string' || typeof run !== 'string' || typeof asker !== 'string') return undefined;
  if (action === '' || run === '') return undefined;
  return {
    action,
    run,
    asker,
    ...(typeof choice === 'string' ? { choice } : {}),
    ...(lang === undefined ? {} : { language: readLanguage(lang) }),
  };
}

/** One kind of control (Stop, …): what it does once the press is authorized and new. */
export type CardActionHandler = (control: ControlValue, press: CardPress) => Promise<CardPressAnswer>;

/** Whether `userId` administers `chatId` (owner or manager); false when unknown. */
export type ChatAdminCheck = (chatId: string, userId: string) => Promise<boolean>;

export interface CardActionRouterOptions {
  /** By `ControlValue.action`. A new kind of control is one more entry here. */
  handlers: Readonly<Record<string, CardActionHandler>>;
  /** De-duplicates deliveries (`claimKey`), shared by every instance. */
  store: Store;
  /** Lets a chat admin press someone else's buttons. Absent: only the asker may. */
  isChatAdmin?: ChatAdminCheck;
  /** How long a delivery id is remembered (Feishu retries within minutes). */
  dedupeTtlMs?: number;
  bus: EventBus;
  log: Logger;
}

/** The router's toasts in `language` (English: `CARD_PRESS_TEXT`). */
export function cardPressTexts(language: Language) {
  const { toasts } = textsFor(language);
  return {
    notYours: toasts.notYours,
    duplicate: toasts.duplicate,
    unknown: toasts.unknownButton,
    failed: toasts.pressFailed,
  };
}

export const CARD_PRESS_TEXT = cardPressTexts('en');

/**
 * Routes card button presses: reads the control value, drops a delivery it has seen (Feishu
 * retries callbacks), lets only the asker or a chat admin through, then calls the handler of the
 * control's `action`. Every outcome is a toast for the presser; nothing here may be slow, since
 * the answer must reach Feishu within 3 s.
 *
 * @example
 * const onPress = createCardActionRouter({ handlers: { stop: stopHandler }, store, isChatAdmin, bus, log });
 * const answer = await onPress(press); // { toast: { kind: 'info', text: 'Stopping…' } }
 */
export function createCardActionRouter({
  handlers,
  store,
  isChatAdmin,
  dedupeTtlMs = 24 * 3_600_000,
  bus,
  log,
}: CardActionRouterOptions): (press: CardPress) => Promise<CardPressAnswer> {
  const report = (action: string, outcome: 'done' | 'refused' | 'duplicate' | 'unknown' | 'failed', run?: string) =>
    bus.emit({ type: 'card.action', action, outcome, ...(run === undefined ? {} : { traceId: run }) });

  return async (press) => {
    const control = readControl(press.value);
    const handler = control === undefined ? undefined : handlers[control.action];
    const say = cardPressTexts(readLanguage(press.value.lang));
    if (control === undefined || handler === undefined) {
      report(control?.action ?? 'unknown', 'unknown');
      return { toast: { kind: 'warning', text: say.unknown } };
    }
    try {
      if (press.operatorId !== control.asker) {
        const admin =
          isChatAdmin !== undefined && press.chatId !== undefined && press.operatorId !== ''
            ? await isChatAdmin(press.chatId, press.operatorId)
            : false;
        if (!admin) {
          report(control.action, 'refused', control.run);
          return { toast: { kind: 'warning', text: say.notYours } };
        }
      }
      // After the permission check: a refused press must not use up the delivery.
      if (press.deliveryId !== undefined && !(await store.claimKey(`card-press:${press.deliveryId}`, dedupeTtlMs))) {
        report(control.action, 'duplicate', control.run);
        return { toast: { kind: 'info', text: say.duplicate } };
      }
      const answer = await handler(control, press);
      report(control.action, 'done', control.run);
      return answer;
    } catch (error) {
      log.warn({ err: errorMessage(error), action: control.action, run: control.run }, 'card action failed');
      report(control.action, 'failed', control.run);
      return { toast: { kind: 'error', text: say.failed } };
    }
  };
}
