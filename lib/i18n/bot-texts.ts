import type { AttachmentErrorCode } from '../attachments/attachment-error.js';
import type { ErrorCategory } from '../observe/error-category.js';
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
  /** The backlog is full: the message gets this instead of an answer. */
  busy: string;
  /** An answer that will not be tried again (its card is closed with this). */
  givenUp: string;
  /** The message held nothing the model could read. */
  unreadable: string;
  /** The answer failed without a more specific notice. */
  failed: string;
  /** What a reply card shows before the first words of the answer. */
  thinking: string;
  /** The answer card's footer beside the model's name: tokens used, seconds taken ("1.2"). */
  footer: { tokens(count: number): string; seconds(value: string): string };
  /** The answer card's steps panel: tools used and specialists asked, with their time. */
  steps: {
    title: string;
    /** `name` as typed (a tool in a code span). */
    used(tool: string): string;
    asked(specialist: string): string;
    working: string;
    count(steps: number): string;
    earlier(steps: number): string;
    none: string;
    seconds(value: string): string;
  };
  /** What the card watchdog writes on a card an ended job left without an answer. */
  watchdog: {
    /** The answer stopped before any of it was written. */
    unanswered: string;
    /** The answer went out as plain messages below the card. */
    sentAsText: string;
  };
  buttons: { stop: string; up: string; down: string };
  /** Why the model gave no answer, per error category: honest, never a provider detail. */
  modelErrors: Record<ErrorCategory, string>;
  /** The card asking a person to let the bot read with their own Feishu permissions. */
  authorize: {
    title: string;
    /** `tools`: the tools that asked, formatted, or ''. */
    why(tools: string): string;
    button: string;
  };
  /** `/config`: the frame around the settings (setting names and values stay as typed). */
  config: {
    heading(version: number): string;
    unset: string;
    none: string;
    allowed: string;
    /** A daily budget (`amount` as "$2.50"), none, and the most an admin may set. */
    perDay(amount: string): string;
    noBudget: string;
    atMost(amount: string): string;
    footer: string;
    help: readonly string[];
    noChanges: string;
    historyHeading: string;
    /** One history line: when (UTC), what changed, by whom. */
    historyLine(version: number, at: string, change: string, by: string): string;
    adminCheckFailed(detail: string): string;
    notAdmin: string;
    saved: string;
    notChanged(reason: string): string;
    /** Why a `/config …` could not be read. */
    invalid: {
      persona: string;
      language: string;
      model: string;
      toggle(name: string): string;
      context: string;
      userReads: string;
      budget(name: string): string;
      reset(names: string): string;
      unknown(word: string): string;
    };
  };
  /** Why a settings change was refused (lists as "a, b"). */
  settingsProblems: {
    locked(setting: string): string;
    modelNotAllowed(model: string, allowed: string): string;
    unknownItem(kind: 'tools' | 'specialists', item: string, known: string): string;
    overCeiling(setting: string, ceiling: string): string;
    changedMeanwhile: string;
    stale(version: number, expected: number): string;
    invalid(detail: string): string;
  };
  /** The settings card (`/config` on its own): its headings and its buttons' toasts. */
  settingsCard: {
    title: string;
    language: string;
    model: string;
    context: string;
    userReads: string;
    tools: string;
    specialists: string;
    onlyAdmins: string;
    onlyThePerson: string;
    savedToast: string;
  };
  /** Notices under an answer about parts of the message that could not be read. */
  attachments: {
    /** `name` could not be read, for a stable reason code (the English one keeps the detailed reason). */
    failed(name: string, code: AttachmentErrorCode): string;
    downloadFailed(name: string): string;
    noVision: string;
    /** `what`: a kind of message part ("a sticker"), as the platform edge names it. */
    cannotRead(what: string): string;
    forwardUnreadable: string;
    tooManyImages(max: number, over: number): string;
  };
  /** Notices under an answer about a tool that could not be used (scopes as code spans). */
  tools: {
    missingScope(tool: string, scopes: string, asUser: boolean): string;
    authorizationExpired(tool: string): string;
    noAccess(tool: string, asUser: boolean): string;
  };
  /** The card a group gets when the bot is added (Markdown). */
  welcome(botName: string): string;
  /** The approval card a run that wants to change something pauses with, and its buttons' toasts. */
  approval: {
    title: string;
    whoDecides(timeoutMinutes: number): string;
    approve: string;
    always: string;
    deny: string;
    decided: Record<'approved' | 'always' | 'denied' | 'expired', { title: string; line: string }>;
    gone: string;
    alreadyDecided: string;
    expired: string;
    deniedToast: string;
    approvedToast: string;
  };
  /** Refusals before the agent runs (rate limits, length, budgets). */
  limits: {
    userRate(perMinute: number): string;
    chatRate(perMinute: number): string;
    tooLong(length: number, limit: number): string;
    /** `budget` as "$0.50"; `clock` "00:00", `zone` an IANA name, `hours`/`minutes` the wait. */
    overBudget(
      scope: 'chat' | 'user',
      budget: string,
      clock: string,
      zone: string,
      hours: number,
      minutes: number,
    ): string;
  };
  /** The slash commands' replies. */
  commands: {
    forgotten(inThread: boolean): string;
    /** The help text's lines before the specialists. */
    help: readonly string[];
    specialistsHeading: string;
    noAuthorization: string;
    authorizationWithdrawn: string;
    nothingToWithdraw: string;
    configUnavailable: string;
    schedulesUnavailable: string;
  };
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

