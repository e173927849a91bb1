import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import type { Hono } from 'hono';
import pino from 'pino';
import { createApp } from '../../lib/app.js';
import { deriveKey, encryptEvent } from '../../lib/feishu/webhook/decrypt-event.js';
import { computeSignature } from '../../lib/feishu/webhook/verify-signature.js';
import { type CardAction, type WebhookRoutesOptions, webhookRoutes } from '../../lib/feishu/webhook/webhook-routes.js';
import { createInbox, type Inbox } from '../../lib/inbox/inbox.js';
import type { Logger } from '../../lib/log.js';
import { createEventBus } from '../../lib/observe/event-bus.js';
import { openStore } from '../../lib/store/open-store.js';
import { STORE_WRITE_METHODS, type Store } from '../../lib/store/store.js';
import { buildCardActionEvent } from '../fakes/event-sender.js';
import { messageEnvelope } from '../support/ingress-events.js';

/**
 * A property-based fuzzer for the Feishu webhook routes, factored out of the test so the same
 * runner can be pointed at a deliberately broken handler and be seen to fail (a fuzz test that
 * cannot fail proves nothing).
 *
 * Every case is a complete HTTP request built from a seeded fast-check generator: random bytes,
 * random and Feishu-shaped JSON, truncated bodies, bodies mis-encrypted or mis-signed in every
 * way we know, bodies over the size limit, well-formed events with the wrong token, deeply
 * nested or huge JSON, and unicode everywhere. It is sent with `app.request()` (no socket), and
 * the runner checks, per case:
 *
 * - the answer is 2xx or 4xx, never 5xx, and its body is JSON;
 * - nothing was thrown past the app (no unhandled rejection, no error-level log line);
 * - a 4xx wrote NOTHING: no dedupe claim, no job, no card action dispatched;
 * - cases built to be rejected are rejected, and the positive controls (properly signed and
 *   encrypted events with the right token) are accepted and enqueued exactly once, so the
 *   fuzz cannot pass by refusing everything.
 *
 * @example
 * const target = await createWebhookFuzzTarget();
 * const stats = await runWebhookFuzz({ target, seed: 42, numRuns: 5_000 });
 * await target.close();
 */

// ───────────────────────────── the system under test ─────────────────────────────

export interface FuzzSecrets {
  encryptKey: string;
  verificationToken: string;
  maxSkewSeconds: number;
  /** Kept small (64 KiB) so oversized cases are cheap to build; the production default is 1 MiB. */
  bodyLimitBytes: number;
  /** The fixed clock the routes and the generator share, so a seed reproduces a run exactly. */
  now: number;
  /** The inbox's dedupe TTL: events created longer ago are acknowledged and dropped. */
  dedupeTtlMs: number;
}

export const defaultFuzzSecrets: FuzzSecrets = {
  encryptKey: 'fuzz-encrypt-key-0123456789abcdef',
  // Longer than any string the generators produce, so a random token can never hit it.
  verificationToken: 'fuzz-verification-token-0123456789abcdef',
  maxSkewSeconds: 300,
  bodyLimitBytes: 64 * 1024,
  now: Date.UTC(2026, 0, 1, 12, 0, 0),
  dedupeTtlMs: 24 * 3_600_000,
};

/** What a route factory gets, so a test can wrap (or break) the real routes. */
export interface FuzzRouteParts {
  inbox: Inbox;
  store: Store;
  log: Logger;
  options: WebhookRoutesOptions;
}

export interface WebhookFuzzTarget {
  secrets: FuzzSecrets;
  request(path: string, init: RequestInit): Promise<Response>;
  /** Store calls that change state (dedupe claims, jobs, …) since the target was built. */
  storeWrites(): number;
  /** Jobs in the store, all statuses. */
  jobCount(): Promise<number>;
  jobStatus(id: string): Promise<string | undefined>;
  /** Card callbacks handed to `onCardAction`. */
  cardActions(): number;
  /** Error-level log lines (a 500 from `createApp`'s onError, a failed store write, …). */
  errorLogs(): readonly string[];
  close(): Promise<void>;
}

/**
 * The real webhook stack: `createApp` (body limit, error handler) + `webhookRoutes` + a real
 * inbox over a real SQLite store (`sqlite::memory:`), with an encrypt key and a verification
 * token. `routes` replaces the route factory, for the broken-handler tests.
 */
