import { createHash } from 'node:crypto';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { withTimeout } from '../../lib/util/with-timeout.js';

/**
 * A fake of Feishu's long-connection gateway, enough for the SDK's real `WSClient`:
 *
 * - `POST /callback/ws/endpoint` (endpoint discovery, the SDK's first call) answers the WebSocket
 *   URL and client config, or an error code / HTTP status you set;
 * - a WebSocket endpoint (hand-written RFC 6455 server, no extensions) speaking the SDK's
 *   protobuf `pbbp2.Frame` (hand-written encoder/decoder for the fields the SDK uses);
 * - `sendEvent(envelope)` pushes an event as a data frame and resolves with the client's ack
 *   (the SDK answers `{"code":200}`, or 500 when the handler threw);
 * - `sendCardAction(callback)` pushes a card callback (a button press) as a data frame of type
 *   `card`, as Feishu does, and resolves with the client's answer: `code` and the decoded `data`
 *   (the toast / card JSON the client put base64-encoded in its response);
 * - `dropConnections()` cuts every socket, so the SDK's reconnect path runs.
 *
 * @example
 * const gateway = await startFakeLongConnection();
 * const connection = startLongConnection({ appId, appSecret, domain: gateway.url, inbox, log, bus });
 * await connection.ready;
 * expect(await gateway.sendEvent(envelope)).toEqual({ code: 200 });
 */

// ───────────────────────────── protobuf (pbbp2.Frame) ─────────────────────────────

export interface FrameHeader {
  key: string;
  value: string;
}

export interface Frame {
  seqId: bigint;
  logId: bigint;
  service: number;
  /** 0 control (ping/pong), 1 data (event). */
  method: number;
  headers: FrameHeader[];
  payload: Uint8Array;
}

function varint(value: bigint): number[] {
  const bytes: number[] = [];
  let rest = BigInt.asUintN(64, value);
  while (rest >= 0x80n) {
    bytes.push(Number((rest & 0x7fn) | 0x80n));
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return bytes;
}

function lengthDelimited(field: number, bytes: Uint8Array): number[] {
  return [...varint(BigInt((field << 3) | 2)), ...varint(BigInt(bytes.length)), ...bytes];
}

const utf8 = new TextEncoder();

export function encodeFrame(frame: Frame): Uint8Array {
  const out: number[] = [
    ...varint(BigInt((1 << 3) | 0)),
    ...varint(frame.seqId),
    ...varint(BigInt((2 << 3) | 0)),
    ...varint(frame.logId),
    ...varint(BigInt((3 << 3) | 0)),
    ...varint(BigInt(frame.service)),
    ...varint(BigInt((4 << 3) | 0)),
    ...varint(BigInt(frame.method)),
  ];
  for (const header of frame.headers) {
    const encoded = [...lengthDelimited(1, utf8.encode(header.key)), ...lengthDelimited(2, utf8.encode(header.value))];
    out.push(...lengthDelimited(5, Uint8Array.from(encoded)));
  }
  out.push(...lengthDelimited(8, frame.payload));
  return Uint8Array.from(out);
}

function readVarint(bytes: Uint8Array, offset: number): [bigint, number] {
  let value = 0n;
  let shift = 0n;
  let position = offset;
  for (;;) {
    const byte = bytes[position++];
    if (byte === undefined) throw new Error('truncated varint');
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [value, position];
    shift += 7n;
  }
}

function readFields(bytes: Uint8Array, onField: (field: number, value: bigint | Uint8Array) => void): void {
  let offset = 0;
  while (offset < bytes.length) {
    const [tag, afterTag] = readVarint(bytes, offset);
    const field = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (wireType === 0) {
      const [value, next] = readVarint(bytes, afterTag);
      onField(field, value);
      offset = next;
    } else if (wireType === 2) {
      const [length, start] = readVarint(bytes, afterTag);
      const end = start + Number(length);
      onField(field, bytes.subarray(start, end));
      offset = end;
    } else {
      throw new Error(`unsupported wire type ${wireType}`);
    }
  }
}

const text = new TextDecoder();

export function decodeFrame(bytes: Uint8Array): Frame {
  const frame: Frame = { seqId: 0n, logId: 0n, service: 0, method: 0, headers: [], payload: new Uint8Array() };
  readFields(bytes, (field, value) => {
    if (field === 1 && typeof value === 'bigint') frame.seqId = value;
    else if (field === 2 && typeof value === 'bigint') frame.logId = value;
    else if (field === 3 && typeof value === 'bigint') frame.service = Number(value);
    else if (field === 4 && typeof value === 'bigint') frame.method = Number(value);
    else if (field === 5 && value instanceof Uint8Array) {
      const header: FrameHeader = { key: '', value: '' };
      readFields(value, (headerField, headerValue) => {
        if (!(headerValue instanceof Uint8Array)) return;
        if (headerField === 1) header.key = text.decode(headerValue);
        if (headerField === 2) header.value = text.decode(headerValue);
      });
      frame.headers.push(header);
    } else if (field === 8 && value instanceof Uint8Array) frame.payload = Uint8Array.from(value);
  });
  return frame;
}

// ───────────────────────────── WebSocket (RFC 6455, server side) ─────────────────────────────

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function serverFrame(opcode: number, payload: Uint8Array): Buffer {
  const length = payload.length;
  const head =
    length < 126
      ? Buffer.from([0x80 | opcode, length])
      : length < 65_536
        ? Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 127]), bigEndian64(length)]);
  return Buffer.concat([head, payload]);
}

