import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';

export interface ListenOptions {
  fetch: (request: Request) => Response | Promise<Response>;
  port: number;
  host: string;
  /** The whole request (headers and body) must have arrived by then, else 408 and close. */
  requestTimeoutMs?: number;
  /** The headers must have arrived by then (also on a connection that sends nothing). */
  headersTimeoutMs?: number;
  /** An idle keep-alive connection closes after this. */
  keepAliveTimeoutMs?: number;
  /** Connections beyond this are closed on arrival. */
  maxConnections?: number;
}

export interface Listening {
  server: ServerType;
  /** The bound address and port (port 0 picks a free one). */
  address: AddressInfo;
}

/**
 * How often Node looks for requests past their timeouts: a slow request is cut at most this
 * long after its deadline. A quarter of the shorter timeout, at most 2 s (Node's default of
 * 30 s would let a request held open for headers-plus-one-byte live twice as long as allowed).
 */
export function timeoutCheckIntervalMs(requestTimeoutMs: number, headersTimeoutMs: number): number {
  return Math.max(50, Math.min(2_000, Math.floor(Math.min(requestTimeoutMs, headersTimeoutMs) / 4)));
}

/**
 * Starts Node's HTTP server for a fetch handler with bounds Node does not set by default: a
 * request must arrive within `requestTimeoutMs` (Node: 5 minutes), at most `maxConnections` are
 * open at once (Node: unlimited), and idle keep-alive connections close. Resolves once listening.
 *
 * @example
 * const { server, address } = await listen({ fetch: app.fetch, port: 0, host: '127.0.0.1',
 *   requestTimeoutMs: 15_000, headersTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000, maxConnections: 512 });
 */
export function listen({
  fetch,
  port,
  host,
  requestTimeoutMs = 15_000,
  headersTimeoutMs = 10_000,
  keepAliveTimeoutMs = 5_000,
  maxConnections = 512,
}: ListenOptions): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch,
        port,
        hostname: host,
        serverOptions: {
          requestTimeout: requestTimeoutMs,
          headersTimeout: Math.min(headersTimeoutMs, requestTimeoutMs),
          keepAliveTimeout: keepAliveTimeoutMs,
          connectionsCheckingInterval: timeoutCheckIntervalMs(requestTimeoutMs, headersTimeoutMs),
        },
      },
      () => {
        server.off('error', reject);
        resolve({ server, address: server.address() as AddressInfo });
      },
    );
    server.maxConnections = maxConnections;
    server.once('error', reject);
  });
}
