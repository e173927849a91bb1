import { isIPv6 } from 'node:net';

export interface AuthThrottle {
  /** Whole seconds until `client` may present a credential again; 0 when it may now. */
  retryAfterSeconds(client: string): number;
  /** Counts one wrong credential from `client`. */
  recordFailure(client: string): void;
  /** Clients remembered now (at most `maxClients`). */
  readonly size: number;
}

export interface AuthThrottleOptions {
  /** Wrong credentials a client may present per window before it is refused until the window ends. */
  maxFailures?: number;
  windowMs?: number;
  /** Clients remembered at most; beyond it the oldest window is forgotten first. */
  maxClients?: number;
  now?: () => number;
}

interface Window {
  startedAt: number;
  failures: number;
}

/**
 * Slows token guessing per client: after `maxFailures` wrong credentials in one window, the client
 * is refused (429) until its window ends, whatever it sends, so a guess cannot be confirmed either.
 * Per client, not global: a guesser elsewhere cannot lock the owner out. Memory stays bounded by
 * `maxClients`.
 *
 * @example
 * const throttle = createAuthThrottle({ maxFailures: 20, windowMs: 60_000 });
 * const client = throttleClient(peerAddress);
 * if (throttle.retryAfterSeconds(client) > 0) return tooManyAttempts();
 * if (!valid) throttle.recordFailure(client);
 */
export function createAuthThrottle({
  maxFailures = 20,
  windowMs = 60_000,
  maxClients = 10_000,
  now = Date.now,
}: AuthThrottleOptions = {}): AuthThrottle {
  // Insertion order is window start order: the oldest windows come first.
  const windows = new Map<string, Window>();

  function current(client: string, at: number): Window | undefined {
    const window = windows.get(client);
    if (window === undefined || at - window.startedAt < windowMs) return window;
    windows.delete(client);
    return undefined;
  }

  function sweep(at: number): void {
    for (const [client, window] of windows) {
      if (at - window.startedAt < windowMs && windows.size < maxClients) return;
      windows.delete(client);
    }
  }

  return {
    get size() {
      return windows.size;
    },
    retryAfterSeconds(client) {
      const at = now();
      const window = current(client, at);
      if (window === undefined || window.failures < maxFailures) return 0;
      return Math.max(1, Math.ceil((window.startedAt + windowMs - at) / 1_000));
    },
    recordFailure(client) {
      const at = now();
      const window = current(client, at);
      if (window !== undefined) {
        window.failures++;
        return;
      }
      sweep(at);
      windows.set(client, { startedAt: at, failures: 1 });
    },
  };
}

/**
 * The throttle key of a peer address: an IPv4 address as is, an IPv6 address by its /64 (one
 * host usually holds a whole /64, so counting single addresses would give it 2^64 tries).
 * Forwarded headers are never used: anyone can write them.
 *
 * @example
 * throttleClient('2001:db8::1'); // '2001:db8:0:0::/64'
 * throttleClient('::ffff:203.0.113.7'); // '203.0.113.7'
 */
export function throttleClient(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  const mapped = address.match(/^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i)?.[1];
  if (mapped !== undefined) return mapped;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = (address.split('%')[0] ?? '').toLowerCase().split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = address.includes('::') && tail !== '' ? tail.split(':') : [];
  // A dotted IPv4 tail (::ffff:1.2.3.4 forms) fills two groups.
  const width = (groups: string[]) => groups.reduce((sum, group) => sum + (group.includes('.') ? 2 : 1), 0);
  const missing = Math.max(0, 8 - width(headGroups) - width(tailGroups));
  const groups = [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
