/**
 * Why a tool call failed, as a stable string: metrics label errors with it, the health monitor
 * decides from it whether the tool is broken, and the answer to the user is worded from it.
 */
export const TOOL_ERROR_CATEGORIES = [
  /** The app (or the user's authorization) lacks a Feishu scope: an admin must grant it. */
  'NO_SCOPE',
  /** The scope is there, but this document, base, calendar… is not shared with the identity used. */
  'NO_PERMISSION',
  /** The tool acts as the user, who has not authorized the bot (or not here). */
  'NEEDS_USER_AUTH',
  'NOT_FOUND',
  /** The model passed something the API refuses (bad range, bad filter…). */
  'BAD_INPUT',
  'RATE_LIMIT',
  'TIMEOUT',
  /** Feishu answered 5xx or not at all. */
  'UNAVAILABLE',
  /** Feishu answered, but not in the shape its documentation promises. */
  'BAD_RESPONSE',
  'OTHER',
] as const;

export type ToolErrorCategory = (typeof TOOL_ERROR_CATEGORIES)[number];

/**
 * Categories that mean the tool itself is broken or failing (a missing scope, an outage), as
 * opposed to a user asking for something they cannot have: the health monitor counts only these.
 */
export function isToolFault(category: ToolErrorCategory): boolean {
  return !['NO_PERMISSION', 'NEEDS_USER_AUTH', 'NOT_FOUND', 'BAD_INPUT'].includes(category);
}
