import type { FeishuAppParts, ManagerAgent } from './agents/manager-agent.js';
import type { ToolRegistry } from './agents/tools/tool-registry.js';
import type { Config } from './config.js';
import { feedbackButtonHandler } from './conversation/answer-feedback.js';
import { APPROVAL_JOB_KIND, type ApprovalService, createApprovalService } from './conversation/approvals.js';
import { createCardActionRouter } from './conversation/card-actions.js';
import { CHAT_MEMBERSHIP_KIND, type ChatMembership, createChatMembership } from './conversation/chat-membership.js';
import { type ChatSettings, chatSettingsPolicyFromConfig, createChatSettings } from './conversation/chat-settings.js';
import { createMessageHandler } from './conversation/handle-message.js';
import { createDeadLetterReply, createNoticeHandler } from './conversation/notice-handlers.js';
import { createLanguageOf } from './conversation/reply-language.js';
import { createReplyRouter } from './conversation/reply-routing.js';
import { createRoomContext } from './conversation/room-context.js';
import { type RunStops, stopButtonHandler } from './conversation/run-stops.js';
import { SETTINGS_ACTION, settingsButtonHandler } from './conversation/settings-card.js';
import type { createTurnResolverFromConfig } from './conversation/turn-resolver-from-config.js';
import { createTypedStop } from './conversation/typed-stop.js';
import { createBudgetGuard } from './cost/budget-guard.js';
import type { SpendLedger } from './cost/spend-ledger.js';
import type { DevtoolsReplies } from './devtools/devtools-replies.js';
import { type BotIdentity, fetchBotIdentity } from './feishu/bot-identity.js';
import { feishuCardActionHandler } from './feishu/card-callback.js';
import { createChatAdminCheck, createChatAdmins } from './feishu/chat-admins.js';
import { DEFAULT_APP_ID, type FeishuApp } from './feishu/feishu-apps.js';
import { createFeishuClient, type FeishuClient } from './feishu/feishu-client.js';
import { createMessageOriginCheck } from './feishu/message-origin.js';
import { createUserNames, type UserNames } from './feishu/user-names.js';
import type { CardAction, CardActionResponse } from './feishu/webhook/webhook-routes.js';
import { BUSY_NOTICE_KIND } from './inbox/inbox.js';
import type { JobContext, JobHandler } from './inbox/job-handler.js';
import type { Logger } from './log.js';
import type { EventBus } from './observe/event-bus.js';
import { createProactiveDeadLetter, createProactiveHandler } from './schedules/proactive-handler.js';
import { PROACTIVE_JOB_KIND } from './schedules/proactive-job.js';
import type { ScheduleService } from './schedules/schedule-service.js';
import type { NewJob, Store } from './store/store.js';
import { PERSON_DEPARTED_KIND, personDepartedHandler } from './user-auth/person-departed.js';
import type { UserAuth } from './user-auth/user-auth-from-config.js';

/*
 * What one Feishu app (one bot) gets in a process that may serve several (FEISHU_APPS_FILE), in
 * two phases, because the shared manager agent (over the default app's client) and every app's
 * per-person authorization (over each app's client) are built in between: first who the app is
 * towards Feishu (createFeishuAppBase),
 * then everything that talks to Feishu as this app and its job handlers (createFeishuAppRuntime).
 * The composition root (bot.ts) builds one of each per app and routes jobs, webhooks and long
 * connections to them; without Feishu there is one runtime, for the devtools playground.
 */

/** Phase one of an app: its client, identity and people's names. */
export interface FeishuAppBase {
  /** The app's id (`default` for FEISHU_APP_ID, and for the runtime without Feishu). */
  id: string;
  /** Its settings; undefined without Feishu. */
  app: FeishuApp | undefined;
  /** Lines tagged with the app when the process serves more than one. */
  log: Logger;
  client: FeishuClient | undefined;
  /** The bot's identity (bot/v3/info), fetched once with retries and cached. */
  identity: (() => Promise<BotIdentity>) | undefined;
  /** The bot's open_id, read from its identity. */
  botOpenId: (() => Promise<string>) | undefined;
  /** Senders' display names (Feishu contacts, cached). */
  names: UserNames | undefined;
}

