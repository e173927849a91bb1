import { FeishuApiError } from '../../feishu/call-feishu.js';
import type { ToolErrorCategory } from '../../observe/tool-error-category.js';
import { errorMessage } from '../../util/error-message.js';
import type { ToolIdentity } from './tool-definition.js';

export { isToolFault, TOOL_ERROR_CATEGORIES, type ToolErrorCategory } from '../../observe/tool-error-category.js';

const MARKER = Symbol.for('feishu-bot.ToolError');

/**
 * A tool call that could not give an answer. `message` is for the model (and devtools);
 * `userNotice`, when set, is shown to the user under the answer whatever the model makes of it,
 * so a missing permission is never hidden behind a made-up answer.
 */
export class ToolError extends Error {
  readonly [MARKER] = true;
  override readonly name = 'ToolError';
  readonly code: ToolErrorCategory;
  /** Feishu scopes the failure names (missing ones for NO_SCOPE). */
  readonly scopes: readonly string[];
  readonly userNotice: string | undefined;
  /** Feishu's business code, when the failure came from Feishu. */
  readonly feishuCode: number | undefined;
  /** What the model should do about it, when the category's general advice does not fit. */
  readonly advice: string | undefined;

  constructor(
    code: ToolErrorCategory,
    message: string,
    {
      scopes = [],
      userNotice,
      feishuCode,
      advice,
      cause,
    }: { scopes?: readonly string[]; userNotice?: string; feishuCode?: number; advice?: string; cause?: unknown } = {},
  ) {
    super(message, { cause });
    this.advice = advice;
    this.code = code;
    this.scopes = scopes;
    this.userNotice = userNotice;
    this.feishuCode = feishuCode;
  }

