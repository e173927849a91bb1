import { z } from 'zod';
import type { ChatBudgets } from '../cost/budget-guard.js';
import { CENT_MICROS, formatUsd, MAX_BUDGET_CENTS, usdToMicros } from '../cost/usd-amount.js';
import { textsFor } from '../i18n/bot-texts.js';
import type { Language } from '../i18n/language.js';
import { appScoped, DEFAULT_APP_ID } from '../inbox/app-scope.js';
import type { ChatSettingsVersion, Store } from '../store/store.js';
import type { GroupContextMode } from './room-context.js';

/**
 * Per-chat settings ("personas"): what a chat's owner and admins may change for their chat, on
 * top of the global defaults from the configuration, with operator locks. Stored in the store as
 * versions (who changed what, when), read for every message, so a change takes effect on the next
 * message on every instance.
 */

/** The names of the settings, as `/config`, CHAT_LOCKED_SETTINGS and the devtools use them. */
export const CHAT_SETTING_NAMES = [
  'persona',
  'language',
  'model',
  'tools',
  'specialists',
  'context',
  'user-reads',
  'chat-budget',
  'user-budget',
] as const;
export type ChatSettingName = (typeof CHAT_SETTING_NAMES)[number];

export type ChatLanguage = 'auto' | 'zh' | 'en';

/** What a chat stores: only what its admins set; the rest follows the defaults. */
export const chatOverridesSchema = z
  .object({
    persona: z.string().min(1).max(2_000).optional(),
    language: z.enum(['auto', 'zh', 'en']).optional(),
    model: z.string().min(1).max(200).optional(),
    toolsOff: z.array(z.string().min(1).max(100)).max(100).optional(),
    specialistsOff: z.array(z.string().min(1).max(100)).max(100).optional(),
    groupContext: z.enum(['on-demand', 'stored', 'off']).optional(),
    userReadsInGroup: z.boolean().optional(),
    /** What the chat may spend a day, in whole cents; 0: no budget. */
    chatBudgetCents: z.number().int().min(0).max(MAX_BUDGET_CENTS).optional(),
    /** What one person may spend a day while asking here, in whole cents; 0: no budget. */
    userBudgetCents: z.number().int().min(0).max(MAX_BUDGET_CENTS).optional(),
  })
  .strict();
export type ChatOverrides = z.infer<typeof chatOverridesSchema>;

/** The settings in effect for one chat. */
export interface EffectiveChatSettings {
  /** Extra instructions from the chat's admins (or the default persona). */
  persona: string | undefined;
  language: ChatLanguage;
  /** A model from the allowed list tried first; undefined: the configured chain. */
  model: string | undefined;
  toolsOff: readonly string[];
  specialistsOff: readonly string[];
  groupContext: GroupContextMode;
  /** Whether answers built from a user's own Feishu authorization may be posted in the group. */
  userReadsInGroup: boolean;
  /** The daily budgets of questions asked here, in micros (0: none). */
  dailyBudget: ChatBudgets;
  /** The stored version in effect (0: only defaults). */
  version: number;
}

/** What of a chat's settings shapes one answer of the manager (its `chat` option). */
export function answerSettingsOf(settings: EffectiveChatSettings): {
  persona: string | undefined;
  language: ChatLanguage;
  model: string | undefined;
  specialistsOff: readonly string[];
} {
  return {
    persona: settings.persona,
    language: settings.language,
    model: settings.model,
    specialistsOff: settings.specialistsOff,
  };
}

/** Global defaults and the operator's bounds, from the configuration. */
export interface ChatSettingsPolicy {
  defaults: Omit<EffectiveChatSettings, 'version' | 'toolsOff' | 'specialistsOff'>;
  /** Models a chat may choose. */
  allowedModels: readonly string[];
  /** Settings no chat may change (the default applies even if a value was stored earlier). */
  locked: readonly ChatSettingName[];
  /**
   * The highest daily budgets a chat's admins may set, in micros; 0: no ceiling (then "no
   * budget" may be chosen too). An admin may always lower a budget.
   */
  budgetCeiling: ChatBudgets;
  /** Tools and specialists that exist, so `/config tools x off` refuses a typo. */
  tools: readonly string[];
  specialists: readonly string[];
}

