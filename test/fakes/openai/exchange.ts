import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { sleep } from '../../../lib/util/sleep.js';
import type { FakeMessage } from './steps.js';

export type FakeRequestOutcome =
  | 'pending'
  | 'ok'
  | 'error'
  | 'hang'
  | 'disconnected'
  | 'stalled'
  | 'client-closed'
  | 'server-closed';

export interface FakeRecordedRequest {
  /** Sequence number, 1-based, over the fake's lifetime. */
  id: number;
  method: string;
  path: string;
  model: string;
  messages: FakeMessage[];
  tools: unknown[] | undefined;
  stream: boolean;
  /** Lower-cased request headers. */
  headers: Record<string, string>;
  body: Record<string, unknown> | undefined;
  /** `Date.now()` when the request (with its body) had arrived. */
  at: number;
  /** HTTP status sent, `undefined` while no status line was written (hang, disconnect before headers). */
  status: number | undefined;
  outcome: FakeRequestOutcome;
  /** `Date.now()` when the fake stopped working on it. */
  endedAt: number | undefined;
}

/** Thrown inside an endpoint's work when the client went away or the fake closed: the work stops there. */
export class FakeRequestAbortedError extends Error {
  constructor(readonly reason: 'client-closed' | 'server-closed') {
    super(reason);
  }
}

/**
 * One request being answered: its record, and the ways an endpoint writes the answer (JSON, an
 * SSE stream, an OpenAI error, a cut connection) and waits (cancelled at once when the client
 * aborts or the fake closes, so an aborted call leaves nothing running).
 *
 * @example
 * exchange.startStream(rateLimitHeaders);
 * exchange.writeEvent({ choices: [...] });
 * await exchange.pause(chunkDelayMs);
 */
export interface Exchange {
  readonly record: FakeRecordedRequest;
  readonly response: ServerResponse;
  readonly signal: AbortSignal;
  /** Writes a whole JSON answer and records its status. */
  sendJson(status: number, payload: unknown, headers?: Record<string, string>): void;
  /** Answers an OpenAI error body and ends the request as `error`. */
  fail(status: number, message: string, type: string, code: string | null, param?: string | null): void;
  /** Marks the work done (first outcome wins; `record.outcome` set earlier, e.g. `stalled`, is kept). */
  finish(outcome: FakeRequestOutcome): void;
  /** Waits unless the client goes away or the fake closes (then throws FakeRequestAbortedError). */
  pause(ms: number): Promise<void>;
  /** Never resolves; throws FakeRequestAbortedError once the client goes away or the fake closes. */
  waitUntilAborted(): Promise<never>;
  /** Status 200 and SSE headers, flushed at once. */
  startStream(headers: Record<string, string>): void;
  /** One `data: {…}` SSE frame. */
  writeEvent(payload: unknown): void;
  /**
   * Cuts the connection like a crashed proxy would. Waits for what was written to reach the
   * kernel first: destroying at once would discard it, and the client would see a connection
   * failure before any output (which the SDK retries) instead of a stream that breaks mid-way.
   */
  disconnect(): Promise<void>;
  /** Stops the work (the fake is closing, or the client left). */
  abort(reason: FakeRequestAbortedError): void;
}

export function createExchange({
  record,
  response,
  socket,
  onFinish,
}: {
  record: FakeRecordedRequest;
  response: ServerResponse;
  socket: Socket;
  /** Called once, when the work is done. */
  onFinish: () => void;
}): Exchange {
  const controller = new AbortController();
  let finished = false;
  /** Settles when the last SSE write has been handed to the socket. */
  let lastWrite = Promise.resolve();

  const abortedError = (): FakeRequestAbortedError => {
    const reason: unknown = controller.signal.reason;
    return reason instanceof FakeRequestAbortedError ? reason : new FakeRequestAbortedError('client-closed');
  };

  const exchange: Exchange = {
    record,
    response,
    signal: controller.signal,
    sendJson(status, payload, headers = {}) {
      const body = JSON.stringify(payload);
      response.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-request-id': requestId(),
        ...headers,
      });
      response.end(body);
      record.status = status;
    },
    fail(status, message, type, code, param = null) {
      exchange.sendJson(status, { error: { message, type, param, code } });
      exchange.finish('error');
    },
    finish(outcome) {
      if (finished) return;
      finished = true;
      if (record.outcome === 'pending') record.outcome = outcome;
      record.endedAt = Date.now();
      onFinish();
    },
    async pause(ms) {
      if (ms > 0) {
        try {
          await sleep(ms, controller.signal);
        } catch {
          // fall through to the abort check below
        }
      }
      if (controller.signal.aborted) throw abortedError();
    },
    waitUntilAborted: () =>
      new Promise<never>((_resolve, reject) => {
        const onAbort = () => reject(abortedError());
        if (controller.signal.aborted) onAbort();
        else controller.signal.addEventListener('abort', onAbort, { once: true });
      }),
    startStream(headers) {
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-request-id': requestId(),
        ...headers,
      });
      response.flushHeaders();
      record.status = 200;
    },
    writeEvent(payload) {
      lastWrite = new Promise<void>((resolve) => {
        response.write(`data: ${JSON.stringify(payload)}\n\n`, () => resolve());
      });
    },
    async disconnect() {
      await Promise.race([lastWrite, exchange.waitUntilAborted().catch(() => undefined)]);
      socket.destroy();
      exchange.finish('disconnected');
    },
    abort(reason) {
      if (!controller.signal.aborted) controller.abort(reason);
    },
  };
  return exchange;
}

function requestId(): string {
  return `req_${randomUUID().replaceAll('-', '')}`;
}