export async function createWebhookFuzzTarget({
  secrets = defaultFuzzSecrets,
  routes = (parts: FuzzRouteParts) => webhookRoutes(parts.options),
  routeOptions = {},
}: {
  secrets?: FuzzSecrets;
  routes?: (parts: FuzzRouteParts) => Hono;
  /** Replaces route options, e.g. `{ encryptKey: undefined }` for a bot without the key. */
  routeOptions?: Partial<WebhookRoutesOptions>;
} = {}): Promise<WebhookFuzzTarget> {
  const realStore = await openStore('sqlite::memory:');
  let writes = 0;
  const store = new Proxy(realStore, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string' || !STORE_WRITE_METHODS.has(property))
        return value;
      return (...args: unknown[]) => {
        writes += 1;
        return (value as (...args: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const errors: string[] = [];
  const log = pino({ level: 'error' }, { write: (line: string) => errors.push(line) });
  const bus = createEventBus();
  const now = () => secrets.now;
  const inbox = createInbox({ store, bus, log, dedupeTtlMs: secrets.dedupeTtlMs, maxBacklog: 1_000_000, now });
  let cardActions = 0;
  const options: WebhookRoutesOptions = {
    inbox,
    encryptKey: secrets.encryptKey,
    verificationToken: secrets.verificationToken,
    maxSkewSeconds: secrets.maxSkewSeconds,
    log,
    bus,
    now,
    onCardAction: async (_action: CardAction) => {
      cardActions += 1;
      return {};
    },
    ...routeOptions,
  };
  const app = createApp({
    log,
    bodyLimitBytes: secrets.bodyLimitBytes,
    routes: [{ path: '/webhook', app: routes({ inbox, store, log, options }) }],
  });
  return {
    secrets,
    request: async (path, init) => app.request(path, init),
    storeWrites: () => writes,
    jobCount: async () => {
      const counts = await realStore.countJobs();
      return counts.pending + counts.leased + counts.done + counts.dead;
    },
    jobStatus: async (id) => (await realStore.getJob(id))?.status,
    cardActions: () => cardActions,
    errorLogs: () => errors,
    close: () => realStore.close(),
  };
}

// ───────────────────────────── cases ─────────────────────────────

/**
 * What the runner demands of a case beyond the universal properties:
 * - 'reject': a 4xx (and, like every 4xx, nothing written);
 * - 'accept-event': 200 `{ ok: true }` and exactly one new pending job for its message;
 * - 'accept-card': 200 and exactly one card action dispatched;
 * - 'challenge': 200 with the challenge echoed, nothing written;
 * - 'unauthorized': exactly 401, whatever the body: a request without a valid signature where
 *   one is required must not tell what decrypts or parses (400) from what does not;
 * - 'drop': acknowledged (200) and dropped: no job, nothing written (a replay older than the dedupe
 *   TTL, a message from a bot);
 * - 'any': inputs a key holder could legitimately send (signed, right token, odd content):
 *   only the universal properties apply.
 */
export type FuzzExpectation = 'reject' | 'unauthorized' | 'drop' | 'accept-event' | 'accept-card' | 'challenge' | 'any';

export interface BuiltRequest {
  headers: Record<string, string>;
  body: Uint8Array;
  /** For 'accept-event': the job the request must create. */
  jobId?: string;
  /** For 'challenge'. */
  challenge?: string;
}

export interface FuzzCase {
  /** Category and variant, e.g. 'mis-signed/stale-timestamp'. */
  kind: string;
  path: '/webhook/event' | '/webhook/card';
  expect: FuzzExpectation;
  /** `unique` makes ids of positive controls unique across the run (fast-check may repeat values). */
  build(unique: number): BuiltRequest;
}

const encoder = new TextEncoder();
const utf8 = (text: string) => encoder.encode(text);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
};

type Headers = Record<string, string>;

function signatureHeaders(
  body: Uint8Array,
  encryptKey: string,
  timestamp: string,
  nonce: string,
): Record<'x-lark-request-timestamp' | 'x-lark-request-nonce' | 'x-lark-signature', string> {
  return {
    'x-lark-request-timestamp': timestamp,
    'x-lark-request-nonce': nonce,
    'x-lark-signature': computeSignature({ timestamp, nonce, encryptKey, rawBody: body }),
  };
}

/** AES-256-CBC with our own padding, to build bodies with bad padding. */
function encryptRaw(plain: Uint8Array, encryptKey: string, iv: Uint8Array, padding: 'pkcs7' | 'none'): string {
  const cipher = createCipheriv('aes-256-cbc', deriveKey(encryptKey), iv);
  cipher.setAutoPadding(padding === 'pkcs7');
  return Buffer.concat([iv, cipher.update(plain), cipher.final()]).toString('base64');
}

const hexDigit = fc.constantFrom(...'0123456789abcdef');
const hex = (length: number) => fc.string({ unit: hexDigit, minLength: length, maxLength: length });
// HTTP trims whitespace around header values, so a nonce that starts or ends with a space is
// never what was signed: Feishu's nonces are alphanumeric.
const nonceArbitrary = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'),
  maxLength: 16,
});
const ivArbitrary = fc.uint8Array({ minLength: 16, maxLength: 16 });
const idArbitrary = fc.string({ unit: fc.constantFrom(...'abcdef0123456789_-'), minLength: 1, maxLength: 20 });
/** Header values must be ByteStrings (Latin-1 without CR/LF/NUL) or `new Request` throws before the app sees them. */
const headerValue = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
    fc.integer({ min: 0xa0, max: 0xff }).map((code) => String.fromCharCode(code)),
  ),
  maxLength: 80,
});
const pathArbitrary = fc.constantFrom<FuzzCase['path']>('/webhook/event', '/webhook/card');
const unicodeText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ maxLength: 80 }),
);

/** How the signature headers of a case are made. */
type SignMode = 'none' | 'valid' | 'junk';
const signModeArbitrary = fc.constantFrom<SignMode>('none', 'valid', 'junk');

function withContentType(headers: Headers, contentType: string | undefined): Headers {
  return contentType === undefined ? headers : { 'content-type': contentType, ...headers };
}
const contentTypeArbitrary = fc.option(
  fc.constantFrom('application/json; charset=utf-8', 'application/json', 'text/plain', 'application/octet-stream', ''),
  { nil: undefined },
);

function describeCase(value: FuzzCase, secrets: FuzzSecrets): string {
  const built = value.build(0);
  const preview = Buffer.from(built.body.subarray(0, 160)).toString('latin1');
  return `${value.kind} → POST ${value.path} (expect ${value.expect}), headers ${JSON.stringify(
    built.headers,
  )}, ${built.body.length} bytes: ${JSON.stringify(preview)}${built.body.length > 160 ? '…' : ''} (now ${secrets.now})`;
}