/** One change asked for: a setting and its new value, or `reset` to go back to the default. */
export type ChatSettingChange =
  | { name: 'persona'; value: string }
  | { name: 'language'; value: ChatLanguage }
  | { name: 'model'; value: string }
  | { name: 'tools' | 'specialists'; item: string; on: boolean }
  | { name: 'context'; value: GroupContextMode }
  | { name: 'user-reads'; value: boolean }
  /** Whole cents a day; 0: no budget. */
  | { name: 'chat-budget' | 'user-budget'; cents: number }
  | { name: 'reset'; setting: ChatSettingName | 'all' };

/** Why a change was refused, with what a person needs to put it right; worded per language by `textsFor(…).settingsProblems`. */
export type ChatSettingsProblem =
  | { problem: 'locked'; setting: string }
  | { problem: 'model-not-allowed'; model: string; allowed: readonly string[] }
  | { problem: 'unknown-item'; kind: 'tools' | 'specialists'; item: string; known: readonly string[] }
  | { problem: 'over-ceiling'; setting: string; ceiling: string }
  | { problem: 'changed-meanwhile' }
  | { problem: 'stale'; version: number; expected: number }
  | { problem: 'invalid'; detail: string };

const PROBLEM_CODES = {
  locked: 'LOCKED',
  'model-not-allowed': 'NOT_ALLOWED',
  'over-ceiling': 'NOT_ALLOWED',
  invalid: 'NOT_ALLOWED',
  'unknown-item': 'UNKNOWN',
  'changed-meanwhile': 'CONFLICT',
  stale: 'CONFLICT',
} as const;

/**
 * A refused settings change in the given language.
 *
 * @example
 * settingsProblemText({ problem: 'locked', setting: 'model' }, 'zh'); // 'model 已被运维人员锁定…'
 */
export function settingsProblemText(problem: ChatSettingsProblem, language: Language): string {
  const say = textsFor(language).settingsProblems;
  switch (problem.problem) {
    case 'locked':
      return say.locked(problem.setting);
    case 'model-not-allowed':
      return say.modelNotAllowed(problem.model, problem.allowed.join(', '));
    case 'unknown-item':
      return say.unknownItem(problem.kind, problem.item, problem.known.join(', '));
    case 'over-ceiling':
      return say.overCeiling(problem.setting, problem.ceiling);
    case 'changed-meanwhile':
      return say.changedMeanwhile;
    case 'stale':
      return say.stale(problem.version, problem.expected);
    case 'invalid':
      return say.invalid(problem.detail);
  }
}

/** Why a change was refused: a stable code, the problem to word for a person, English as the message (logs, devtools). */
export class ChatSettingsError extends Error {
  readonly code: (typeof PROBLEM_CODES)[ChatSettingsProblem['problem']];
  constructor(readonly problem: ChatSettingsProblem) {
    super(settingsProblemText(problem, 'en'));
    this.name = 'ChatSettingsError';
    this.code = PROBLEM_CODES[problem.problem];
  }
  /** What a person reads, in their language. */
  textIn(language: Language): string {
    return settingsProblemText(this.problem, language);
  }
  static isInstance(error: unknown): error is ChatSettingsError {
    return error instanceof Error && error.name === 'ChatSettingsError';
  }
}

export interface ChatSettings {
  readonly policy: ChatSettingsPolicy;
  effective(chatId: string): Promise<EffectiveChatSettings>;
  /** The chat's stored values (what its admins set), and the version they are. */
  stored(chatId: string): Promise<{ overrides: ChatOverrides; version: number }>;
  /** Applies one change as the next version; returns the settings now in effect. */
  change(chatId: string, change: ChatSettingChange, changedBy: string): Promise<EffectiveChatSettings>;
  /** Replaces the chat's stored values at once (devtools), checked like single changes. */
  replace(
    chatId: string,
    overrides: ChatOverrides,
    changedBy: string,
    expectedVersion?: number,
  ): Promise<EffectiveChatSettings>;
  history(chatId: string, limit: number): Promise<ChatSettingsVersion[]>;
  /** This app's chats with settings, the newest version of each, most recently changed first. */
  list(limit: number): Promise<ChatSettingsVersion[]>;
  /** Forgets the chat's settings (the bot left it). */
  purge(chatId: string): Promise<void>;
}