export interface FeishuAppBaseOptions {
  /** The app; undefined for the runtime without Feishu. */
  app: FeishuApp | undefined;
  config: Pick<Config, 'feishu' | 'tools'>;
  bus: EventBus;
  log: Logger;
  /** Whether the process serves several apps: each app's log lines then name it. */
  several: boolean;
  /** Called once the bot's identity is known (for /health), with the app's id. */
  onBotIdentity?: ((id: string, bot: BotIdentity) => void) | undefined;
}

/**
 * Phase one of an app: the Feishu client, the bot's identity (warmed in the background: a slow
 * Feishu must not hold up start-up) and the names of the people it talks to.
 *
 * @example
 * const base = createFeishuAppBase({ app, config, bus, log, several: false, onBotIdentity: (id, bot) => bots.set(id, bot) });
 */
export function createFeishuAppBase({
  app,
  config,
  bus,
  log,
  several,
  onBotIdentity,
}: FeishuAppBaseOptions): FeishuAppBase {
  const id = app?.id ?? DEFAULT_APP_ID;
  const appLog = several ? log.child({ app: id }) : log;
  const client =
    app === undefined
      ? undefined
      : createFeishuClient({ appId: app.appId, appSecret: app.appSecret, domain: config.feishu.domain, log: appLog });
  const identity = client ? () => fetchBotIdentity(client, { bus }) : undefined;
  // Warm the cache in the background: a slow Feishu must not hold up start-up.
  identity?.().then(
    (bot) => onBotIdentity?.(id, bot),
    (error: unknown) => appLog.warn({ err: error }, 'bot identity not available yet'),
  );
  // Senders' display names for the agent (group turns, instructions) and the devtools.
  const names = client ? createUserNames({ client, bus, ttlMs: config.tools.userNameCacheMs }) : undefined;
  const botOpenId = identity ? async () => (await identity()).openId : undefined;
  return { id, app, log: appLog, client, identity, botOpenId, names };
}

/** One app's runtime: its base, and everything that acts as this app. */
export interface FeishuAppRuntime extends FeishuAppBase {
  /** The policy with this app's allowed chats and users. */
  policy: Config['policy'];
  /** Per-chat settings of this app's chats, over the configured defaults (its persona first). */
  chatSettings: ChatSettings;
  /** The groups this bot joined or left. */
  chatMembership: ChatMembership;
  /** Write tools' approvals; undefined without Feishu or without a model. */
  approvals: ApprovalService | undefined;
  /** The card callback both transports of this app hand their card presses to. */
  onCardAction: (action: CardAction) => Promise<CardActionResponse>;
  /** A typed "stop" in a newly enqueued message stops the run it names. */
  typedStop: (job: NewJob) => void;
  /** The job handlers of this app, by kind. */
  handlers: Record<string, JobHandler>;
  /** The dispatcher's dead-letter reply for a job of this app. */
  deadLetter: (job: JobContext) => Promise<void>;
}

export interface FeishuAppRuntimeOptions {
  base: FeishuAppBase;
  /**
   * The default (or first) app: it uses the shared manager and turn resolver as they are (the
   * others get them with their own client and per-person authorization), and owns the
   * schedules' purge when it leaves a chat.
   */
  primary: boolean;
  config: Config;
  store: Store;
  bus: EventBus;
  /** The manager over the shared model chain; without it (no model) there is no answer handler. */
  managerAgent: (ManagerAgent & { forApp(feishu: FeishuAppParts): ManagerAgent }) | undefined;
  /** The shared resolver of images, files, voice and quotes; undefined without a manager. */
  attachments: Pick<ReturnType<typeof createTurnResolverFromConfig>, 'turns' | 'forApp'> | undefined;
  /** The built-in tools, whose approval texts the approval card shows. */
  toolRegistry: ToolRegistry;
  /** The tools and specialists a chat's settings may turn on or off. */
  settingsNames: { tools: readonly string[]; specialists: readonly string[] };
  runStops: RunStops;
  /** This app's spend, behind its daily budgets. */
  spendLedger: SpendLedger;
  devtoolsReplies: DevtoolsReplies | undefined;
  /** Per-person authorization of every app; this app's is the one its people authorize and forget. */
  userAuth: UserAuth | undefined;
  schedules: ScheduleService | undefined;
  /** Wakes the dispatcher for a new job's kind; called only once jobs can arrive. */
  wake: (kind: string) => void;
}

