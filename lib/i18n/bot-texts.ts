import { bilingual } from './bilingual.js';

/**
 * What the conversation writes itself, around the model's answer: notices, the stopped and
 * interrupted endings, approval notes, the answer card's buttons and the toasts of its buttons.
 * Other areas keep their own catalog beside them, built the same way (`bilingual`), e.g.
 * `lib/schedules/schedule-texts.ts`.
 */
export interface BotTexts {
  notices: {
    /** A message kind the bot cannot read (a sticker, a location). */
    'unsupported-type': string;
    /** A bare mention or "hi". */
    greeting: string;
  };
  /** A shutdown interrupted the answer; the job runs again. */
  interrupted: string;
  /** The answer was stopped by the person. */
  stopped: string;
  /** A run paused with an approval card. */
  approvalWaiting: string;
  /** A run wanted approval but the card could not be sent. */
  approvalUnsent: string;
  /** The message held nothing the model could read. */
  unreadable: string;
  /** The answer failed without a more specific notice. */
  failed: string;
  /** What a reply card shows before the first words of the answer. */
  thinking: string;
  buttons: { stop: string; up: string; down: string };
  toasts: {
    stopping: string;
    alreadyFinished: string;
    notYours: string;
    duplicate: string;
    unknownButton: string;
    pressFailed: string;
    thanksUp: string;
    thanksDown: string;
    cannotRate: string;
  };
}

/**
 * The bot's texts in one language.
 *
 * @example
 * await sink.fail(text, textsFor(language).stopped);
 */
export const textsFor = bilingual<BotTexts>({
  en: {
    notices: {
      'unsupported-type':
        'I cannot read this kind of message. Send your question as text, a picture, a file or a voice message.',
      greeting: 'Hi! Ask me anything, or send /help to see what I can do.',
    },
    interrupted: 'I was interrupted by a restart and will pick this up again in a moment.',
    stopped: '⏹ Stopped',
    approvalWaiting: 'Waiting for your approval: see the card below.',
    approvalUnsent: 'I wanted to make a change but could not ask for approval, so nothing was changed.',
    unreadable: 'I could not read anything in this message.',
    failed: 'Something went wrong. Please try again.',
    thinking: '⏳ Thinking…',
    buttons: { stop: '⏹ Stop', up: '👍', down: '👎' },
    toasts: {
      stopping: 'Stopping…',
      alreadyFinished: 'This answer has already finished.',
      notYours: 'Only the person who asked (or a chat admin) can use these buttons.',
      duplicate: 'Already received.',
      unknownButton: 'This button is no longer available.',
      pressFailed: 'That did not work. Please try again.',
      thanksUp: 'Thanks for the 👍',
      thanksDown: 'Thanks: noted 👎, it helps us improve.',
      cannotRate: 'This answer can no longer be rated.',
    },
  },
  zh: {
    notices: {
      'unsupported-type': '我读不了这类消息。请用文字、图片、文件或语音发送你的问题。',
      greeting: '你好！有什么都可以问我，发送 /help 查看我能做什么。',
    },
    interrupted: '我被重启打断了，稍后会继续回答。',
    stopped: '⏹ 已停止',
    approvalWaiting: '等待你的批准：请看下方的卡片。',
    approvalUnsent: '我本想做一项修改，但没能发出审批请求，所以什么都没有改。',
    unreadable: '这条消息里没有我能读懂的内容。',
    failed: '出了点问题，请稍后再试。',
    thinking: '⏳ 思考中…',
    buttons: { stop: '⏹ 停止', up: '👍', down: '👎' },
    toasts: {
      stopping: '正在停止…',
      alreadyFinished: '这个回答已经结束了。',
      notYours: '只有提问的人（或群管理员）可以使用这些按钮。',
      duplicate: '已收到。',
      unknownButton: '这个按钮已失效。',
      pressFailed: '操作没有成功，请再试一次。',
      thanksUp: '感谢你的 👍',
      thanksDown: '感谢反馈 👎，我们会改进。',
      cannotRate: '这个回答已经无法评价了。',
    },
  },
});