function bigEndian64(value: number): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64BE(BigInt(value));
  return buffer;
}

/** Parses masked client frames from a byte stream; calls back complete messages. */
function clientFrameReader(onMessage: (opcode: number, payload: Buffer) => void) {
  let pending = Buffer.alloc(0);
  let fragments: Buffer[] = [];
  let fragmentOpcode = 0;
  return (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      if (pending.length < 2) return;
      const first = pending[0] as number;
      const second = pending[1] as number;
      let length = second & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (pending.length < 4) return;
        length = pending.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (pending.length < 10) return;
        length = Number(pending.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (second & 0x80) !== 0;
      const maskEnd = offset + (masked ? 4 : 0);
      if (pending.length < maskEnd + length) return;
      const payload = Buffer.from(pending.subarray(maskEnd, maskEnd + length));
      if (masked) {
        const mask = pending.subarray(offset, maskEnd);
        for (let index = 0; index < payload.length; index++) {
          payload[index] = (payload[index] as number) ^ (mask[index % 4] as number);
        }
      }
      pending = pending.subarray(maskEnd + length);
      const fin = (first & 0x80) !== 0;
      const opcode = first & 0x0f;
      if (opcode === 0) {
        fragments.push(payload);
        if (fin) {
          onMessage(fragmentOpcode, Buffer.concat(fragments));
          fragments = [];
        }
      } else if (!fin) {
        fragmentOpcode = opcode;
        fragments = [payload];
      } else {
        onMessage(opcode, payload);
      }
    }
  };
}

// ───────────────────────────── the fake gateway ─────────────────────────────

/** Relays one HTTP request to `target` (same path and headers) and its answer back. */
function forward(request: IncomingMessage, response: ServerResponse, target: string): void {
  const url = new URL(request.url ?? '/', target);
  const upstream = httpRequest(
    url,
    { method: request.method, headers: { ...request.headers, host: url.host } },
    (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    },
  );
  upstream.on('error', () => {
    if (!response.headersSent) response.writeHead(502);
    response.end();
  });
  request.pipe(upstream);
}

export interface EndpointAnswer {
  /** Feishu `code`; 0 hands out the WebSocket URL. */
  code?: number;
  msg?: string;
  /** Answer this HTTP status instead (e.g. 500) with a plain-text body. */
  httpStatus?: number;
}

