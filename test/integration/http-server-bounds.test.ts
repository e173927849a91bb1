import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningBot, startBot } from '../../lib/bot.js';
import { loadConfig } from '../../lib/config.js';
import { silentLogger } from '../../lib/log.js';

/**
 * The real service's HTTP server against raw sockets that misbehave: a slow client must be cut
 * (Node would hold it for five minutes), and connections beyond the cap refused. Short settings
 * keep the test fast; config.test.ts pins the production defaults.
 */
describe('HTTP server bounds', () => {
  const bots: RunningBot[] = [];
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await Promise.all(bots.splice(0).map((bot) => bot.stop()));
  });

  async function start(environment: Record<string, string>) {
    const config = loadConfig({ NODE_ENV: 'test', PORT: '0', STORE_URL: 'sqlite::memory:', ...environment });
    const bot = await startBot(config, { log: silentLogger() });
    bots.push(bot);
    return bot;
  }

  interface RawClient {
    socket: Socket;
    received(): string;
    /** Resolves with ms from connect to close, or rejects after `timeoutMs`. */
    closed(timeoutMs: number): Promise<number>;
  }

  async function rawClient(port: number): Promise<RawClient> {
    const socket = connect({ port, host: '127.0.0.1' });
    sockets.push(socket);
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk.toString();
    });
    socket.on('error', () => {});
    const openedAt = Date.now();
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - openedAt)));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return {
      socket,
      received: () => data,
      closed: (timeoutMs) =>
        Promise.race([
          closed,
          new Promise<number>((_, reject) =>
            setTimeout(() => reject(new Error(`still open after ${timeoutMs} ms; got: ${data}`)), timeoutMs),
          ),
        ]),
    };
  }

  it('cuts a client that sends the headers and one byte of its body, with 408', async () => {
    // With an agent configured (never called here) the playground reads the body, as the webhook
    // does, instead of answering "agent off" at once: it waits for the rest.
    const bot = await start({
      HTTP_REQUEST_TIMEOUT_MS: '1000',
      HTTP_HEADERS_TIMEOUT_MS: '500',
      MODEL: 'gpt-test',
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
    });
    const client = await rawClient(bot.port);
    client.socket.write(
      'POST /devtools/api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
    );
    // Node may cut an unfinished body under either limit; what matters is a 408 within seconds
    // instead of the five minutes Node allows by default.
    const heldMs = await client.closed(10_000);
    expect(heldMs).toBeGreaterThanOrEqual(400);
    expect(client.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('cuts a client that never finishes its headers', async () => {
    const bot = await start({ HTTP_REQUEST_TIMEOUT_MS: '1000', HTTP_HEADERS_TIMEOUT_MS: '500' });
    const client = await rawClient(bot.port);
    client.socket.write('GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const heldMs = await client.closed(10_000);
    expect(heldMs).toBeGreaterThanOrEqual(400);
    expect(client.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('still serves a request whose answer takes longer than the request timeout (SSE)', async () => {
    const bot = await start({ HTTP_REQUEST_TIMEOUT_MS: '500', HTTP_HEADERS_TIMEOUT_MS: '500' });
    const response = await fetch(`http://127.0.0.1:${bot.port}/devtools/api/stream`);
    expect(response.status).toBe(200);
    const reader = response.body?.getReader();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    bot.bus.emit({ type: 'message.ignored', traceId: 'late', reason: 'after the timeout' });
    let text = '';
    while (!text.includes('after the timeout')) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
    await reader?.cancel();
    expect(text).toContain('after the timeout');
  });

  it('refuses connections beyond HTTP_MAX_CONNECTIONS and takes new ones once some close', async () => {
    const bot = await start({ HTTP_MAX_CONNECTIONS: '2' });
    const first = await rawClient(bot.port);
    const second = await rawClient(bot.port);
    const third = await rawClient(bot.port);
    third.socket.write('GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await third.closed(5_000);
    expect(third.received()).toBe('');

    first.socket.destroy();
    await first.closed(5_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const fourth = await rawClient(bot.port);
    fourth.socket.write('GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    await fourth.closed(5_000);
    expect(fourth.received()).toMatch(/^HTTP\/1\.1 200/);
    second.socket.destroy();
  });

  it('closes an idle keep-alive connection after HTTP_KEEP_ALIVE_TIMEOUT_MS', async () => {
    const bot = await start({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '300' });
    const client = await rawClient(bot.port);
    client.socket.write('GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const heldMs = await client.closed(5_000);
    expect(client.received()).toMatch(/^HTTP\/1\.1 200/);
    expect(heldMs).toBeGreaterThanOrEqual(250);
    // Node's own default would hold it 5 s.
    expect(heldMs).toBeLessThan(2_500);
  });
});
