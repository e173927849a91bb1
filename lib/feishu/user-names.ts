import type { EventBus } from '../observe/event-bus.js';
import { callFeishu } from './call-feishu.js';
import { fetchUser } from './contacts.js';
import type { FeishuClient } from './feishu-client.js';

export interface UserNames {
  /** The display name of `openId`, or undefined when it cannot be known (yet). Never throws. */
  name(openId: string): Promise<string | undefined>;
}

export interface UserNamesOptions {
  client: FeishuClient;
  bus: EventBus;
  /** A name is looked up again after this long (people rename themselves). Default 1 h. */
  ttlMs?: number;
  /** A failed lookup (no scope, unknown user, outage) is not repeated for this long. Default 5 min. */
  failureTtlMs?: number;
  /** People remembered at most; the least recently asked for is forgotten first. Default 5 000. */
  maxEntries?: number;
  timeoutMs?: number;
  now?: () => number;
}

interface Entry {
  name: string | undefined;
  expiresAt: number;
  refreshing?: Promise<string | undefined> | undefined;
}

/**
 * Senders' display names from Feishu contacts (`contact.v3.user.get`), cached, bounded and
 * refreshed: a known name is answered at once, and when it is older than `ttlMs` it is looked up
 * again in the background (the old name is used meanwhile). Concurrent asks share one request.
 *
 * @example
 * const names = createUserNames({ client, bus, ttlMs: 3_600_000 });
 * createMessageHandler({ ..., resolveUserName: names.name });
 */
export function createUserNames({
  client,
  bus,
  ttlMs = 3_600_000,
  failureTtlMs = 300_000,
  maxEntries = 5_000,
  timeoutMs = 3_000,
  now = Date.now,
}: UserNamesOptions): UserNames {
  const entries = new Map<string, Entry>();
  const feishu = {
    client,
    call: <T extends { code?: number; msg?: string } | undefined | null>(
      api: string,
      request: (options: undefined) => Promise<T>,
    ) => callFeishu(bus, api, () => request(undefined), { client, timeoutMs }),
  };

  function remember(openId: string, entry: Entry): void {
    entries.delete(openId);
    entries.set(openId, entry);
    while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
  }

  function lookUp(openId: string, previous: string | undefined): Promise<string | undefined> {
    const refreshing = fetchUser(feishu, openId).then(
      (user) => {
        const name = user.name?.trim() || user.en_name?.trim() || undefined;
        remember(openId, { name, expiresAt: now() + (name === undefined ? failureTtlMs : ttlMs) });
        return name;
      },
      () => {
        // Keep a name we had: a passing outage must not turn people back into ids.
        remember(openId, { name: previous, expiresAt: now() + failureTtlMs });
        return previous;
      },
    );
    remember(openId, { name: previous, expiresAt: entries.get(openId)?.expiresAt ?? 0, refreshing });
    return refreshing;
  }

  return {
    async name(openId) {
      if (!/^ou_[A-Za-z0-9]+$/.test(openId)) return undefined;
      const entry = entries.get(openId);
      if (entry === undefined) return lookUp(openId, undefined);
      if (entry.refreshing !== undefined) return entry.name ?? entry.refreshing;
      remember(openId, entry);
      if (entry.expiresAt <= now()) {
        if (entry.name === undefined) return lookUp(openId, undefined);
        void lookUp(openId, entry.name);
      }
      return entry.name;
    },
  };
}

/**
 * Display names for several people at once (one lookup each, together), for transcripts: at
 * most `max` distinct open_ids are looked up; the others, and any that fail, are left out.
 *
 * @example
 * const names = await namesFor(['ou_1', 'ou_2'], userNames.name);
 * const author = names.get(senderId) ?? senderId;
 */
export async function namesFor(
  ids: readonly string[],
  resolve: ((openId: string) => Promise<string | undefined>) | undefined,
  max = 20,
): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  if (resolve === undefined) return names;
  const people = [...new Set(ids)].filter((id) => id.startsWith('ou_')).slice(0, max);
  await Promise.all(
    people.map(async (id) => {
      const name = await resolve(id).catch(() => undefined);
      if (name !== undefined && name.trim() !== '') names.set(id, name.trim().slice(0, 100));
    }),
  );
  return names;
}