export interface ChatSettingsOptions {
  store: Store;
  policy: ChatSettingsPolicy;
  /** The app (bot) whose settings these are: two bots in one chat are configured apart. */
  appId?: string | undefined;
  /** Versions kept per chat. */
  keepVersions?: number;
  now?: () => number;
}

/** Which stored field a setting name is. */
const FIELD: Record<ChatSettingName, keyof ChatOverrides> = {
  persona: 'persona',
  language: 'language',
  model: 'model',
  tools: 'toolsOff',
  specialists: 'specialistsOff',
  context: 'groupContext',
  'user-reads': 'userReadsInGroup',
  'chat-budget': 'chatBudgetCents',
  'user-budget': 'userBudgetCents',
};

/** Which budget of `ChatBudgets` a budget setting is. */
const BUDGET = { 'chat-budget': 'chatMicros', 'user-budget': 'userMicros' } as const;

/** A budget under a ceiling (both in micros, 0 meaning none): never above it, never unbounded under one. */
function withinCeiling(micros: number, ceiling: number): number {
  if (ceiling <= 0) return micros;
  return micros <= 0 ? ceiling : Math.min(micros, ceiling);
}

/** A stored value that no longer validates (an older build, a hand edit) counts as not set. */
function readOverrides(version: ChatSettingsVersion | undefined): ChatOverrides {
  if (version === undefined) return {};
  const parsed = chatOverridesSchema.safeParse(version.settings);
  return parsed.success ? parsed.data : {};
}

/**
 * @example
 * const settings = createChatSettings({ store, policy: chatSettingsPolicyFromConfig(config, { tools, specialists }) });
 * await settings.change('oc_1', { name: 'model', value: 'gpt-4o' }, 'ou_admin');
 * (await settings.effective('oc_1')).model; // 'gpt-4o'
 */