/**
 * Phase two of an app: everything that talks to Feishu as this app (reply router, Feishu tools
 * through its manager, chat settings with its persona, admins, approvals, membership, room
 * context, its allowed chats and users) and the job handlers over them.
 *
 * @example
 * const base = createFeishuAppBase({ app, config, bus, log, several: false });
 * const runtime = createFeishuAppRuntime({
 *   base, primary: true, config, store, bus, managerAgent, attachments, toolRegistry, settingsNames,
 *   runStops, spendLedger, devtoolsReplies: undefined, userAuth: undefined, schedules: undefined,
 *   wake: (kind) => dispatcher.wake(kind),
 * });
 * createDispatcher({ ..., handlers: runtime.handlers, onDeadLetter: runtime.deadLetter });
 */
export function createFeishuAppRuntime({
  base,
  primary,
  config,
  store,
  bus,
  managerAgent,
  attachments,
  toolRegistry,
  settingsNames,
  runStops,
  spendLedger,
  devtoolsReplies,
  userAuth,
  schedules,
  wake,
}: FeishuAppRuntimeOptions): FeishuAppRuntime {
  const { app, client, botOpenId, names } = base;
  const appLog = base.log;
  // This app's people's own authorizations: its consent page, its tokens, its /logout and purge.
  const authorization = userAuth?.forApp(base.id);
  const replySinkFor = createReplyRouter({
    ...(client ? { feishu: { client, cardUpdatesPerSecond: config.reply.cardUpdatesPerSecond } } : {}),
    ...(devtoolsReplies ? { devtools: devtoolsReplies } : {}),
    bus,
    log: appLog,
  });
  // Our other bots, named as such where they appear in a group's discussion (never as a person).
  const ourBots = new Map(config.feishu.apps.map((each) => [each.appId, `${each.id} (bot)`]));
  const resolveUserName =
    names === undefined && ourBots.size === 0
      ? undefined
      : async (openId: string) => ourBots.get(openId) ?? (await names?.name(openId));
  // Same chain, specialists and MCP servers; this app's client behind the Feishu tools.
  const manager = managerAgent
    ? primary
      ? managerAgent
      : managerAgent.forApp({
          feishuClient: client,
          userAuthorization: authorization,
          ...(resolveUserName ? { resolveUserName } : {}),
        })
    : undefined;
  // Per-chat settings over the configured defaults (this app's persona first); group owners and
  // admins per Feishu's chat API.
  const chatSettings = createChatSettings({
    store,
    appId: app?.id,
    policy: chatSettingsPolicyFromConfig(
      app?.persona === undefined ? config : { ...config, groups: { ...config.groups, defaultPersona: app.persona } },
      settingsNames,
    ),
  });
  // Daily budgets: the configured ones, or what a chat's admins set within the operator's ceiling.
  const budget = createBudgetGuard({
    ledger: spendLedger,
    budgets: { perChatUsd: config.cost.dailyBudgetPerChatUsd, perUserUsd: config.cost.dailyBudgetPerUserUsd },
    budgetsFor: async (chatId) => (await chatSettings.effective(chatId)).dailyBudget,
  });
  // One lookup for /config, card buttons and typed stops; within a card callback's 3 s.
  const chatAdmins = client ? createChatAdmins({ client, bus, timeoutMs: 1_500 }) : undefined;
  const turns = attachments
    ? primary
      ? attachments.turns
      : attachments.forApp({ feishuClient: client, botOpenId, nameOf: resolveUserName })
    : undefined;
  // Write tools ask first: a paused run, an approval card, the decision continuing it as a job.
  const approvals =
    client && manager
      ? createApprovalService({
          store,
          appId: app?.id,
          feishuClient: client,
          describe: (name, input, language) => {
            // MCP tools that may write ask too: "Run <server>.<tool>" with their arguments.
            const definition = toolRegistry.get(name) ?? manager.mcp?.definition(name);
            const parsed = definition?.inputSchema.safeParse(input);
            return parsed?.success ? definition?.approval?.describe(parsed.data, language) : undefined;
          },
          onEnqueued: (job) => wake(job.kind),
          bus,
          log: appLog,
          timeoutMs: config.approvals.timeoutMinutes * 60_000,
        })
      : undefined;
  const isChatAdmin = chatAdmins ? createChatAdminCheck({ admins: chatAdmins }) : undefined;
  const onCardAction = feishuCardActionHandler({
    onPress: createCardActionRouter({
      // One handler per control kind: a new kind of button is one more entry here.
      handlers: {
        stop: stopButtonHandler(runStops),
        feedback: feedbackButtonHandler({ store, bus }),
        ...approvals?.cardHandlers,
        ...(client === undefined
          ? {}
          : {
              [SETTINGS_ACTION]: settingsButtonHandler({
                settings: chatSettings,
                admins: chatAdmins,
                feishuClient: client,
                bus,
                log: appLog,
              }),
            }),
      },
      store,
      ...(isChatAdmin === undefined ? {} : { isChatAdmin }),
      bus,
      log: appLog,
    }),
    log: appLog,
  });
  const typedStop = createTypedStop({
    stops: runStops,
    ...(isChatAdmin === undefined ? {} : { isChatAdmin }),
    botOpenId,
    log: appLog,
  });
  // Joining a group (welcome card) and leaving one (its state purged after the retention).
  const chatMembership = createChatMembership({
    store,
    appId: app?.id,
    bus,
    log: appLog,
    feishuClient: client,
    chatSettings,
    retentionMs: config.groups.removedChatRetentionMs,
    purgeChat: primary ? schedules?.forgetChat : undefined,
  });
  const policy = {
    ...config.policy,
    ...(app?.allowedChatIds === undefined ? {} : { allowedChatIds: app.allowedChatIds }),
    ...(app?.allowedUserIds === undefined ? {} : { allowedUserIds: app.allowedUserIds }),
  };
  const languageOf = createLanguageOf({ chatSettings, log: appLog });
  const handlers: Record<string, JobHandler> = {
    [CHAT_MEMBERSHIP_KIND]: chatMembership.handler,
    // A person deleted as this app sees them (open_ids are per app): this app's tokens and links go.
    ...(userAuth
      ? {
          [PERSON_DEPARTED_KIND]: authorization
            ? personDepartedHandler({ authorization, log: appLog })
            : async () => {},
        }
      : {}),
    [BUSY_NOTICE_KIND]: createNoticeHandler({
      bus,
      log: appLog,
      botOpenId,
      replySinkFor,
      policy,
      store,
      languageOf,
    }),
    ...(manager
      ? {
          answer: createMessageHandler({
            approvals,
            ...(authorization ? { forgetUserAuthorization: (userId: string) => authorization.forget(userId) } : {}),
            policy,
            budget,
            memoryTokenBudget: config.model.memoryTokenBudget,
            appId: app?.appId,
            store,
            bus,
            log: appLog,
            feishuClient: client,
            botOpenId,
            replySinkFor,
            managerAgent: manager,
            schedules,
            runStops,
            // A forged event must not make the bot read one chat on behalf of another.
            originCheck: client === undefined ? undefined : createMessageOriginCheck({ client, bus }),
            ...(resolveUserName === undefined ? {} : { resolveUserName }),
            turns,
            vision: { primarySeesImages: config.model.primarySeesImages, visionModel: config.model.visionModel },
            groupContext: {
              room: createRoomContext({
                store,
                feishuClient: client,
                bus,
                log: appLog,
                resolveUserName,
                botIds: app === undefined ? [] : [app.appId],
                maxMessages: config.groups.contextMaxMessages,
                tokenBudget: config.groups.contextTokenBudget,
              }),
              mode: async (chatId: string) => (await chatSettings.effective(chatId)).groupContext,
            },
            chatSettings,
            chatAdmins,
          }),
        }
      : {}),
    ...(client
      ? {
          [PROACTIVE_JOB_KIND]: createProactiveHandler({
            feishuClient: client,
            bus,
            log: appLog,
            managerAgent: manager,
            chatSettings,
            budget,
            store,
            cardUpdatesPerSecond: config.reply.cardUpdatesPerSecond,
          }),
        }
      : {}),
  };
  // A decided approval continues its run through the same conversation step.
  if (approvals && handlers.answer) handlers[APPROVAL_JOB_KIND] = handlers.answer;
  const messageDeadLetter = createDeadLetterReply({ botOpenId, replySinkFor, languageOf });
  const proactiveDeadLetter = client
    ? createProactiveDeadLetter({
        feishuClient: client,
        bus,
        log: appLog,
        chatSettings,
        cardUpdatesPerSecond: config.reply.cardUpdatesPerSecond,
      })
    : undefined;
  return {
    ...base,
    policy,
    chatSettings,
    chatMembership,
    approvals,
    onCardAction,
    typedStop,
    handlers,
    deadLetter: (job) =>
      job.job.kind === PROACTIVE_JOB_KIND && proactiveDeadLetter ? proactiveDeadLetter(job) : messageDeadLetter(job),
  };
}
