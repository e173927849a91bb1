import { afterEach, describe, expect, it } from 'vitest';
import { type RunningBot, startBot } from '../../lib/bot.js';
import { loadConfig } from '../../lib/config.js';
import { silentLogger } from '../../lib/log.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const TOKEN = 'proxy-test-devtools-token-0123456789abcdef';

/**
 * The devtools loopback pass against a same-host proxy: the real service on a real socket, and a
 * TCP forwarder on 127.0.0.1 in front of it, as nginx's default proxy_pass would be.
 */
describe('devtools behind a same-host proxy', () => {
  const bots: RunningBot[] = [];
  const proxies: TcpProxy[] = [];
  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
    await Promise.all(bots.splice(0).map((bot) => bot.stop()));
  });

  async function start(environment: Record<string, string>) {
    const config = loadConfig({ NODE_ENV: 'test', PORT: '0', STORE_URL: 'sqlite::memory:', ...environment });
    const bot = await startBot(config, { log: silentLogger() });
    bots.push(bot);
    const proxy = await startTcpProxy(bot.port);
    proxies.push(proxy);
    return { bot, proxy };
  }

  it('answers 401, not traces, to an outsider coming through the proxy to a bot bound to 0.0.0.0', async () => {
    const { bot, proxy } = await start({ HOST: '0.0.0.0', DEVTOOLS_TOKEN: TOKEN });
    bot.bus.emit({
      type: 'message.received',
      traceId: 't-1',
      chatId: 'oc_1',
      chatType: 'p2p',
      userId: 'ou_1',
      text: 'secret plans',
    });
    const through = `http://127.0.0.1:${proxy.port}`;

    const traces = await fetch(`${through}/devtools/api/traces`);
    expect(traces.status).toBe(401);
    expect(await traces.text()).not.toContain('secret plans');
    const playground = await fetch(`${through}/devtools/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'run the agent for me' }),
    });
    expect(playground.status).toBe(401);
    // Straight to the socket from this host, too: bound beyond loopback, nobody passes without the token.
    expect((await fetch(`http://127.0.0.1:${bot.port}/devtools/api/traces`)).status).toBe(401);

    // The owner through the same proxy, with the token.
    const owner = await fetch(`${through}/devtools/api/traces`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(owner.status).toBe(200);
    expect(await owner.text()).toContain('t-1');
  });

  it('keeps the token-free loopback pass for a newcomer on the default development address', async () => {
    const { bot } = await start({});
    expect(bot.config.host).toBe('127.0.0.1');
    expect((await fetch(`http://127.0.0.1:${bot.port}/devtools/api/traces`)).status).toBe(200);
  });
});
