import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * The id of the app configured by FEISHU_APP_ID / FEISHU_APP_SECRET. Its conversations, jobs and
 * dedupe keys carry no app prefix, so they are the ones a single-app deployment stored before it
 * added more apps; an apps-file entry may take this id to keep them (FEISHU_APP_ID unset then).
 */
export { DEFAULT_APP_ID } from '../inbox/app-scope.js';

/** Lower-case, digits and dashes: it appears in URL paths, store keys and metric labels. */
export const APP_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** Most apps one process serves: each holds a client, a long connection or webhook route, caches. */
export const MAX_FEISHU_APPS = 20;

/** One Feishu app (bot) this process serves, from the environment or FEISHU_APPS_FILE. */
export interface FeishuApp {
  /** Names the app in webhook paths, logs, /health, /metrics and devtools. */
  id: string;
  appId: string;
  appSecret: string;
  encryptKey: string | undefined;
  verificationToken: string | undefined;
  allowUnsignedWebhook: boolean;
  eventMode: 'webhook' | 'websocket';
  /** Instructions every chat of this app gets unless its admins set their own; else CHAT_DEFAULT_PERSONA. */
  persona: string | undefined;
  /** This app's allowlists; undefined: ALLOWED_CHAT_IDS / ALLOWED_USER_IDS. */
  allowedChatIds: string[] | undefined;
  allowedUserIds: string[] | undefined;
}

const text = z.string().trim().min(1);
const appEntry = z
  .object({
    id: z.string().regex(APP_ID_PATTERN, 'must be 1–32 characters of a-z, 0-9 and -, starting with a letter or digit'),
    appId: text,
    appSecret: text,
    encryptKey: text.optional(),
    verificationToken: text.optional(),
    allowUnsignedWebhook: z.boolean().optional(),
    eventMode: z.enum(['webhook', 'websocket']).optional(),
    persona: text.optional(),
    allowedChatIds: z.array(text).optional(),
    allowedUserIds: z.array(text).optional(),
  })
  .strict();

function describeIssues(where: string, error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const place = [where, ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') {
      return `${place}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')} (allowed: ${Object.keys(appEntry.shape).join(', ')})`;
    }
    return `${place}: ${issue.message}`;
  });
}

/**
 * Parses FEISHU_APPS_FILE's text: a JSON array of apps, each `{ "id", "appId", "appSecret", … }`.
 * Returns the apps and every problem at once (unknown fields, bad or repeated ids, an app id
 * used twice), each naming the file and the app, so an operator fixes them in one go.
 * `eventMode` falls back to `defaultEventMode` (FEISHU_EVENT_MODE).
 *
 * @example
 * const { apps, problems } = parseFeishuApps(readFileSync(path, 'utf8'), { path, defaultEventMode: 'webhook' });
 */
export function parseFeishuApps(
  json: string,
  { path, defaultEventMode }: { path: string; defaultEventMode: FeishuApp['eventMode'] },
): { apps: FeishuApp[]; problems: string[] } {
  const prefix = `FEISHU_APPS_FILE ${path}`;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    return { apps: [], problems: [`${prefix}: not valid JSON: ${(error as Error).message}`] };
  }
  if (!Array.isArray(raw) || raw.length === 0) {
    return { apps: [], problems: [`${prefix}: must be a non-empty JSON array of apps`] };
  }
  if (raw.length > MAX_FEISHU_APPS) {
    return { apps: [], problems: [`${prefix}: at most ${MAX_FEISHU_APPS} apps`] };
  }
  const problems: string[] = [];
  const apps: FeishuApp[] = [];
  raw.forEach((entry: unknown, index) => {
    const named =
      typeof entry === 'object' && entry !== null && typeof (entry as { id?: unknown }).id === 'string'
        ? `app "${(entry as { id: string }).id}"`
        : `app #${index + 1}`;
    const parsed = appEntry.safeParse(entry);
    if (!parsed.success) {
      problems.push(...describeIssues(`${prefix} ${named}`, parsed.error));
      return;
    }
    const app = parsed.data;
    apps.push({
      id: app.id,
      appId: app.appId,
      appSecret: app.appSecret,
      encryptKey: app.encryptKey,
      verificationToken: app.verificationToken,
      allowUnsignedWebhook: app.allowUnsignedWebhook ?? false,
      eventMode: app.eventMode ?? defaultEventMode,
      persona: app.persona,
      allowedChatIds: app.allowedChatIds,
      allowedUserIds: app.allowedUserIds,
    });
  });
  problems.push(...repeated(apps, 'id', prefix), ...repeated(apps, 'appId', prefix));
  return { apps, problems };
}

function repeated(apps: readonly FeishuApp[], field: 'id' | 'appId', prefix: string): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const app of apps) (seen.has(app[field]) ? twice : seen).add(app[field]);
  return [...twice].map((value) => `${prefix}: ${field} "${value}" is used by more than one app`);
}

/** Reads and parses FEISHU_APPS_FILE; a file that cannot be read is one problem. */
export function readFeishuAppsFile(
  path: string,
  options: { defaultEventMode: FeishuApp['eventMode'] },
): { apps: FeishuApp[]; problems: string[] } {
  let json: string;
  try {
    json = readFileSync(path, 'utf8');
  } catch (error) {
    return {
      apps: [],
      problems: [`FEISHU_APPS_FILE ${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`],
    };
  }
  return parseFeishuApps(json, { path, ...options });
}