export function createChatSettings({
  store,
  policy,
  appId,
  keepVersions = 50,
  now = Date.now,
}: ChatSettingsOptions): ChatSettings {
  /** The chat's key in the store; the default app's are the chat ids themselves. */
  const keyOf = (chatId: string) => appScoped(appId, chatId);
  const locked = new Set<ChatSettingName>(policy.locked);

  /** A stored budget, held under the ceiling in effect now (the operator may have lowered it since). */
  function budgetOf(name: keyof typeof BUDGET, cents: number | undefined): number {
    const fallback = policy.defaults.dailyBudget[BUDGET[name]];
    if (locked.has(name) || cents === undefined) return fallback;
    return withinCeiling(cents * CENT_MICROS, policy.budgetCeiling[BUDGET[name]]);
  }

  function resolve(overrides: ChatOverrides, version: number): EffectiveChatSettings {
    const own = <Name extends ChatSettingName>(name: Name) => !locked.has(name);
    const model =
      own('model') && overrides.model !== undefined && policy.allowedModels.includes(overrides.model)
        ? overrides.model
        : policy.defaults.model;
    return {
      persona: own('persona') ? (overrides.persona ?? policy.defaults.persona) : policy.defaults.persona,
      language: own('language') ? (overrides.language ?? policy.defaults.language) : policy.defaults.language,
      model,
      toolsOff: own('tools') ? (overrides.toolsOff ?? []) : [],
      specialistsOff: own('specialists') ? (overrides.specialistsOff ?? []) : [],
      groupContext: own('context')
        ? (overrides.groupContext ?? policy.defaults.groupContext)
        : policy.defaults.groupContext,
      userReadsInGroup: own('user-reads')
        ? (overrides.userReadsInGroup ?? policy.defaults.userReadsInGroup)
        : policy.defaults.userReadsInGroup,
      dailyBudget: {
        chatMicros: budgetOf('chat-budget', overrides.chatBudgetCents),
        userMicros: budgetOf('user-budget', overrides.userBudgetCents),
      },
      version,
    };
  }

  async function current(chatId: string): Promise<{ overrides: ChatOverrides; version: number }> {
    const [newest] = await store.chatSettingsHistory(keyOf(chatId), 1);
    return { overrides: readOverrides(newest), version: newest?.version ?? 0 };
  }

  function check(overrides: ChatOverrides, before: ChatOverrides): void {
    for (const name of CHAT_SETTING_NAMES) {
      const field = FIELD[name];
      if (locked.has(name) && JSON.stringify(overrides[field]) !== JSON.stringify(before[field])) {
        throw new ChatSettingsError({ problem: 'locked', setting: name });
      }
    }
    for (const name of ['chat-budget', 'user-budget'] as const) {
      const cents = overrides[FIELD[name]];
      const ceiling = policy.budgetCeiling[BUDGET[name]];
      if (typeof cents !== 'number' || cents === before[FIELD[name]] || ceiling <= 0) continue;
      if (cents === 0 || cents * CENT_MICROS > ceiling) {
        throw new ChatSettingsError({ problem: 'over-ceiling', setting: name, ceiling: formatUsd(ceiling) });
      }
    }
    if (overrides.model !== undefined && !policy.allowedModels.includes(overrides.model)) {
      throw new ChatSettingsError({
        problem: 'model-not-allowed',
        model: overrides.model,
        allowed: policy.allowedModels,
      });
    }
    for (const tool of overrides.toolsOff ?? []) {
      if (!policy.tools.includes(tool)) {
        throw new ChatSettingsError({ problem: 'unknown-item', kind: 'tools', item: tool, known: policy.tools });
      }
    }
    for (const specialist of overrides.specialistsOff ?? []) {
      if (!policy.specialists.includes(specialist)) {
        throw new ChatSettingsError({
          problem: 'unknown-item',
          kind: 'specialists',
          item: specialist,
          known: policy.specialists,
        });
      }
    }
  }

  function apply(before: ChatOverrides, change: ChatSettingChange): { next: ChatOverrides; summary: string } {
    const next: ChatOverrides = { ...before };
    switch (change.name) {
      case 'persona':
        next.persona = change.value.trim().slice(0, 2_000);
        return {
          next,
          summary: `persona = ${next.persona.length > 60 ? `${next.persona.slice(0, 59)}…` : next.persona}`,
        };
      case 'language':
        next.language = change.value;
        return { next, summary: `language = ${change.value}` };
      case 'model':
        next.model = change.value;
        return { next, summary: `model = ${change.value}` };
      case 'tools':
      case 'specialists': {
        const field = change.name === 'tools' ? 'toolsOff' : 'specialistsOff';
        const off = new Set(before[field] ?? []);
        if (change.on) off.delete(change.item);
        else off.add(change.item);
        if (off.size === 0) delete next[field];
        else next[field] = [...off].sort();
        return { next, summary: `${change.name}: ${change.item} ${change.on ? 'on' : 'off'}` };
      }
      case 'context':
        next.groupContext = change.value;
        return { next, summary: `context = ${change.value}` };
      case 'user-reads':
        next.userReadsInGroup = change.value;
        return { next, summary: `user-reads = ${change.value ? 'on' : 'off'}` };
      case 'chat-budget':
      case 'user-budget':
        if (change.name === 'chat-budget') next.chatBudgetCents = change.cents;
        else next.userBudgetCents = change.cents;
        return {
          next,
          summary: `${change.name} = ${change.cents === 0 ? 'none' : formatUsd(change.cents * CENT_MICROS)}`,
        };
      case 'reset':
        if (change.setting === 'all') return { next: {}, summary: 'reset all' };
        delete next[FIELD[change.setting]];
        return { next, summary: `reset ${change.setting}` };
    }
  }

  /** Saves `next` as the version after `version`; false when someone else saved first. */
  function save(chatId: string, version: number, next: ChatOverrides, changedBy: string, summary: string) {
    return store.saveChatSettings(
      { chatId: keyOf(chatId), version: version + 1, settings: next, changedBy, change: summary, at: now() },
      keepVersions,
    );
  }

  return {
    policy,
    async effective(chatId) {
      const { overrides, version } = await current(chatId);
      return resolve(overrides, version);
    },
    stored: current,
    async change(chatId, change, changedBy) {
      // A concurrent change makes the save lose; read again and re-apply, a few times at most.
      for (let attempt = 0; attempt < 3; attempt++) {
        const { overrides, version } = await current(chatId);
        const { next, summary } = apply(overrides, change);
        if (change.name === 'reset' && change.setting !== 'all' && locked.has(change.setting)) {
          throw new ChatSettingsError({ problem: 'locked', setting: change.setting });
        }
        check(next, change.name === 'reset' && change.setting === 'all' ? next : overrides);
        if (await save(chatId, version, next, changedBy, summary)) return resolve(next, version + 1);
      }
      throw new ChatSettingsError({ problem: 'changed-meanwhile' });
    },
    async replace(chatId, overrides, changedBy, expectedVersion) {
      const parsed = chatOverridesSchema.safeParse(overrides);
      if (!parsed.success) {
        throw new ChatSettingsError({
          problem: 'invalid',
          detail: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
        });
      }
      const before = await current(chatId);
      if (expectedVersion !== undefined && expectedVersion !== before.version) {
        throw new ChatSettingsError({ problem: 'stale', version: before.version, expected: expectedVersion });
      }
      check(parsed.data, before.overrides);
      const changed = CHAT_SETTING_NAMES.filter(
        (name) => JSON.stringify(parsed.data[FIELD[name]]) !== JSON.stringify(before.overrides[FIELD[name]]),
      );
      const summary = changed.length === 0 ? 'no change' : `changed ${changed.join(', ')}`;
      if (!(await save(chatId, before.version, parsed.data, changedBy, summary))) {
        throw new ChatSettingsError({ problem: 'changed-meanwhile' });
      }
      return resolve(parsed.data, before.version + 1);
    },
    history: (chatId, limit) => store.chatSettingsHistory(keyOf(chatId), limit),
    // The store keeps this app's chats under their app-scoped keys: list them by their plain chat ids.
    list: async (limit) =>
      (await store.listChatSettings(appId ?? DEFAULT_APP_ID, limit)).map((version) => ({
        ...version,
        chatId: version.chatId.slice(keyOf('').length),
      })),
    purge: (chatId) => store.deleteChatSettings(keyOf(chatId)),
  };
}

