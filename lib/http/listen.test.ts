import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { listen, timeoutCheckIntervalMs } from './listen.js';

describe('listen', () => {
  it('with the default settings, cuts a slow request well within 30 s (Node alone: 300 s)', () => {
    const { http } = loadConfig({});
    const worstCaseMs = http.requestTimeoutMs + timeoutCheckIntervalMs(http.requestTimeoutMs, http.headersTimeoutMs);
    expect(worstCaseMs).toBeLessThan(30_000);
  });

  it('sets the timeouts and the connection cap on the Node server', async () => {
    const { server, address } = await listen({
      fetch: () => new Response('ok'),
      port: 0,
      host: '127.0.0.1',
      requestTimeoutMs: 12_000,
      headersTimeoutMs: 8_000,
      keepAliveTimeoutMs: 4_000,
      maxConnections: 7,
    });
    try {
      expect(address.port).toBeGreaterThan(0);
      expect(address.address).toBe('127.0.0.1');
      const node = server as import('node:http').Server;
      expect(node.requestTimeout).toBe(12_000);
      expect(node.headersTimeout).toBe(8_000);
      expect(node.keepAliveTimeout).toBe(4_000);
      expect(node.maxConnections).toBe(7);
      expect(await (await fetch(`http://127.0.0.1:${address.port}/`)).text()).toBe('ok');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('rejects when the address is taken instead of crashing the process', async () => {
    const first = await listen({ fetch: () => new Response('ok'), port: 0, host: '127.0.0.1' });
    try {
      await expect(
        listen({ fetch: () => new Response('ok'), port: first.address.port, host: '127.0.0.1' }),
      ).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise((resolve) => first.server.close(resolve));
    }
  });
});