  static isInstance(error: unknown): error is ToolError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** The app lacks a scope (tenant token), or the user token lacks one. */
export const NO_SCOPE_CODES: ReadonlySet<number> = new Set([99991672, 99991679]);
/** The identity has no access to this one resource. */
export const NO_PERMISSION_CODES: ReadonlySet<number> = new Set([
  1770032, // docx: forBidden
  131006, // wiki: permission denied
  91403, // drive, sheets, bitable gateway: Forbidden
  90213, // sheets: PermissionFail
  1254302, // bitable: the role has no permission
  41050, // contact: the user is outside the app's contact range
  1470403, // task: no permission on the task
  193003, // calendar: no permission on the calendar
]);
const NOT_FOUND_CODES: ReadonlySet<number> = new Set([
  1770002, // docx: not found
  131005, // wiki: not found
  91402, // gateway: NOTEXIST
  90214, // sheets: SpreadSheet not found
  90215, // sheets: sheetId not found
  1254040, // bitable: app token not found
  1254041, // bitable: table not found
  1470404, // task: not found
  191002, // calendar: not found
  41012, // contact: user id not found
]);
const BAD_INPUT_CODES: ReadonlySet<number> = new Set([
  1770001, // docx: invalid param
  90202, // sheets: WrongRange
  90204, // sheets: WrongRequestBody
  91401, // gateway: PARAMERR
  99992402, // field validation failed
  1254018, // bitable: invalid filter
]);
/** The user's access token is invalid or expired: they must authorize again. */
const USER_TOKEN_CODES: ReadonlySet<number> = new Set([99991668, 99991677]);

const CONSOLE =
  'the Feishu developer console (open.feishu.cn/app, or open.larksuite.com/app for Lark) → this app → Permissions & Scopes';

/**
 * The scopes a Feishu "no scope" answer names. Its `msg` reads like
 * `Access denied. One of the following scopes is required: [docx:document, docx:document:readonly]…`.
 */
export function scopesInFeishuMessage(message: string): string[] {
  const match = /\[([a-z0-9_:.,\s-]+)\]/i.exec(message);
  if (match === null) return [];
  return match[1]!
    .split(',')
    .map((scope) => scope.trim())
    .filter((scope) => /^[a-z0-9_.-]+(:[a-z0-9_.-]+)+$/i.test(scope))
    .slice(0, 10);
}

/** `a`, `a` or `b`, `a`, `b` or `c`: in code spans, as the user sees them. */
function listScopes(scopes: readonly string[]): string {
  const quoted = scopes.map((scope) => `\`${scope}\``);
  if (quoted.length <= 1) return quoted.join('');
  return `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
}

/**
 * Any failure inside a tool as a ToolError: Feishu's permission, not-found, input, rate-limit,
 * timeout and outage answers each get their category, and permission problems an actionable
 * notice naming the scope and where an admin grants it.
 *
 * @example
 * const failure = toToolError(error, { tool: 'readDocument', identity: 'tenant', scopes: ['docx:document:readonly'] });
 * failure.code; // 'NO_SCOPE'
 */
export function toToolError(
  error: unknown,
  { tool, identity, scopes }: { tool: string; identity: ToolIdentity; scopes: readonly string[] },
): ToolError {
  if (ToolError.isInstance(error)) return error;
  if (!FeishuApiError.isInstance(error)) {
    return new ToolError('OTHER', `${tool} failed: ${errorMessage(error)}`, { cause: error });
  }
  const code = error.code;
  const options = { cause: error, ...(code === undefined ? {} : { feishuCode: code }) };
  if (error.timedOut) return new ToolError('TIMEOUT', `${tool}: Feishu did not answer in time`, options);
  if (error.rateLimited) return new ToolError('RATE_LIMIT', `${tool}: Feishu is rate-limiting the bot`, options);
  if (error.network || (error.httpStatus !== undefined && error.httpStatus >= 500)) {
    return new ToolError(
      'UNAVAILABLE',
      `${tool}: Feishu is not answering (${error.httpStatus ?? 'network error'})`,
      options,
    );
  }
  if (code !== undefined && NO_SCOPE_CODES.has(code)) {
    const named = scopesInFeishuMessage(error.message);
    const missing = named.length > 0 ? named : scopes;
    const asUser = identity === 'user' || code === 99991679;
    const what = asUser ? 'your authorization of the bot is' : "the bot's Feishu app is";
    const fix = asUser
      ? `A Feishu admin must enable it for user authorization in ${CONSOLE}, and you then authorize the bot again.`
      : `A Feishu admin can add it in ${CONSOLE}, then publish a new app version.`;
    return new ToolError('NO_SCOPE', `${tool}: ${what} missing the Feishu permission ${missing.join(' or ')}`, {
      ...options,
      scopes: missing,
      userNotice: `I could not use ${tool}: ${what} missing the Feishu permission ${listScopes(missing)}. ${fix}`,
    });
  }
  if (code !== undefined && USER_TOKEN_CODES.has(code)) {
    return new ToolError('NEEDS_USER_AUTH', `${tool}: the user's Feishu authorization has expired`, {
      ...options,
      userNotice: `I could not use ${tool}: your Feishu authorization of the bot has expired. Please authorize it again.`,
    });
  }
  if ((code !== undefined && NO_PERMISSION_CODES.has(code)) || error.httpStatus === 403) {
    const who = identity === 'user' ? 'you do' : 'the bot does';
    const share =
      identity === 'user'
        ? 'Ask its owner to share it with you.'
        : 'Share it with the bot (in the document: Share → add the bot app as a collaborator with read access), or ask its owner to.';
    return new ToolError('NO_PERMISSION', `${tool}: ${who} not have access to this resource`, {
      ...options,
      scopes,
      userNotice: `I could not read it with ${tool}: ${who} not have access to it in Feishu. ${share} (The app's own permission for this is ${listScopes(scopes)}.)`,
    });
  }
  if ((code !== undefined && NOT_FOUND_CODES.has(code)) || error.httpStatus === 404) {
    return new ToolError('NOT_FOUND', `${tool}: Feishu says it does not exist (check the link or id)`, options);
  }
  if (code !== undefined && BAD_INPUT_CODES.has(code)) {
    return new ToolError('BAD_INPUT', `${tool}: Feishu refused the request: ${error.message}`, options);
  }
  return new ToolError('OTHER', `${tool}: ${error.message}`, options);
}