/** Builds the arbitrary of all cases. Exported so other suites (or a bench) can sample it. */
export function webhookFuzzCases(secrets: FuzzSecrets = defaultFuzzSecrets): fc.Arbitrary<FuzzCase> {
  const { encryptKey, verificationToken, maxSkewSeconds, bodyLimitBytes, now, dedupeTtlMs } = secrets;
  const nowSeconds = Math.floor(now / 1000);
  const timestamp = String(nowSeconds);

  const make = (
    kind: string,
    path: FuzzCase['path'],
    expect: FuzzExpectation,
    build: (unique: number) => BuiltRequest,
  ): FuzzCase => {
    const value: FuzzCase & fc.WithToStringMethod = {
      kind,
      path,
      expect,
      build,
      [fc.toStringMethod]: () => describeCase(value, secrets),
    };
    return value;
  };

  const sign = (mode: SignMode, body: Uint8Array, nonce: string, junk: string): Headers => {
    if (mode === 'valid') return signatureHeaders(body, encryptKey, timestamp, nonce);
    if (mode === 'junk')
      return { 'x-lark-request-timestamp': junk, 'x-lark-request-nonce': junk, 'x-lark-signature': junk };
    return {};
  };

  /** A message event as Feishu sends it; `unique` keeps ids of accepted controls apart. */
  const messageFields = fc.record({
    eventId: idArbitrary,
    messageId: idArbitrary,
    chatId: idArbitrary,
    chatType: fc.constantFrom<'p2p' | 'group'>('p2p', 'group'),
    text: unicodeText,
  });
  type MessageFields = typeof messageFields extends fc.Arbitrary<infer T> ? T : never;
  // The token is boxed so a test can ask for `undefined` (a default parameter would swallow it).
  const messageEvent = (
    fields: MessageFields,
    unique: number,
    { token }: { token: unknown } = { token: verificationToken },
  ) => {
    const envelope = messageEnvelope({
      eventId: `${fields.eventId}-${unique}`,
      messageId: `om_${fields.messageId}-${unique}`,
      chatId: `oc_${fields.chatId}`,
      chatType: fields.chatType,
      text: fields.text,
      createTime: now,
    });
    return { ...envelope, header: { ...envelope.header, token } };
  };
  const encryptedBody = (payload: unknown, iv: Uint8Array) =>
    utf8(JSON.stringify({ encrypt: encryptEvent(payload, encryptKey, Buffer.from(iv)) }));

  // 1. random bytes, sometimes correctly signed so they get past the signature to the parser.
  const randomBytes = fc
    .record({
      path: pathArbitrary,
      body: fc.uint8Array({ maxLength: 2_048 }),
      signMode: signModeArbitrary,
      nonce: nonceArbitrary,
      junk: headerValue,
      contentType: contentTypeArbitrary,
    })
    .map(({ path, body, signMode, nonce, junk, contentType }) =>
      make(`random-bytes/${signMode}`, path, 'reject', () => ({
        headers: withContentType(sign(signMode, body, nonce, junk), contentType),
        body,
      })),
    );

  // 2. random JSON, and JSON shaped like Feishu callbacks with every field random.
  const shapedJson = fc.record(
    {
      schema: fc.oneof(fc.constant('2.0'), fc.jsonValue({ maxDepth: 2 })),
      type: fc.oneof(fc.constantFrom('url_verification', 'event_callback'), fc.string({ maxLength: 10 })),
      challenge: fc.oneof(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 1 })),
      token: fc.oneof(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 1 })),
      uuid: fc.oneof(idArbitrary, fc.jsonValue({ maxDepth: 1 })),
      encrypt: fc.oneof(fc.base64String({ maxLength: 96 }), fc.jsonValue({ maxDepth: 2 })),
      header: fc.oneof(
        fc.record(
          {
            event_id: fc.oneof(idArbitrary, fc.jsonValue({ maxDepth: 1 })),
            event_type: fc.oneof(
              fc.constantFrom('im.message.receive_v1', 'card.action.trigger', 'im.chat.member.bot.added_v1'),
              fc.jsonValue({ maxDepth: 1 }),
            ),
            token: fc.oneof(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 1 })),
            create_time: fc.oneof(fc.string({ maxLength: 15 }), fc.double()),
          },
          { requiredKeys: [] },
        ),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      event: fc.jsonValue({ maxDepth: 3 }),
    },
    { requiredKeys: [] },
  );
  const randomJson = fc
    .record({
      path: pathArbitrary,
      value: fc.oneof(fc.jsonValue({ maxDepth: 4 }), shapedJson),
      encrypted: fc.boolean(),
      iv: ivArbitrary,
      signMode: signModeArbitrary,
      nonce: nonceArbitrary,
      junk: headerValue,
    })
    .map(({ path, value, encrypted, iv, signMode, nonce, junk }) =>
      make(`random-json/${encrypted ? 'encrypted' : 'plain'}/${signMode}`, path, 'reject', () => {
        const body = encrypted ? encryptedBody(value, iv) : utf8(JSON.stringify(value) ?? 'null');
        return { headers: sign(signMode, body, nonce, junk), body };
      }),
    );

  // 3. a valid delivery cut short: signed over the whole body, or re-signed over the cut.
  const truncated = fc
    .record({
      path: pathArbitrary,
      fields: messageFields,
      iv: ivArbitrary,
      encrypted: fc.boolean(),
      cutRatio: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      resign: fc.boolean(),
      nonce: nonceArbitrary,
    })
    .map(({ path, fields, iv, encrypted, cutRatio, resign, nonce }) =>
      make(
        `truncated/${encrypted ? 'encrypted' : 'plain'}/${resign ? 'resigned' : 'signed-whole'}`,
        path,
        'reject',
        (unique) => {
          const event = messageEvent(fields, unique);
          const whole = encrypted ? encryptedBody(event, iv) : utf8(JSON.stringify(event));
          const body = whole.subarray(0, Math.floor(cutRatio * whole.length));
          return { headers: signatureHeaders(resign ? body : whole, encryptKey, timestamp, nonce), body };
        },
      ),
    );

  // 4. mis-encrypted: the outer body is correctly signed, only the `encrypt` field is wrong.
  const misEncryptedVariant = fc.oneof(
    fc.record({ variant: fc.constant('wrong-key' as const), key: fc.string({ maxLength: 40 }) }),
    fc.record({
      variant: fc.constant('truncated-ciphertext' as const),
      dropBytes: fc.integer({ min: 1, max: 64 }),
      fromStart: fc.boolean(),
    }),
    fc.record({
      variant: fc.constant('bad-base64' as const),
      position: fc.double({ min: 0, max: 1, noNaN: true }),
      insert: fc.constantFrom('!', '*', '-', '_', ' ', '\n', '=', '==', '%', '\u00e9', '.', '\\'),
    }),
    fc.record({ variant: fc.constant('unpadded-base64' as const) }),
    fc.record({
      variant: fc.constant('bad-padding' as const),
      lastByte: fc.oneof(fc.constant(0), fc.integer({ min: 17, max: 255 }), fc.integer({ min: 2, max: 16 })),
    }),
    fc.record({ variant: fc.constant('not-utf8' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
    fc.record({ variant: fc.constant('not-json' as const), text: unicodeText }),
    fc.record({
      variant: fc.constant('not-a-string' as const),
      value: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 2 })),
    }),
    fc.record({ variant: fc.constant('short' as const), bytes: fc.integer({ min: 0, max: 31 }) }),
  );
  const misEncrypted = fc
    .record({
      path: pathArbitrary,
      fields: messageFields,
      iv: ivArbitrary,
      how: misEncryptedVariant,
      nonce: nonceArbitrary,
    })
    .filter(({ how }) => how.variant !== 'wrong-key' || how.key !== encryptKey)
    .map(({ path, fields, iv, how, nonce }) =>
      make(`mis-encrypted/${how.variant}`, path, 'reject', (unique) => {
        const event = messageEvent(fields, unique);
        const plain = utf8(JSON.stringify(event));
        const good = encryptEvent(event, encryptKey, Buffer.from(iv));
        let encrypt: unknown;
        switch (how.variant) {
          case 'wrong-key':
            encrypt = encryptEvent(event, how.key, Buffer.from(iv));
            break;
          case 'truncated-ciphertext': {
            const bytes = Buffer.from(good, 'base64');
            const kept = how.fromStart
              ? bytes.subarray(how.dropBytes)
              : bytes.subarray(0, bytes.length - how.dropBytes);
            encrypt = kept.toString('base64');
            break;
          }
          case 'bad-base64': {
            const at = Math.floor(how.position * good.length);
            encrypt = good.slice(0, at) + how.insert + good.slice(at);
            break;
          }
          case 'unpadded-base64':
            // Strip the '=' and (when there were none) a data character, so it is never valid base64.
            encrypt = good.endsWith('=') ? good.replace(/=+$/, '') : good.slice(0, -1);
            break;
          case 'bad-padding': {
            // A whole number of blocks whose last byte is not a valid PKCS#7 pad for what precedes it.
            const blocks = Math.ceil((plain.length + 1) / 16);
            const padded = new Uint8Array(blocks * 16).fill(0x20);
            padded.set(plain);
            padded[padded.length - 1] = how.lastByte;
            if (how.lastByte >= 2 && how.lastByte <= 16) padded[padded.length - 2] = how.lastByte - 1;
            encrypt = encryptRaw(padded, encryptKey, iv, 'none');
            break;
          }
          case 'not-utf8':
            // 0xff never appears in UTF-8, so the plaintext is refused whatever the other bytes are.
            encrypt = encryptRaw(
              concat(utf8('{"a":"'), how.bytes, Uint8Array.of(0xff), utf8('"}')),
              encryptKey,
              iv,
              'pkcs7',
            );
            break;
          case 'not-json':
            encrypt = encryptRaw(utf8(`not json: ${how.text}`), encryptKey, iv, 'pkcs7');
            break;
          case 'not-a-string':
            encrypt = how.value;
            break;
          case 'short':
            encrypt = Buffer.from(iv).subarray(0, Math.min(16, how.bytes)).toString('base64');
            break;
        }
        const body = utf8(JSON.stringify({ encrypt }));
        return { headers: signatureHeaders(body, encryptKey, timestamp, nonce), body };
      }),
    );

  // 5. mis-signed: a valid encrypted event with the right token, and the signature headers wrong.
  const misSignedVariant = fc.oneof(
    fc.record({ variant: fc.constant('flipped-digit' as const), at: fc.integer({ min: 0, max: 63 }) }),
    fc.record({ variant: fc.constant('random-hex' as const), signature: hex(64) }),
    fc.record({ variant: fc.constant('junk-signature' as const), signature: headerValue }),
    fc.record({ variant: fc.constant('wrong-key' as const), key: fc.string({ maxLength: 40 }) }),
    fc.record({ variant: fc.constant('other-nonce' as const), suffix: fc.string({ minLength: 1, maxLength: 8 }) }),
    fc.record({ variant: fc.constant('stale-timestamp' as const), seconds: fc.integer({ min: 1, max: 10_000_000 }) }),
    fc.record({ variant: fc.constant('future-timestamp' as const), seconds: fc.integer({ min: 1, max: 10_000_000 }) }),
    fc.record({
      variant: fc.constant('bad-timestamp' as const),
      timestamp: fc.oneof(
        fc.constantFrom('abc', '1e9', '-5', ' 1', '0x10', '1767268800.5', '', '99999999999999'),
        headerValue.filter((value) => !/^\d{1,12}$/.test(value)),
      ),
    }),
    fc.record({
      variant: fc.constant('missing-headers' as const),
      drop: fc.subarray<'x-lark-request-timestamp' | 'x-lark-request-nonce' | 'x-lark-signature'>(
        ['x-lark-request-timestamp', 'x-lark-request-nonce', 'x-lark-signature'],
        { minLength: 1 },
      ),
    }),
  );
  const misSigned = fc
    .record({
      path: pathArbitrary,
      fields: messageFields,
      iv: ivArbitrary,
      how: misSignedVariant,
      nonce: nonceArbitrary,
      encrypted: fc.boolean(),
    })
    .filter(({ how }) => how.variant !== 'wrong-key' || how.key !== encryptKey)
    .map(({ path, fields, iv, how, nonce, encrypted }) =>
      make(`mis-signed/${how.variant}`, path, 'reject', (unique) => {
        const event = messageEvent(fields, unique);
        const body = encrypted ? encryptedBody(event, iv) : utf8(JSON.stringify(event));
        let headers: Headers = signatureHeaders(body, encryptKey, timestamp, nonce);
        switch (how.variant) {
          case 'flipped-digit': {
            const signature = headers['x-lark-signature']!;
            const digit = signature[how.at]!;
            const flipped = digit === '0' ? '1' : '0';
            headers['x-lark-signature'] = signature.slice(0, how.at) + flipped + signature.slice(how.at + 1);
            break;
          }
          case 'random-hex':
          case 'junk-signature':
            if (how.signature.toLowerCase() === headers['x-lark-signature']) break; // astronomically unlikely
            headers['x-lark-signature'] = how.signature;
            break;
          case 'wrong-key':
            headers = signatureHeaders(body, how.key, timestamp, nonce);
            break;
          case 'other-nonce':
            headers['x-lark-request-nonce'] = nonce + how.suffix;
            break;
          case 'stale-timestamp':
            headers = signatureHeaders(body, encryptKey, String(nowSeconds - maxSkewSeconds - how.seconds), nonce);
            break;
          case 'future-timestamp':
            headers = signatureHeaders(body, encryptKey, String(nowSeconds + maxSkewSeconds + how.seconds), nonce);
            break;
          case 'bad-timestamp':
            headers = signatureHeaders(body, encryptKey, how.timestamp, nonce);
            break;
          case 'missing-headers':
            for (const name of how.drop) delete headers[name];
            break;
        }
        return { headers, body };
      }),
    );

  // 6. oversized: over createApp's body limit, with or without a (truthful) content-length.
  // A content-length that lies only means something over a socket, where Node's HTTP parser
  // enforces it; through app.request() it would just be a header.
  const oversized = fc
    .record({
      path: pathArbitrary,
      extra: fc.integer({ min: 1, max: bodyLimitBytes }),
      fill: fc.integer({ min: 0, max: 255 }),
      shape: fc.constantFrom('bytes', 'json-padded', 'encrypted-padded'),
      withLength: fc.boolean(),
      signed: fc.boolean(),
      nonce: nonceArbitrary,
      iv: ivArbitrary,
    })
    .map(({ path, extra, fill, shape, withLength, signed, nonce, iv }) =>
      make(`oversized/${shape}/${withLength ? 'content-length' : 'streamed'}`, path, 'reject', (unique) => {
        const size = bodyLimitBytes + extra;
        let body: Uint8Array;
        if (shape === 'bytes') {
          body = new Uint8Array(size).fill(fill);
        } else {
          // A delivery that would be accepted but for its size (whitespace is valid JSON padding).
          const event = messageEvent(
            { eventId: `big-${fill}`, messageId: `big-${fill}`, chatId: 'big', chatType: 'p2p', text: 'x' },
            unique,
          );
          const core = shape === 'json-padded' ? utf8(JSON.stringify(event)) : encryptedBody(event, iv);
          body = concat(core, new Uint8Array(Math.max(0, size - core.length)).fill(0x20));
        }
        const headers: Headers = signed ? signatureHeaders(body, encryptKey, timestamp, nonce) : {};
        if (withLength) headers['content-length'] = String(body.length);
        return { headers, body };
      }),
    );

  // 7. a well-formed, correctly signed and encrypted event whose token is wrong.
  const wrongTokenValue = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.constantFrom(
      '',
      verificationToken.toUpperCase(),
      verificationToken.slice(0, -1),
      `${verificationToken} `,
      ` ${verificationToken}`,
      `${verificationToken}x`,
      verificationToken.replace(/.$/, (last) => (last === 'f' ? 'e' : 'f')),
    ),
    fc.constantFrom(undefined, null, 0, 1, true, [verificationToken], { token: verificationToken }),
  );
  const wrongToken = fc
    .record({
      path: pathArbitrary,
      fields: messageFields,
      token: wrongTokenValue,
      shape: fc.constantFrom('v2', 'v1', 'challenge', 'card'),
      encrypted: fc.boolean(),
      iv: ivArbitrary,
      nonce: nonceArbitrary,
    })
    .map(({ path, fields, token, shape, encrypted, iv, nonce }) =>
      make(`wrong-token/${shape}/${encrypted ? 'encrypted' : 'plain'}`, path, 'reject', (unique) => {
        let payload: unknown;
        if (shape === 'v2') payload = messageEvent(fields, unique, { token });
        else if (shape === 'v1')
          payload = {
            uuid: `${fields.eventId}-${unique}`,
            token,
            ts: '1767268800.1',
            type: 'event_callback',
            event: { type: 'message', text: fields.text },
          };
        else if (shape === 'challenge') payload = { type: 'url_verification', challenge: `c-${fields.eventId}`, token };
        else {
          const card = buildCardActionEvent({
            messageId: `om_${fields.messageId}`,
            eventId: `${fields.eventId}-${unique}`,
          });
          payload = { ...card, header: { ...(card.header as object), token } };
        }
        const body = encrypted ? encryptedBody(payload, iv) : utf8(JSON.stringify(payload));
        // The challenge is unsigned on the wire; everything else is correctly signed.
        const headers = shape === 'challenge' ? {} : signatureHeaders(body, encryptKey, timestamp, nonce);
        return { headers, body };
      }),
    );

  // 8. nested and huge JSON: unsigned (rejected) or inside a signed event with the right token
  // (legitimate, if odd: must not crash, whatever the answer).
  const nestedHuge = fc
    .record({
      path: pathArbitrary,
      structure: fc.constantFrom('arrays', 'objects', 'wide-object', 'long-string', 'long-array', 'inside-message'),
      // Sized so that, encrypted (base64 ×4/3), the body still fits under the limit.
      size: fc.integer({ min: 1, max: Math.floor(bodyLimitBytes / 4) }),
      delivery: fc.constantFrom('unsigned', 'signed-right-token', 'signed-wrong-token'),
      encrypted: fc.boolean(),
      iv: ivArbitrary,
      nonce: nonceArbitrary,
      fields: messageFields,
    })
    .map(({ path, structure, size, delivery, encrypted, iv, nonce, fields }) =>
      make(
        `nested-huge/${structure}/${delivery}`,
        path,
        delivery === 'signed-right-token' ? 'any' : 'reject',
        (unique) => {
          let inner: string;
          if (structure === 'arrays') inner = `${'['.repeat(size)}${']'.repeat(size)}`;
          else if (structure === 'objects')
            inner = `${'{"a":'.repeat(Math.ceil(size / 5))}1${'}'.repeat(Math.ceil(size / 5))}`;
          else if (structure === 'wide-object')
            inner = `{${Array.from({ length: Math.ceil(size / 12) }, (_, index) => `"k${index}":${index}`).join(',')}}`;
          else if (structure === 'long-string')
            inner = JSON.stringify(
              fields.text.repeat(Math.ceil(size / Math.max(1, fields.text.length))).slice(0, size),
            );
          else inner = `[${Array.from({ length: Math.ceil(size / 2) }, () => '0').join(',')}]`;
          const token = delivery === 'signed-right-token' ? verificationToken : `not-${fields.eventId}`;
          const envelope = messageEvent(fields, unique, { token });
          // Splice the raw text in, so a nesting depth JSON.stringify could not build still gets sent.
          // 'inside-message' keeps the message valid, so the event is enqueued with the deep value in it.
          const plain =
            structure === 'inside-message'
              ? JSON.stringify({
                  ...envelope,
                  event: { ...envelope.event, message: { ...envelope.event.message, extra: '__INNER__' } },
                }).replace('"__INNER__"', `${'['.repeat(size)}${']'.repeat(size)}`)
              : JSON.stringify({ ...envelope, event: '__INNER__' }).replace('"__INNER__"', inner);
          const body = encrypted
            ? utf8(JSON.stringify({ encrypt: encryptEvent(plain, encryptKey, Buffer.from(iv)) }))
            : utf8(plain);
          const headers = delivery === 'unsigned' ? {} : signatureHeaders(body, encryptKey, timestamp, nonce);
          return { headers, body };
        },
      ),
    );

  // 9. unicode and broken UTF-8: in bodies, in JSON keys, in the event text.
  const unicode = fc
    .record({
      path: pathArbitrary,
      text: unicodeText,
      variant: fc.constantFrom(
        'raw-text',
        'json-keys',
        'invalid-utf8-in-signed-json',
        'bom-signed-json',
        'lone-surrogate-escape',
      ),
      badBytes: fc.constantFrom(
        Uint8Array.of(0xff),
        Uint8Array.of(0xc0, 0x80), // overlong NUL
        Uint8Array.of(0xed, 0xa0, 0x80), // a UTF-16 surrogate encoded in UTF-8
        Uint8Array.of(0xe2, 0x82), // cut multi-byte sequence
        Uint8Array.of(0xf4, 0x90, 0x80, 0x80), // above U+10FFFF
      ),
      fields: messageFields,
      nonce: nonceArbitrary,
      signed: fc.boolean(),
    })
    .map(({ path, text, variant, badBytes, fields, nonce, signed }) => {
      // A signed, well-formed event behind a BOM or with a "\ud800" escape is the key holder's own
      // input; whatever the answer, it must not crash. Everything else must be refused.
      const legitimate = signed && (variant === 'bom-signed-json' || variant === 'lone-surrogate-escape');
      return make(
        `unicode/${variant}/${signed ? 'signed' : 'unsigned'}`,
        path,
        legitimate ? 'any' : 'reject',
        (unique) => {
          let body: Uint8Array;
          if (variant === 'raw-text') body = utf8(text);
          else if (variant === 'json-keys') body = utf8(JSON.stringify({ [text]: text, header: { [text]: text } }));
          else {
            const envelope = messageEvent(fields, unique);
            const json = JSON.stringify(envelope);
            if (variant === 'invalid-utf8-in-signed-json') {
              const at = json.indexOf('"text') + 1;
              body = concat(utf8(json.slice(0, at)), badBytes, utf8(json.slice(at)));
            } else if (variant === 'bom-signed-json') {
              body = concat(Uint8Array.of(0xef, 0xbb, 0xbf), utf8(json));
            } else {
              body = utf8(json.replace('"text', '"\\ud800text'));
            }
          }
          return { headers: signed ? signatureHeaders(body, encryptKey, timestamp, nonce) : {}, body };
        },
      );
    });

  // 10. positive controls: what Feishu really sends, which must get through.
  const positive = fc
    .record({
      fields: messageFields,
      variant: fc.constantFrom(
        'event-encrypted',
        'event-plain-signed',
        'challenge-plain',
        'challenge-encrypted',
        'card-encrypted',
        'card-plain-signed',
      ),
      iv: ivArbitrary,
      nonce: nonceArbitrary,
      skew: fc.integer({ min: -maxSkewSeconds, max: maxSkewSeconds }),
    })
    .map(({ fields, variant, iv, nonce, skew }) => {
      const signedAt = String(nowSeconds + skew);
      if (variant.startsWith('event')) {
        return make(`positive/${variant}`, '/webhook/event', 'accept-event', (unique) => {
          const event = messageEvent(fields, unique);
          const body = variant === 'event-encrypted' ? encryptedBody(event, iv) : utf8(JSON.stringify(event));
          return {
            headers: signatureHeaders(body, encryptKey, signedAt, nonce),
            body,
            jobId: `message:${event.event.message.message_id}`,
          };
        });
      }
      if (variant.startsWith('challenge')) {
        return make(
          `positive/${variant}`,
          fields.chatType === 'p2p' ? '/webhook/event' : '/webhook/card',
          'challenge',
          () => {
            const challenge = `challenge-${fields.eventId}`;
            const payload = { type: 'url_verification', challenge, token: verificationToken };
            const body = variant === 'challenge-encrypted' ? encryptedBody(payload, iv) : utf8(JSON.stringify(payload));
            return { headers: {}, body, challenge };
          },
        );
      }
      return make(`positive/${variant}`, '/webhook/card', 'accept-card', (unique) => {
        const card = buildCardActionEvent({
          messageId: `om_${fields.messageId}`,
          eventId: `${fields.eventId}-${unique}`,
          token: verificationToken,
          value: { text: fields.text },
        });
        const body = variant === 'card-encrypted' ? encryptedBody(card, iv) : utf8(JSON.stringify(card));
        return { headers: signatureHeaders(body, encryptKey, signedAt, nonce), body };
      });
    });

  // 11. unsigned (or junk-signed) with a key configured: whatever the body — garbage, an
  // undecryptable `encrypt`, a perfectly valid event with the right token — the answer is 401,
  // so nothing tells an outsider what decrypts.
  const unsignedWithKey = fc
    .record({
      path: pathArbitrary,
      fields: messageFields,
      body: fc.constantFrom('random-bytes', 'undecryptable', 'valid-encrypted', 'valid-plain', 'not-json'),
      bytes: fc.uint8Array({ maxLength: 512 }),
      key: fc.string({ maxLength: 40 }),
      iv: ivArbitrary,
      signature: fc.constantFrom('none', 'junk', 'empty'),
      junk: headerValue.filter((value) => value.trim() !== ''),
    })
    .filter(({ key }) => key !== encryptKey)
    .map(({ path, fields, body: shape, bytes, key, iv, signature, junk }) =>
      make(`unsigned-with-key/${shape}/${signature}`, path, 'unauthorized', (unique) => {
        const event = messageEvent(fields, unique);
        const body =
          shape === 'random-bytes'
            ? bytes
            : shape === 'undecryptable'
              ? utf8(JSON.stringify({ encrypt: encryptEvent(event, key, Buffer.from(iv)) }))
              : shape === 'valid-encrypted'
                ? encryptedBody(event, iv)
                : shape === 'valid-plain'
                  ? utf8(JSON.stringify(event))
                  : concat(utf8('{"encrypt": '), bytes);
        const headers: Headers =
          signature === 'none'
            ? {}
            : {
                'x-lark-request-timestamp': timestamp,
                'x-lark-request-nonce': 'n',
                'x-lark-signature': signature === 'junk' ? junk : '',
              };
        return { headers, body };
      }),
    );

  // 12. genuine, signed deliveries that must be acknowledged and dropped without a trace: a replay
  // created before the dedupe window (its keys may be purged), and messages bots sent.
  const dropped = fc
    .record({
      fields: messageFields,
      variant: fc.constantFrom('stale', 'sender-bot', 'sender-app'),
      ageMs: fc.integer({ min: dedupeTtlMs + 1, max: 30 * dedupeTtlMs }),
      iv: ivArbitrary,
      encrypted: fc.boolean(),
      nonce: nonceArbitrary,
    })
    .map(({ fields, variant, ageMs, iv, encrypted, nonce }) =>
      make(`dropped/${variant}/${encrypted ? 'encrypted' : 'plain'}`, '/webhook/event', 'drop', (unique) => {
        const fresh = messageEvent(fields, unique);
        const event =
          variant === 'stale'
            ? { ...fresh, header: { ...fresh.header, create_time: String(now - ageMs) } }
            : {
                ...fresh,
                event: {
                  ...fresh.event,
                  sender: { ...fresh.event.sender, sender_type: variant === 'sender-bot' ? 'bot' : 'app' },
                },
              };
        const body = encrypted ? encryptedBody(event, iv) : utf8(JSON.stringify(event));
        return { headers: signatureHeaders(body, encryptKey, timestamp, nonce), body };
      }),
    );

  return fc.oneof(
    { arbitrary: randomBytes, weight: 10 },
    { arbitrary: randomJson, weight: 12 },
    { arbitrary: truncated, weight: 8 },
    { arbitrary: misEncrypted, weight: 14 },
    { arbitrary: misSigned, weight: 14 },
    { arbitrary: oversized, weight: 4 },
    { arbitrary: wrongToken, weight: 10 },
    { arbitrary: nestedHuge, weight: 6 },
    { arbitrary: unicode, weight: 8 },
    { arbitrary: positive, weight: 14 },
    { arbitrary: unsignedWithKey, weight: 8 },
    { arbitrary: dropped, weight: 6 },
  );
}