/**
 * The policy from the configuration: defaults, the allowed models (CHAT_ALLOWED_MODELS, else
 * MODEL and FALLBACK_MODELS) and the locks, over the tools and specialists that exist.
 *
 * @example
 * const policy = chatSettingsPolicyFromConfig(config, { tools: manager.toolNames, specialists: manager.specialists.list().map((s) => s.name) });
 */
export function chatSettingsPolicyFromConfig(
  config: {
    groups: {
      context: GroupContextMode;
      defaultPersona: string | undefined;
      defaultLanguage: ChatLanguage;
      allowedModels: readonly string[];
      lockedSettings: readonly string[];
    };
    userAuth: { allowInGroups: boolean };
    model: { primary: string | undefined; fallbacks: readonly string[] };
    cost: {
      dailyBudgetPerChatUsd: number;
      dailyBudgetPerUserUsd: number;
      maxDailyBudgetPerChatUsd: number | undefined;
      maxDailyBudgetPerUserUsd: number | undefined;
    };
  },
  { tools, specialists }: { tools: readonly string[]; specialists: readonly string[] },
): ChatSettingsPolicy {
  const { groups, model, userAuth, cost } = config;
  const dailyBudget = {
    chatMicros: usdToMicros(cost.dailyBudgetPerChatUsd),
    userMicros: usdToMicros(cost.dailyBudgetPerUserUsd),
  };
  const configured = [model.primary, ...model.fallbacks].filter((name): name is string => name !== undefined);
  return {
    defaults: {
      persona: groups.defaultPersona,
      language: groups.defaultLanguage,
      model: undefined,
      groupContext: groups.context,
      userReadsInGroup: userAuth.allowInGroups,
      dailyBudget,
    },
    // Unset, the ceiling is the configured budget: admins may only tighten it.
    budgetCeiling: {
      chatMicros: usdToMicros(cost.maxDailyBudgetPerChatUsd ?? cost.dailyBudgetPerChatUsd),
      userMicros: usdToMicros(cost.maxDailyBudgetPerUserUsd ?? cost.dailyBudgetPerUserUsd),
    },
    allowedModels: groups.allowedModels.length > 0 ? groups.allowedModels : configured,
    locked: CHAT_SETTING_NAMES.filter((name) => groups.lockedSettings.includes(name)),
    tools,
    specialists,
  };
}
