import { hex } from './util.js';

/** What a route answers: a JSON body (object), a text body (string) or bytes (a download). */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Codes the core itself answers with (auth, malformed bodies, injected rate limits). */
export const CORE_CODES = {
  ok: 0,
  /** Malformed JSON body. */
  badRequest: 9499,
  /** No Authorization header. */
  missingAccessToken: 99991661,
  /** Token unknown, expired or invalidated; the client must fetch a new one. */
  invalidAccessToken: 99991663,
  /** App-level frequency limit (documented as HTTP 400 + 99991400; gateways also send 429). */
  appRateLimited: 99991400,
} as const;

/** Feishu's success envelope: `{ code: 0, msg: 'success', data }`. */
export function ok(data: unknown): Reply {
  return { status: 200, body: { code: CORE_CODES.ok, msg: 'success', data } };
}

/** Feishu's error envelope, with a log id and troubleshooter text as the real API sends. */
export function fail(code: number, msg: string, status = 400): Reply {
  return { status, body: { code, msg, error: { log_id: hex(16), troubleshooter: `fake-feishu: ${msg}` } } };
}

/** True for a `Reply` in a handler's `Result | Reply` union (results never carry `status`). */
export function isReply(value: object): value is Reply {
  return 'status' in value;
}