/**
 * Cases for a bot in webhook mode WITHOUT an encrypt key and without FEISHU_ALLOW_UNSIGNED_WEBHOOK:
 * only Feishu's plain URL check (right token) is answered; every other request is a 401 whatever
 * it carries, a valid event with the right token included.
 */
export function refusedWithoutKeyCases(secrets: FuzzSecrets = defaultFuzzSecrets): fc.Arbitrary<FuzzCase> {
  const { verificationToken, now } = secrets;
  const describe = (value: FuzzCase): string => describeCase(value, secrets);
  const make = (kind: string, path: FuzzCase['path'], expect: FuzzExpectation, build: FuzzCase['build']) => {
    const value: FuzzCase & fc.WithToStringMethod = {
      kind,
      path,
      expect,
      build,
      [fc.toStringMethod]: () => describe(value),
    };
    return value;
  };
  return fc
    .record({
      path: pathArbitrary,
      shape: fc.constantFrom('valid-event', 'random-bytes', 'random-json', 'encrypted', 'challenge'),
      bytes: fc.uint8Array({ maxLength: 512 }),
      json: fc.jsonValue({ maxDepth: 3 }),
      id: idArbitrary,
      text: unicodeText,
    })
    .map(({ path, shape, bytes, json, id, text }) =>
      make(
        `refused-without-key/${shape}`,
        path,
        shape === 'challenge' ? 'challenge' : 'unauthorized',
        (unique): BuiltRequest => {
          if (shape === 'challenge') {
            const challenge = `challenge-${id}`;
            return {
              headers: {},
              body: utf8(JSON.stringify({ type: 'url_verification', challenge, token: verificationToken })),
              challenge,
            };
          }
          const envelope = messageEnvelope({
            eventId: `${id}-${unique}`,
            messageId: `om_${id}-${unique}`,
            text,
            createTime: now,
            token: verificationToken,
          });
          const body =
            shape === 'valid-event'
              ? utf8(JSON.stringify(envelope))
              : shape === 'random-bytes'
                ? bytes
                : shape === 'random-json'
                  ? utf8(JSON.stringify(json) ?? 'null')
                  : utf8(JSON.stringify({ encrypt: Buffer.from(bytes).toString('base64') }));
          return { headers: { 'content-type': 'application/json' }, body };
        },
      ),
    );
}

