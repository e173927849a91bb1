import { BUILT_IN_TOOLS } from '../agents/tools/built-in-tools.js';
import type { Config } from '../config.js';

/**
 * Which Feishu scopes (permissions) each feature of the bot needs, as Feishu's documentation
 * lists them per API and event ("enable any one of these"). `npm run doctor` compares them with
 * the scopes the tenant actually granted (`GET /open-apis/application/v6/scopes`), and
 * docs/feishu-setup.md explains each row. A feature that calls a new Feishu API adds its row here.
 */
export interface ScopeRequirement {
  /** What the bot does with it, in the words of the setup guide. */
  feature: string;
  /** Any one of these is enough (Feishu accepts several, the first is the narrowest). */
  anyOf: readonly string[];
  /** `required`: the bot cannot serve without it; `optional`: one feature degrades. */
  level: 'required' | 'optional';
  /** False when the feature is off in this configuration: not checked. */
  on: boolean;
}

/**
 * @example
 * for (const row of requiredScopes(config)) if (row.on && !row.anyOf.some((s) => granted.has(s))) missing.push(row);
 */
export function requiredScopes(
  config: Pick<Config, 'feishu'> & { tools?: Pick<Config['tools'], 'managerTools'> },
): ScopeRequirement[] {
  const on = config.feishu.enabled;
  return [
    {
      feature: 'receive direct messages (im.message.receive_v1)',
      anyOf: ['im:message.p2p_msg:readonly', 'im:message.p2p_msg'],
      level: 'required',
      on,
    },
    {
      feature: 'receive group messages that @mention the bot (im.message.receive_v1)',
      anyOf: ['im:message.group_at_msg:readonly', 'im:message.group_at_msg'],
      level: 'required',
      on,
    },
    {
      feature: 'send, reply to and update messages',
      anyOf: ['im:message:send_as_bot', 'im:message'],
      level: 'required',
      on,
    },
    {
      feature: 'stream answers into CardKit cards',
      anyOf: ['cardkit:card:write'],
      level: 'required',
      on,
    },
    {
      feature: 'the "Typing" reaction on plain-text replies',
      anyOf: ['im:message.reactions:write_only', 'im:message'],
      level: 'optional',
      on,
    },
    {
      feature: 'read chat and thread history (conversation context, chat history tool)',
      anyOf: ['im:message:readonly', 'im:message', 'im:message.history:readonly'],
      level: 'optional',
      on,
    },
    {
      feature: 'read pictures, files and voice messages people send, quotes and forwarded bundles',
      anyOf: ['im:message:readonly', 'im:message', 'im:message.history:readonly'],
      level: 'optional',
      on,
    },
    {
      feature: 'read group history (group chats also need this sensitive scope)',
      anyOf: ['im:message.group_msg'],
      level: 'optional',
      on,
    },
    {
      feature: 'check group owners and admins (/config, the settings card, card buttons)',
      anyOf: ['im:chat:readonly', 'im:chat'],
      level: 'optional',
      on,
    },
    ...toolScopes(on, new Set(config.tools?.managerTools ?? [])),
  ];
}

/**
 * One optional row per scope of each tool that acts as the app (docs/tools.md), from the tools'
 * own declarations, so a new tool is checked without a second list. Tools acting as the user
 * need user-token scopes, which the tenant's scope list does not show. Write tools count only
 * when named in MANAGER_TOOLS (they are off otherwise).
 */
function toolScopes(on: boolean, enabled: ReadonlySet<string>): ScopeRequirement[] {
  const rows = new Map<string, string[]>();
  for (const tool of BUILT_IN_TOOLS) {
    if (tool.identity !== 'tenant') continue;
    if (tool.access === 'write' && !enabled.has(tool.name)) continue;
    for (const scope of tool.scopes) rows.set(scope, [...(rows.get(scope) ?? []), tool.name]);
  }
  // Chat history has its own rows above.
  for (const scope of ['im:message:readonly', 'im:message.group_msg']) rows.delete(scope);
  return [...rows].map(([scope, tools]) => ({
    feature: `tools ${tools.join(', ')} (docs/tools.md)`,
    anyOf: [scope],
    level: 'optional' as const,
    on,
  }));
}
