import { promises as dns, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { errorMessage } from '../../../util/error-message.js';
import { ToolError } from '../tool-error.js';
import { isPublicAddress } from './address-policy.js';
import { readCapped } from './read-capped.js';

/** A page as fetched: the final URL after redirects, its media type and (at most maxBytes of) its body. */
export interface FetchedPage {
  url: string;
  /** The URLs that redirected here, in order. */
  redirectedFrom: string[];
  status: number;
  /** The media type without parameters, lower case (`text/html`). */
  mediaType: string;
  /** The `charset` parameter, when given. */
  charset: string | undefined;
  body: Buffer;
  /** The body was longer than maxBytes: only its start was read. */
  truncated: boolean;
}

/** Resolves a host name to every address it has (the system resolver; tests inject their own). */
export type ResolveHost = (hostname: string) => Promise<LookupAddress[]>;

export interface PageFetcherOptions {
  /** Bytes of a body read at most (after decompression); the rest is never downloaded. */
  maxBytes?: number;
  /** Everything of one fetch, redirects included. */
  timeoutMs?: number;
  maxRedirects?: number;
  /** Host names (exact, case-insensitive) allowed to resolve to private addresses, e.g. an intranet wiki. */
  allowPrivateHosts?: readonly string[];
  resolveHost?: ResolveHost;
}

export type FetchPage = (url: string, options: { signal: AbortSignal }) => Promise<FetchedPage>;

/** What the reader understands; anything else (PDF, images, archives) is refused before download. */
const READABLE_TYPES = new Set([
  'text/html',
  'application/xhtml+xml',
  'text/plain',
  'text/markdown',
  'text/csv',
  'text/xml',
  'application/xml',
  'application/json',
  'application/ld+json',
]);

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

const systemResolve: ResolveHost = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

function refused(url: string, why: string): ToolError {
  return new ToolError('BAD_INPUT', `readWebPage does not fetch ${url}: ${why}`, {
    advice: 'Only public web pages can be read. Tell the user this address is not reachable for the bot.',
  });
}

/** The URL itself is acceptable: http(s), no credentials, and an IP literal host must be public. */
function checkUrl(url: URL, allowPrivate: boolean): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw refused(url.href, `only http and https links can be read, not ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') throw refused(url.origin, 'links with a user name or password');
  if (!allowPrivate && isIP(url.hostname.replace(/^\[|\]$/g, '')) !== 0 && !isPublicAddress(url.hostname)) {
    throw refused(url.href, 'it is a private, loopback or link-local address');
  }
}

/**
 * A DNS lookup for `http.request` that resolves every address of the host and refuses the
 * connection when any of them is not public, so a name pointing at 127.0.0.1 or 169.254.169.254
 * (or rebinding between two answers) never gets a socket. The connection uses exactly the
 * addresses checked here.
 */
function guardedLookup(resolveHost: ResolveHost, url: string, onRefused: (error: ToolError) => void): LookupFunction {
  return (hostname, options, callback) => {
    resolveHost(hostname).then(
      (found) => {
        const wanted =
          options.family === 4 || options.family === 6 ? found.filter((a) => a.family === options.family) : found;
        if (wanted.length === 0) {
          callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
          return;
        }
        const privateOne = wanted.find((address) => !isPublicAddress(address.address));
        if (privateOne !== undefined) {
          const error = refused(url, `${hostname} resolves to a private, loopback or link-local address`);
          onRefused(error);
          callback(error, '', 0);
          return;
        }
        if (options.all) (callback as (error: null, addresses: LookupAddress[]) => void)(null, wanted);
        else callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (error: unknown) => callback(error as NodeJS.ErrnoException, '', 0),
    );
  };
}

function decoded(response: IncomingMessage, url: string): AsyncIterable<Uint8Array> {
  const encoding = (response.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  if (encoding === 'identity' || encoding === '') return response;
  if (encoding === 'gzip' || encoding === 'x-gzip') return response.pipe(createGunzip());
  if (encoding === 'deflate') return response.pipe(createInflate());
  if (encoding === 'br') return response.pipe(createBrotliDecompress());
  throw new ToolError('BAD_RESPONSE', `${url} is sent in an encoding the bot cannot read (${encoding})`);
}

/** One GET, no redirects followed: the response, or a refusal when the host is not allowed. */
function requestOnce(url: URL, allowPrivate: boolean, resolveHost: ResolveHost, signal: AbortSignal) {
  return new Promise<IncomingMessage>((resolve, reject) => {
    let refusal: ToolError | undefined;
    const client = url.protocol === 'https:' ? https : http;
    const request = client.request(
      url,
      {
        method: 'GET',
        // A fresh connection per request: a pooled socket could lead to an address not checked for this host.
        agent: false,
        signal,
        headers: {
          'user-agent': 'Mozilla/5.0 (compatible; FeishuAgentBot/1.0; reads pages people share with it)',
          accept: 'text/html,application/xhtml+xml,text/plain;q=0.9,application/json;q=0.8,*/*;q=0.5',
          'accept-encoding': 'gzip, deflate, br',
        },
        ...(allowPrivate ? {} : { lookup: guardedLookup(resolveHost, url.href, (error) => (refusal = error)) }),
      },
      (response) => {
        // Belt and braces: the socket's peer must be what the lookup allowed.
        const peer = response.socket.remoteAddress;
        if (!allowPrivate && peer !== undefined && !isPublicAddress(peer)) {
          response.destroy();
          reject(refused(url.href, 'it is a private, loopback or link-local address'));
          return;
        }
        resolve(response);
      },
    );
    request.on('error', (error) => reject(refusal ?? error));
    request.end();
  });
}

/**
 * Fetches web pages for the agent with an SSRF guard: only http(s); never a private, loopback,
 * link-local or otherwise non-public address, whether written in the URL, resolved by DNS, or
 * reached by a redirect (each hop is checked again); at most `maxRedirects` hops, `maxBytes` of
 * body (after decompression) and `timeoutMs` for everything. Hosts in `allowPrivateHosts` may
 * resolve to private addresses (an intranet the operator chose to open).
 *
 * @example
 * const fetchPage = createPageFetcher({ maxBytes: 2_000_000, timeoutMs: 10_000 });
 * const page = await fetchPage('https://nodejs.org/en/about/previous-releases', { signal });
 */
export function createPageFetcher({
  maxBytes = 2_000_000,
  timeoutMs = 10_000,
  maxRedirects = 5,
  allowPrivateHosts = [],
  resolveHost = systemResolve,
}: PageFetcherOptions = {}): FetchPage {
  const allowed = new Set(allowPrivateHosts.map((host) => host.toLowerCase()));
  return async (address, { signal: callerSignal }) => {
    const signal = AbortSignal.any([callerSignal, AbortSignal.timeout(timeoutMs)]);
    let url: URL;
    try {
      url = new URL(address);
    } catch {
      throw new ToolError('BAD_INPUT', `"${address.slice(0, 200)}" is not a web address`);
    }
    const redirectedFrom: string[] = [];
    try {
      for (;;) {
        const allowPrivate = allowed.has(url.hostname.toLowerCase());
        checkUrl(url, allowPrivate);
        const response = await requestOnce(url, allowPrivate, resolveHost, signal);
        const status = response.statusCode ?? 0;
        const location = response.headers.location;
        if (REDIRECT_STATUSES.has(status) && location !== undefined) {
          response.destroy();
          if (redirectedFrom.length >= maxRedirects) {
            throw new ToolError('BAD_RESPONSE', `${address} redirects more than ${maxRedirects} times`);
          }
          redirectedFrom.push(url.href);
          url = new URL(location, url);
          continue;
        }
        if (status === 404 || status === 410) {
          response.destroy();
          throw new ToolError('NOT_FOUND', `${url.href} does not exist (HTTP ${status})`);
        }
        if (status === 401 || status === 403) {
          response.destroy();
          throw new ToolError('NO_PERMISSION', `${url.href} refused to serve the page to the bot (HTTP ${status})`, {
            advice: 'The page needs a login or blocks bots: say so, and do not guess its content.',
          });
        }
        if (status === 429) {
          response.destroy();
          throw new ToolError('RATE_LIMIT', `${url.href} is rate-limiting the bot (HTTP 429)`);
        }
        if (status >= 500) {
          response.destroy();
          throw new ToolError('UNAVAILABLE', `${url.href} failed (HTTP ${status})`);
        }
        if (status < 200 || status >= 300) {
          response.destroy();
          throw new ToolError('BAD_RESPONSE', `${url.href} answered HTTP ${status}`);
        }
        const [mediaType = '', ...parameters] = (response.headers['content-type'] ?? 'application/octet-stream')
          .split(';')
          .map((part) => part.trim());
        const type = mediaType.toLowerCase();
        if (!READABLE_TYPES.has(type)) {
          response.destroy();
          throw new ToolError('BAD_INPUT', `${url.href} is ${type || 'of no stated type'}, not a web page or text`, {
            advice: 'Only web pages and plain text can be read: tell the user.',
          });
        }
        const charset = parameters
          .map((parameter) => /^charset=["']?([^"']+)["']?$/i.exec(parameter)?.[1])
          .find((value) => value !== undefined);
        const { bytes, truncated } = await readCapped(decoded(response, url.href), maxBytes);
        response.destroy();
        return { url: url.href, redirectedFrom, status, mediaType: type, charset, body: bytes, truncated };
      }
    } catch (error) {
      if (callerSignal.aborted) throw callerSignal.reason;
      if (signal.aborted) {
        throw new ToolError('TIMEOUT', `${address} did not load within ${timeoutMs} ms`);
      }
      if (ToolError.isInstance(error)) throw error;
      const code = (error as { code?: unknown }).code;
      if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
        throw new ToolError('NOT_FOUND', `${url.hostname} does not exist (no DNS answer)`);
      }
      throw new ToolError('UNAVAILABLE', `${url.href} could not be reached (${errorMessage(error)})`, { cause: error });
    }
  };
}