export interface FakeLongConnection {
  /** Base URL to use as the SDK's domain. */
  readonly url: string;
  /** Endpoint-discovery calls so far (one per connect attempt). */
  endpointCalls(): number;
  /** Open WebSocket connections. */
  connections(): number;
  setEndpointAnswer(answer: EndpointAnswer): void;
  /**
   * Pushes a v2 event envelope as a data frame; resolves with the client's ack payload. With
   * `appId`, on that app's connection (the `AppID` its endpoint discovery named), as Feishu
   * delivers each app's events to its own connections; else on the first one.
   */
  sendEvent(envelope: unknown, options?: { timeoutMs?: number; appId?: string }): Promise<{ code: number }>;
  /** Open connections of one app. */
  connectionsOf(appId: string): number;
  /**
   * Pushes a card callback as a `card` data frame; resolves with the answer: `code`, the decoded
   * `data` (undefined when the client sent none) and the `type` header of the answer frame.
   */
  sendCardAction(callback: unknown, options?: { timeoutMs?: number }): Promise<CardActionAnswer>;
  /** Destroys every socket, as a network cut would. */
  dropConnections(): void;
  close(): Promise<void>;
}

export interface CardActionAnswer {
  code: number;
  data: unknown;
  /** The `type` header of the answer frame (Feishu matches it to the request). */
  type: string | undefined;
}

interface DataAck {
  code: number;
  data?: string;
}

export interface FakeLongConnectionOptions {
  /**
   * Where every other request (the Open API) goes, e.g. the fake Feishu's URL: on Feishu one
   * domain serves both the gateway and the API, and the SDK's client and WSClient share it.
   */
  apiUrl?: string;
}