// ───────────────────────────── the runner ─────────────────────────────

export interface WebhookFuzzStats {
  seed: number;
  cases: number;
  byCategory: Record<string, number>;
  byStatus: Record<string, number>;
  byExpectation: Record<FuzzExpectation, number>;
  accepted: number;
  elapsedMs: number;
}

/** The default seed of `npm test`; FUZZ_SEED overrides it to explore (or reproduce) other runs. */
export function fuzzSeed(environment: NodeJS.ProcessEnv = process.env): number {
  const given = environment.FUZZ_SEED;
  if (given === undefined || given === '') return 20_261_123;
  const seed = Number(given);
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got "${given}"`);
  return seed;
}

class PropertyViolation extends Error {
  override name = 'PropertyViolation';
}

/**
 * Runs `numRuns` seeded cases against `target`; throws fast-check's report (seed, path,
 * shrunk counterexample, the violated property) at the first violation.
 */
export async function runWebhookFuzz({
  target,
  seed,
  numRuns,
  cases = webhookFuzzCases(target.secrets),
}: {
  target: WebhookFuzzTarget;
  seed: number;
  numRuns: number;
  cases?: fc.Arbitrary<FuzzCase>;
}): Promise<WebhookFuzzStats> {
  const stats: WebhookFuzzStats = {
    seed,
    cases: 0,
    byCategory: {},
    byStatus: {},
    byExpectation: { reject: 0, unauthorized: 0, drop: 0, 'accept-event': 0, 'accept-card': 0, challenge: 0, any: 0 },
    accepted: 0,
    elapsedMs: 0,
  };
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  let unique = 0;
  const started = performance.now();

  const check = async (value: FuzzCase): Promise<void> => {
    const fail: (message: string) => never = (message) => {
      throw new PropertyViolation(`${value.kind}: ${message}`);
    };
    unique += 1;
    const built = value.build(unique);
    const writesBefore = target.storeWrites();
    const jobsBefore = await target.jobCount();
    const cardsBefore = target.cardActions();
    const errorsBefore = target.errorLogs().length;

    let response: Response;
    try {
      response = await target.request(value.path, { method: 'POST', headers: built.headers, body: built.body });
    } catch (error) {
      return fail(`the app threw instead of answering: ${error instanceof Error ? error.stack : String(error)}`);
    }
    const text = await response.text();
    // Let any stray promise the request left behind settle, so its rejection is seen here.
    await new Promise((resolve) => setImmediate(resolve));

    const written = target.storeWrites() - writesBefore;
    const newJobs = (await target.jobCount()) - jobsBefore;
    const cards = target.cardActions() - cardsBefore;
    const status = response.status;

    if (unhandled.length > 0) fail(`unhandled rejection: ${String(unhandled[0])}`);
    if (status >= 500) fail(`answered ${status} ${text.slice(0, 200)}`);
    if (status < 200 || status >= 500 || (status >= 300 && status < 400)) fail(`answered ${status}`);
    const errorLines = target.errorLogs().slice(errorsBefore);
    if (errorLines.length > 0) fail(`logged an error: ${errorLines[0]?.slice(0, 300)}`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      fail(`body is not JSON: ${JSON.stringify(text.slice(0, 120))}`);
    }
    if (!(response.headers.get('content-type') ?? '').startsWith('application/json')) {
      fail(`content-type ${response.headers.get('content-type')}`);
    }
    if (status >= 400 && (written !== 0 || newJobs !== 0 || cards !== 0)) {
      fail(`rejected with ${status} but wrote ${written} store calls, ${newJobs} jobs, ${cards} card actions`);
    }

    switch (value.expect) {
      case 'reject':
        if (status < 400) fail(`expected a 4xx, got ${status} ${text.slice(0, 200)}`);
        break;
      case 'unauthorized':
        if (status !== 401) fail(`expected 401 whatever the body, got ${status} ${text.slice(0, 200)}`);
        break;
      case 'drop':
        if (status !== 200) fail(`expected 200 (acknowledged, dropped), got ${status} ${text.slice(0, 200)}`);
        if (written !== 0 || newJobs !== 0) fail(`dropped event wrote ${written} store calls, ${newJobs} jobs`);
        break;
      case 'accept-event': {
        if (status !== 200 || JSON.stringify(json) !== '{"ok":true}')
          fail(`expected 200 {"ok":true}, got ${status} ${text}`);
        if (newJobs !== 1) fail(`expected exactly one new job, got ${newJobs}`);
        const jobStatus = built.jobId === undefined ? undefined : await target.jobStatus(built.jobId);
        if (jobStatus !== 'pending') fail(`job ${built.jobId} is ${jobStatus}, expected pending`);
        stats.accepted += 1;
        break;
      }
      case 'accept-card':
        if (status !== 200) fail(`expected 200 for a valid card callback, got ${status} ${text}`);
        if (cards !== 1 || written !== 0 || newJobs !== 0) {
          fail(`expected one card action and no store writes, got ${cards} actions, ${written} writes`);
        }
        stats.accepted += 1;
        break;
      case 'challenge':
        if (status !== 200 || (json as { challenge?: unknown }).challenge !== built.challenge) {
          fail(`expected the challenge echoed, got ${status} ${text}`);
        }
        if (written !== 0 || cards !== 0) fail(`the challenge wrote ${written} store calls`);
        stats.accepted += 1;
        break;
      case 'any':
        break;
    }

    stats.cases += 1;
    const category = value.kind.split('/')[0] ?? value.kind;
    stats.byCategory[category] = (stats.byCategory[category] ?? 0) + 1;
    stats.byStatus[String(status)] = (stats.byStatus[String(status)] ?? 0) + 1;
    stats.byExpectation[value.expect] += 1;
  };

  try {
    await fc.assert(fc.asyncProperty(cases, check), { seed, numRuns });
  } finally {
    process.off('unhandledRejection', onUnhandled);
    stats.elapsedMs = performance.now() - started;
  }
  return stats;
}