const ATTACHMENT_REASONS_ZH: Record<AttachmentErrorCode, string> = {
  ATTACHMENT_TOO_LARGE: '文件太大，超过了上限',
  ATTACHMENT_TIMEOUT: '读取超时了',
  ATTACHMENT_ENCRYPTED: '文件有密码保护',
  ATTACHMENT_CORRUPT: '文件已损坏或格式不对',
  ATTACHMENT_UNSUPPORTED: '不支持这种文件格式',
  ATTACHMENT_DOWNLOAD_FAILED: '下载中途失败了',
  ATTACHMENT_TRANSCRIPTION_FAILED: '语音没能转成文字',
  ATTACHMENT_BUSY: '现在要读的文件太多，请稍后再试',
  ATTACHMENT_ABORTED: '读取被中断了',
};

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
    busy: "I'm handling a lot of messages right now. Please try again in a minute.",
    givenUp: 'Sorry, I could not finish this answer. Please ask again.',
    unreadable: 'I could not read anything in this message.',
    failed: 'Something went wrong. Please try again.',
    thinking: '⏳ Thinking…',
    footer: { tokens: (count) => `${count} tokens`, seconds: (value) => `${value} s` },
    steps: {
      title: 'Steps',
      used: (tool) => `Used \`${tool}\``,
      asked: (specialist) => `Asked **${specialist}**`,
      working: 'Working…',
      count: (steps) => `${steps} step${steps === 1 ? '' : 's'}`,
      earlier: (steps) => `${steps} earlier step${steps === 1 ? '' : 's'}`,
      none: 'No steps.',
      seconds: (value) => `${value} s`,
    },
    watchdog: {
      unanswered: '⚠️ This answer stopped before it could be written. Please ask again.',
      sentAsText: 'The answer was sent as a message below.',
    },
    buttons: { stop: '⏹ Stop', up: '👍', down: '👎' },
    modelErrors: {
      RATE_LIMIT: 'The model provider is rate-limiting us; please try again in a minute.',
      TIMEOUT: 'The model took too long to answer, so I stopped waiting. Please try again.',
      NETWORK: 'I could not reach the model provider (network error). Please try again shortly.',
      AUTH: 'The bot cannot sign in to its model provider. An operator needs to check the API key.',
      CONTEXT_LENGTH:
        'This conversation is too long for the model. Send /reset to start fresh, or shorten your message.',
      CONTENT_FILTER: "The model provider's content filter refused this request.",
      CIRCUIT_OPEN:
        'The model provider has been failing, so I am pausing requests to it for a few seconds. Please try again shortly.',
      OTHER: 'Something went wrong while generating the answer. Please try again.',
    },
    config: {
      heading: (version) => `**Settings of this chat** (version ${version})`,
      unset: '(default)',
      none: 'none',
      allowed: 'allowed',
      perDay: (amount) => `${amount} a day`,
      noBudget: 'no budget',
      atMost: (amount) => `at most ${amount}`,
      footer: 'Owners and admins change them with `/config <setting> <value>`; `/config help` lists them.',
      help: [
        '**Chat settings** (group owners and admins; anyone may look)',
        '- `/config`: the settings in effect',
        '- `/config persona <text>`: how I should behave here (a system prompt for this chat)',
        '- `/config language auto|zh|en`: the language I answer and write in',
        '- `/config model <name>`: one of the allowed models',
        '- `/config tools <name> on|off`, `/config specialists <name> on|off`',
        '- `/config context on-demand|stored|off`: whether I read the recent discussion when mentioned',
        '- `/config user-reads on|off`: whether answers from your own Feishu authorization may be posted here',
        '- `/config chat-budget <USD>|none`, `/config user-budget <USD>|none`: what this chat may spend a day, and what a person may have spent today (in any chat) and still be answered here',
        '- `/config reset <setting>|all`, `/config history`',
      ],
      noChanges: 'No changes yet: this chat uses the default settings.',
      historyHeading: '**Recent changes** (newest first)',
      historyLine: (version, at, change, by) => `- v${version} ${at} UTC — ${change} (by ${by})`,
      adminCheckFailed: (detail) =>
        `I could not check who administers this group with Feishu, so nothing was changed (${detail}).`,
      notAdmin: 'Only the group owner or a group admin can change my settings here. Send `/config` to see them.',
      saved: 'Saved. It applies from the next message.',
      notChanged: (reason) => `Not changed: ${reason}`,
      invalid: {
        persona: 'Write the persona after the word, e.g. `/config persona You are our release assistant.`',
        language: 'Language is `auto`, `zh` or `en`.',
        model: 'Name the model, e.g. `/config model gpt-4o`.',
        toggle: (name) => `Write \`/config ${name} <name> on\` or \`off\`.`,
        context: 'Group context is `on-demand`, `stored` or `off`.',
        userReads: 'Write `/config user-reads on` or `off`.',
        budget: (name) => `Write an amount of US dollars a day, e.g. \`/config ${name} 2.50\`, or \`none\`.`,
        reset: (names) => `Reset one of: ${names}, or all.`,
        unknown: (word) => `Unknown setting "${word}". Send \`/config help\` for the list.`,
      },
    },
    attachments: {
      failed: (name, code) => `${name}: it could not be read (${code}).`,
      downloadFailed: (name) =>
        `${name}: it could not be downloaded from Feishu (it may have been recalled or expired).`,
      noVision: 'I cannot see images: no model that reads pictures is configured (VISION_MODEL).',
      cannotRead: (what) => `I cannot read ${what}.`,
      forwardUnreadable: 'The forwarded messages could not be read from Feishu.',
      tooManyImages: (max, over) =>
        `Only the first ${max} images were looked at; ${over} more were not (ATTACHMENT_MAX_IMAGES).`,
    },
    tools: {
      missingScope: (tool, scopes, asUser) =>
        `I could not use ${tool}: ${asUser ? 'your authorization of the bot is' : "the bot's Feishu app is"} missing the Feishu permission ${scopes}.`,
      authorizationExpired: (tool) =>
        `I could not use ${tool}: your Feishu authorization of the bot has expired. Please authorize it again.`,
      noAccess: (tool, asUser) =>
        `I could not read it with ${tool}: ${asUser ? 'you do' : 'the bot does'} not have access to it in Feishu.`,
    },
    settingsProblems: {
      locked: (setting) => `${setting} is locked by the operator for every chat.`,
      modelNotAllowed: (model, allowed) => `${model} is not an allowed model (allowed: ${allowed || 'none'}).`,
      unknownItem: (kind, item, known) =>
        `There is no ${kind === 'tools' ? 'tool' : 'specialist'} called ${item} (${kind}: ${known || 'none'}).`,
      overCeiling: (setting, ceiling) =>
        `${setting} can be at most ${ceiling} a day here (the operator's ceiling); lower is always allowed.`,
      changedMeanwhile: 'The settings changed at the same moment; please try again.',
      stale: (version, expected) => `The settings are at version ${version}, not ${expected}: reload them.`,
      invalid: (detail) => `These settings cannot be stored: ${detail}`,
    },
    settingsCard: {
      title: 'Chat settings',
      language: 'Language',
      model: 'Model',
      context: 'Group context',
      userReads: 'User-authorized reads in the group',
      tools: 'Tools (press to switch)',
      specialists: 'Specialists (press to switch)',
      onlyAdmins: 'Only the group owner or a group admin can change settings.',
      onlyThePerson: 'Only the person in this chat can change its settings.',
      savedToast: 'Saved: applies from the next message.',
    },
    authorize: {
      title: 'Authorize the bot to read as you',
      why: (tools) =>
        `To answer, I need to read${tools === '' ? '' : ` (${tools})`} with your own Feishu permissions. ` +
        'Press **Authorize**, agree in Feishu, then ask me again. The link is yours alone and works for 10 minutes; ' +
        'send `/logout` any time to withdraw it.',
      button: 'Authorize',
    },
    welcome: (botName) =>
      [
        `**Hi, I'm ${botName}.** Thanks for adding me!`,
        '- **Ask me** by @mentioning me with a question; in a topic I answer inside the topic.',
        '- I read the recent discussion around a mention, so "what did we decide?" works.',
        '- I can read Feishu docs, sheets, wikis and more when you paste a link.',
        '- **Configure me** (group owner and admins): `/config` shows my settings here, `/config help` lists what you can change: persona, language, model, tools.',
        '- `/help` lists everything else.',
      ].join('\n'),
    approval: {
      title: 'Approval needed',
      whoDecides: (minutes) =>
        `Only the person who asked (or a chat admin) can decide. Without an answer within ${minutes} min nothing is changed.`,
      approve: 'Approve',
      always: 'Always allow in this chat',
      deny: 'Deny',
      decided: {
        approved: { title: 'Approved', line: 'Approved: going ahead.' },
        always: {
          title: 'Approved (always in this chat)',
          line: 'Approved, and allowed without asking in this chat from now on.',
        },
        denied: { title: 'Denied', line: 'Denied: nothing was changed.' },
        expired: { title: 'Expired', line: 'Nobody answered in time: nothing was changed.' },
      },
      gone: 'This request is no longer available.',
      alreadyDecided: 'Already decided.',
      expired: 'This request expired: nothing was changed.',
      deniedToast: 'Denied: nothing will be changed.',
      approvedToast: 'Approved: going ahead.',
    },
    limits: {
      userRate: (perMinute) =>
        `You're sending messages faster than I can answer (at most ${perMinute} a minute). Please wait a moment, then ask again.`,
      chatRate: (perMinute) =>
        `This chat is sending me more messages than I can handle (at most ${perMinute} a minute). Please wait a minute, then ask again.`,
      tooLong: (length, limit) =>
        `Your message is too long for me (${length} characters; the limit is ${limit}). Please shorten it or split it into parts.`,
      overBudget: (scope, budget, clock, zone, hours, minutes) =>
        `${scope === 'user' ? 'You have' : 'This chat has'} used today's budget for questions to me (${budget}). It resets at ${clock} ${zone} (in ${hours > 0 ? `${hours} h ${minutes} min` : `${minutes} min`}).`,
    },
    commands: {
      forgotten: (inThread) =>
        `Done: I have forgotten our conversation in this ${inThread ? 'thread' : 'chat'}. What shall we talk about?`,
      help: [
        '**How to talk to me**',
        '- In a group, @mention me; in a direct chat, just write.',
        '- I remember the conversation (per chat, or per thread), so you can ask follow-up questions.',
        '- Replying inside a thread keeps that topic separate.',
        '',
        '**Commands**',
        '- `/reset` or `/new`: forget this conversation and start fresh',
        '- `/remind tomorrow 9:00 …`: a reminder in this chat (`/remind` shows every form)',
        '- `/schedules`: this chat’s schedules; `/schedules cancel <id>` cancels one',
        '- `/help`: this message',
        '- `/logout`: withdraw the Feishu authorization you gave me for reading as you',
        "- `/config`: this chat's settings (owners and admins change them; `/config help`)",
      ],
      specialistsHeading: '**What I can delegate to specialists**',
      noAuthorization: 'Nothing to withdraw: this bot never reads with your own Feishu authorization.',
      authorizationWithdrawn:
        'Done: I no longer hold your Feishu authorization. I will ask again if a question needs it.',
      nothingToWithdraw: 'You had not authorized me, so there was nothing to withdraw.',
      configUnavailable: 'Chat settings are not available here.',
      schedulesUnavailable: 'Schedules post into Feishu chats; they are not available here.',
    },
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
    busy: '我现在要处理的消息太多了，请一分钟后再试。',
    givenUp: '抱歉，这个回答没能完成，请再问一次。',
    unreadable: '这条消息里没有我能读懂的内容。',
    failed: '出了点问题，请稍后再试。',
    thinking: '⏳ 思考中…',
    footer: { tokens: (count) => `${count} 个 token`, seconds: (value) => `${value} 秒` },
    steps: {
      title: '步骤',
      used: (tool) => `使用了 \`${tool}\``,
      asked: (specialist) => `询问了 **${specialist}**`,
      working: '处理中…',
      count: (steps) => `${steps} 个步骤`,
      earlier: (steps) => `之前的 ${steps} 个步骤`,
      none: '没有步骤。',
      seconds: (value) => `${value} 秒`,
    },
    watchdog: {
      unanswered: '⚠️ 这个回答在写出之前就中断了，请再问一次。',
      sentAsText: '回答已作为消息发在下方。',
    },
    buttons: { stop: '⏹ 停止', up: '👍', down: '👎' },
    modelErrors: {
      RATE_LIMIT: '模型服务商正在限流，请一分钟后再试。',
      TIMEOUT: '模型回答太慢，我已停止等待。请再试一次。',
      NETWORK: '连不上模型服务商（网络错误），请稍后再试。',
      AUTH: '机器人无法登录模型服务商，需要运维人员检查 API 密钥。',
      CONTEXT_LENGTH: '这段对话对模型来说太长了。发送 /reset 重新开始，或缩短你的消息。',
      CONTENT_FILTER: '模型服务商的内容过滤拒绝了这个请求。',
      CIRCUIT_OPEN: '模型服务商接连出错，我暂停向它发送请求几秒钟。请稍后再试。',
      OTHER: '生成回答时出了点问题，请再试一次。',
    },
    config: {
      heading: (version) => `**本群的设置**（版本 ${version}）`,
      unset: '（默认）',
      none: '无',
      allowed: '可选',
      perDay: (amount) => `每天 ${amount}`,
      noBudget: '不限',
      atMost: (amount) => `最多 ${amount}`,
      footer: '群主和管理员可以用 `/config <设置> <值>` 修改；`/config help` 列出全部设置。',
      help: [
        '**群设置**（群主和管理员可修改，所有人可查看）',
        '- `/config`：当前生效的设置',
        '- `/config persona <文字>`：我在本群的行为方式（本群的系统提示词）',
        '- `/config language auto|zh|en`：我回答和书写所用的语言',
        '- `/config model <名称>`：允许的模型之一',
        '- `/config tools <名称> on|off`、`/config specialists <名称> on|off`',
        '- `/config context on-demand|stored|off`：被 @ 时是否阅读群里最近的讨论',
        '- `/config user-reads on|off`：基于你个人飞书授权的回答是否可以发在群里',
        '- `/config chat-budget <美元>|none`、`/config user-budget <美元>|none`：本群每天的预算，以及每个人的每日预算（在本群提问时适用，计入其在所有会话中的花费）',
        '- `/config reset <设置>|all`、`/config history`',
      ],
      noChanges: '还没有修改过：本群使用默认设置。',
      historyHeading: '**最近的修改**（最新在前）',
      historyLine: (version, at, change, by) => `- v${version} ${at} UTC — ${change}（修改人：${by}）`,
      adminCheckFailed: (detail) => `无法通过飞书确认本群的管理员，所以没有做任何修改（${detail}）。`,
      notAdmin: '只有群主或群管理员可以修改我在本群的设置。发送 `/config` 可以查看。',
      saved: '已保存，从下一条消息开始生效。',
      notChanged: (reason) => `没有修改：${reason}`,
      invalid: {
        persona: '请把人设写在后面，例如 `/config persona 你是我们的发布助手。`',
        language: '语言可以是 `auto`、`zh` 或 `en`。',
        model: '请写明模型名称，例如 `/config model gpt-4o`。',
        toggle: (name) => `请写成 \`/config ${name} <名称> on\` 或 \`off\`。`,
        context: '群聊上下文可以是 `on-demand`、`stored` 或 `off`。',
        userReads: '请写成 `/config user-reads on` 或 `off`。',
        budget: (name) => `请写每天的美元金额，例如 \`/config ${name} 2.50\`，或 \`none\`。`,
        reset: (names) => `可以重置的设置：${names}，或 all。`,
        unknown: (word) => `没有“${word}”这个设置。发送 \`/config help\` 查看全部设置。`,
      },
    },
    attachments: {
      failed: (name, code) => `${name}：无法读取，${ATTACHMENT_REASONS_ZH[code]}。`,
      downloadFailed: (name) => `${name}：无法从飞书下载（可能已被撤回或已过期）。`,
      noVision: '我看不了图片：没有配置能识别图片的模型（VISION_MODEL）。',
      cannotRead: (what) => `我读不了这类内容（${what}）。`,
      forwardUnreadable: '无法从飞书读取转发的消息。',
      tooManyImages: (max, over) => `只看了前 ${max} 张图片，另外 ${over} 张没有看（ATTACHMENT_MAX_IMAGES）。`,
    },
    tools: {
      missingScope: (tool, scopes, asUser) =>
        asUser
          ? `无法使用 ${tool}：你给机器人的授权缺少飞书权限 ${scopes}。需要飞书管理员在开发者后台（open.feishu.cn/app → 本应用 → 权限管理）为用户授权开通它，然后你再重新授权。`
          : `无法使用 ${tool}：机器人的飞书应用缺少权限 ${scopes}。飞书管理员可以在开发者后台（open.feishu.cn/app → 本应用 → 权限管理）添加它，然后发布新版本。`,
      authorizationExpired: (tool) => `无法使用 ${tool}：你给机器人的飞书授权已过期，请重新授权。`,
      noAccess: (tool, asUser) =>
        asUser
          ? `无法用 ${tool} 读取：你在飞书里没有它的访问权限。请让所有者分享给你。`
          : `无法用 ${tool} 读取：机器人在飞书里没有它的访问权限。请把它分享给机器人（在文档中：分享 → 添加机器人应用为可阅读的协作者），或请所有者分享。`,
    },
    settingsProblems: {
      locked: (setting) => `${setting} 已被运维人员锁定，所有群都不能修改。`,
      modelNotAllowed: (model, allowed) => `${model} 不在允许的模型中（可选：${allowed || '无'}）。`,
      unknownItem: (kind, item, known) =>
        `没有名为 ${item} 的${kind === 'tools' ? '工具' : '专家'}（可选：${known || '无'}）。`,
      overCeiling: (setting, ceiling) => `${setting} 在这里每天最多 ${ceiling}（运维人员设定的上限）；调低总是可以的。`,
      changedMeanwhile: '设置刚好同时被修改了，请再试一次。',
      stale: (version, expected) => `设置已是版本 ${version}，而不是 ${expected}：请重新加载。`,
      invalid: (detail) => `这些设置无法保存：${detail}`,
    },
    settingsCard: {
      title: '群设置',
      language: '语言',
      model: '模型',
      context: '群聊上下文',
      userReads: '在群里使用个人授权读取',
      tools: '工具（点击切换）',
      specialists: '专家（点击切换）',
      onlyAdmins: '只有群主或群管理员可以修改设置。',
      onlyThePerson: '只有本会话中的这个人可以修改设置。',
      savedToast: '已保存：从下一条消息开始生效。',
    },
    authorize: {
      title: '授权机器人以你的身份读取',
      why: (tools) =>
        `为了回答，我需要用你个人的飞书权限读取${tools === '' ? '' : `（${tools}）`}。` +
        '请点击**授权**，在飞书中同意后再问我一次。这个链接只属于你，10 分钟内有效；随时发送 `/logout` 可以撤回授权。',
      button: '授权',
    },
    welcome: (botName) =>
      [
        `**你好，我是 ${botName}。** 谢谢邀请我进群！`,
        '- **提问**：@我 并写下问题；在话题中我会在话题里回复。',
        '- 被 @ 时我会参考群里最近的讨论，所以可以问“我们刚才定了什么？”。',
        '- 贴上飞书文档、表格、知识库等链接，我可以读取内容。',
        '- **配置**（群主和群管理员）：发送 `/config` 查看本群设置，`/config help` 查看可修改项：人设、语言、模型、工具。',
        '- 发送 `/help` 查看全部功能。',
      ].join('\n'),
    approval: {
      title: '需要你的批准',
      whoDecides: (minutes) => `只有提问的人（或群管理员）可以决定。${minutes} 分钟内没有答复则不做任何修改。`,
      approve: '批准',
      always: '在本群始终允许',
      deny: '拒绝',
      decided: {
        approved: { title: '已批准', line: '已批准：继续执行。' },
        always: { title: '已批准（本群始终允许）', line: '已批准，今后在本群无需再询问。' },
        denied: { title: '已拒绝', line: '已拒绝：没有做任何修改。' },
        expired: { title: '已过期', line: '没有人及时答复：没有做任何修改。' },
      },
      gone: '这个请求已失效。',
      alreadyDecided: '已经做过决定了。',
      expired: '这个请求已过期：没有做任何修改。',
      deniedToast: '已拒绝：不会做任何修改。',
      approvedToast: '已批准：继续执行。',
    },
    limits: {
      userRate: (perMinute) => `你发消息的速度超过了我能回答的速度（每分钟最多 ${perMinute} 条）。请稍等片刻再问。`,
      chatRate: (perMinute) => `本群发给我的消息太多了（每分钟最多 ${perMinute} 条）。请过一分钟再问。`,
      tooLong: (length, limit) => `消息太长了（${length} 个字符，上限 ${limit}）。请缩短或分成几段发送。`,
      overBudget: (scope, budget, clock, zone, hours, minutes) =>
        `${scope === 'user' ? '你' : '本群'}今天向我提问的预算（${budget}）已用完，将于 ${zone} 时间 ${clock} 重置（${hours > 0 ? `${hours} 小时 ${minutes} 分钟` : `${minutes} 分钟`}后）。`,
    },
    commands: {
      forgotten: (inThread) => `好的，我已忘记${inThread ? '这个话题' : '本会话'}中的对话。想聊点什么？`,
      help: [
        '**如何与我对话**',
        '- 在群里请 @我；在单聊中直接发消息即可。',
        '- 我会记住对话（按会话或按话题），可以继续追问。',
        '- 在话题里回复可以让不同话题互不干扰。',
        '',
        '**命令**',
        '- `/reset` 或 `/new`：忘记本次对话，重新开始',
        '- `/remind 明天 9:00 …`：在本群设置提醒（`/remind` 查看全部写法）',
        '- `/schedules`：本群的定时任务；`/schedules cancel <id>` 取消其中一个',
        '- `/help`：显示本帮助',
        '- `/logout`：撤回你授予我的飞书读取授权',
        '- `/config`：本群的设置（群主和管理员可修改；`/config help`）',
      ],
      specialistsHeading: '**我可以交给专家处理的事**',
      noAuthorization: '无需撤回：这个机器人从不使用你个人的飞书授权读取内容。',
      authorizationWithdrawn: '好的，我已不再持有你的飞书授权。之后如果有问题需要，我会再向你申请。',
      nothingToWithdraw: '你还没有授权过我，所以没有需要撤回的。',
      configUnavailable: '这里不能使用群设置。',
      schedulesUnavailable: '定时任务只能在飞书会话中使用，这里不可用。',
    },
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