export async function startFakeLongConnection({ apiUrl }: FakeLongConnectionOptions = {}): Promise<FakeLongConnection> {
  let endpointAnswer: EndpointAnswer = { code: 0 };
  let endpointCallCount = 0;
  let nextSeq = 1n;
  let nextMessage = 1;
  const sockets = new Set<Socket>();
  /** Which app each connection is for: the `AppID` of the discovery that handed out its URL. */
  const socketApps = new Map<Socket, string>();
  const waitingAcks = new Map<string, (ack: DataAck, frame: Frame) => void>();
  const SERVICE_ID = 7;

  const server: Server = createServer((request, response) => {
    if (request.method === 'POST' && request.url?.startsWith('/callback/ws/endpoint')) {
      endpointCallCount += 1;
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        let appId = '';
        try {
          const discovery = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { AppID?: unknown };
          appId = typeof discovery.AppID === 'string' ? discovery.AppID : '';
        } catch {
          // Not JSON: the connection is for no app in particular.
        }
        if (endpointAnswer.httpStatus !== undefined) {
          response.writeHead(endpointAnswer.httpStatus, { 'content-type': 'text/plain' }).end('gateway error');
          return;
        }
        const code = endpointAnswer.code ?? 0;
        const { port } = server.address() as AddressInfo;
        const body =
          code === 0
            ? {
                code: 0,
                msg: 'ok',
                data: {
                  // The app the connection is for rides in the URL (Feishu binds it in its own ticket).
                  URL: `ws://127.0.0.1:${port}/ws?device_id=fake-device&service_id=${SERVICE_ID}&app_id=${encodeURIComponent(appId)}`,
                  // Seconds; reconnect at once (no nonce) so tests need not wait.
                  ClientConfig: { PingInterval: 120, ReconnectCount: -1, ReconnectInterval: 1, ReconnectNonce: 0 },
                },
              }
            : { code, msg: endpointAnswer.msg ?? 'refused', data: {} };
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
      return;
    }
    if (apiUrl !== undefined) {
      forward(request, response, apiUrl);
      return;
    }
    response.writeHead(404).end();
  });

  server.on('upgrade', (request: IncomingMessage, socket: Socket) => {
    const key = request.headers['sec-websocket-key'];
    if (typeof key !== 'string' || !request.url?.startsWith('/ws')) {
      socket.destroy();
      return;
    }
    const accept = createHash('sha1')
      .update(key + WEBSOCKET_GUID)
      .digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    sockets.add(socket);
    socketApps.set(socket, new URL(request.url, 'http://fake').searchParams.get('app_id') ?? '');
    // Upgraded sockets of an HTTP server are half-open capable: when the client ends its side
    // (the SDK's close), end ours too, as a real gateway does, so the connection is really gone.
    socket.on('end', () => socket.end());
    const forget = () => {
      sockets.delete(socket);
      socketApps.delete(socket);
    };
    socket.on('close', forget);
    socket.on('error', forget);
    socket.on(
      'data',
      clientFrameReader((opcode, payload) => {
        if (opcode === 0x8) {
          socket.end(serverFrame(0x8, new Uint8Array()));
          return;
        }
        if (opcode === 0x9) {
          socket.write(serverFrame(0xa, payload));
          return;
        }
        if (opcode !== 0x2) return;
        const frame = decodeFrame(payload);
        const type = frame.headers.find((header) => header.key === 'type')?.value;
        // The SDK's own pings need no answer here (no liveness watchdog configured).
        if (frame.method !== 1 || (type !== 'event' && type !== 'card')) return;
        const messageId = frame.headers.find((header) => header.key === 'message_id')?.value ?? '';
        const ack = JSON.parse(text.decode(frame.payload)) as DataAck;
        waitingAcks.get(messageId)?.(ack, frame);
        waitingAcks.delete(messageId);
      }),
    );
  });

  /** Writes one data frame of `type` to the first open connection (of `appId`); resolves with the client's answer frame. */
  function push(
    type: 'event' | 'card',
    body: unknown,
    timeoutMs: number,
    appId?: string,
  ): Promise<{ ack: DataAck; frame: Frame }> {
    const socket = [...sockets].find((open) => appId === undefined || socketApps.get(open) === appId);
    if (socket === undefined) {
      return Promise.reject(new Error(`no long connection is open${appId === undefined ? '' : ` for ${appId}`}`));
    }
    const messageId = `fake-msg-${nextMessage++}`;
    const frame = encodeFrame({
      seqId: nextSeq++,
      logId: 0n,
      service: SERVICE_ID,
      method: 1,
      headers: [
        { key: 'type', value: type },
        { key: 'message_id', value: messageId },
        { key: 'sum', value: '1' },
        { key: 'seq', value: '0' },
        { key: 'trace_id', value: `trace-${messageId}` },
      ],
      payload: utf8.encode(JSON.stringify(body)),
    });
    const answered = new Promise<{ ack: DataAck; frame: Frame }>((resolve) =>
      waitingAcks.set(messageId, (ack, answer) => resolve({ ack, frame: answer })),
    );
    socket.write(serverFrame(0x2, frame));
    return withTimeout(answered, timeoutMs, () => new Error(`no ack for ${messageId} within ${timeoutMs} ms`)).finally(
      () => waitingAcks.delete(messageId),
    );
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    endpointCalls: () => endpointCallCount,
    connections: () => sockets.size,
    setEndpointAnswer(answer) {
      endpointAnswer = answer;
    },
    async sendEvent(envelope, { timeoutMs = 5_000, appId } = {}) {
      const { ack } = await push('event', envelope, timeoutMs, appId);
      return { code: ack.code };
    },
    connectionsOf: (appId) => [...socketApps.values()].filter((each) => each === appId).length,
    async sendCardAction(callback, { timeoutMs = 5_000 } = {}) {
      const { ack, frame } = await push('card', callback, timeoutMs);
      return {
        code: ack.code,
        data: ack.data === undefined ? undefined : JSON.parse(Buffer.from(ack.data, 'base64').toString('utf8')),
        type: frame.headers.find((header) => header.key === 'type')?.value,
      };
    },
    dropConnections() {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
