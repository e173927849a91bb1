import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { type ComponentStatesOptions, componentStates } from './component-states.js';
import { HealthMonitor } from './health-monitor.js';

const withModel = { MODEL: 'gpt-test', OPENAI_API_KEY: 'sk-test-key-1234' };
const withFeishu = { FEISHU_APP_ID: 'cli_0123456789abcdef', FEISHU_APP_SECRET: 'app-secret-value' };

function report(
  env: Record<string, string>,
  options: Partial<ComponentStatesOptions> = {},
  monitor = new HealthMonitor(),
) {
  const config = loadConfig(env);
  const states = componentStates({
    feishu: config.feishu,
    model: config.model,
    storeKind: 'sqlite',
    canAnswer: () => config.model.enabled,
    ...options,
  });
  return states({ snapshot: monitor.snapshot(), checks: [{ name: 'store', ok: true }] });
}

describe('componentStates', () => {
  it('says the agent is off for want of a model, and that a bot nobody gets answers from is unhealthy', () => {
    const { states, floors } = report({});
    expect(states.agent).toEqual({ state: 'off', reason: 'no model: MODEL, OPENAI_API_KEY not set' });
    expect(floors).toEqual([
      {
        status: 'unhealthy',
        reason: 'agent off (no model: MODEL, OPENAI_API_KEY not set): messages are stored, nobody is answered',
      },
    ]);
  });

  it('reports the agent off but imposes nothing while another handler answers (a stand-in)', () => {
    const { states, floors } = report({ MODEL: 'gpt-test' }, { canAnswer: () => true });
    expect(states.agent).toEqual({ state: 'off', reason: 'no model: OPENAI_API_KEY not set' });
    expect(floors).toEqual([]);
  });

  it('is ok with a model, and degraded while its calls fail in the window', () => {
    const monitor = new HealthMonitor({ minCalls: 2 });
    expect(report(withModel, {}, monitor).states.agent).toEqual({ state: 'ok', models: ['gpt-test'] });
    monitor.trackAgentCall('manager', 100, 'error');
    monitor.trackAgentCall('manager', 100, 'error');
    const { states, floors } = report({ ...withModel, FALLBACK_MODELS: 'gpt-b' }, {}, monitor);
    expect(states.agent).toEqual({
      state: 'degraded',
      reason: '2 of 2 model calls failed in the last 300 s',
      models: ['gpt-test', 'gpt-b'],
    });
    expect(floors).toEqual([]);
  });

  it('says how Feishu events arrive: signed or unsigned webhook, or why there is none', () => {
    expect(report(withModel).states.feishu).toMatchObject({
      webhook: 'off',
      longConnection: { state: 'off', connected: false, reason: 'FEISHU_APP_ID, FEISHU_APP_SECRET not set' },
      reason: 'FEISHU_APP_ID, FEISHU_APP_SECRET not set',
    });
    // Without the key the webhook refuses events; it is `unsigned` only when the operator opted in.
    expect(report({ ...withModel, ...withFeishu }).states.feishu).toMatchObject({
      webhook: 'refused',
      longConnection: { state: 'off', connected: false, reason: 'FEISHU_EVENT_MODE=webhook' },
    });
    expect(report({ ...withModel, ...withFeishu, FEISHU_ALLOW_UNSIGNED_WEBHOOK: 'true' }).states.feishu.webhook).toBe(
      'unsigned',
    );
    const signed = report({ ...withModel, ...withFeishu, FEISHU_ENCRYPT_KEY: 'encrypt-key' }).states.feishu;
    expect(signed.webhook).toBe('signed');
    expect(signed).not.toHaveProperty('reason');
  });

  it('shows the long connection live: connected or not, with its last error', () => {
    const env = { ...withModel, ...withFeishu, FEISHU_EVENT_MODE: 'websocket' };
    expect(report(env).states.feishu.longConnection).toEqual({ state: 'connecting', connected: false });
    const at = Date.UTC(2026, 0, 1);
    const connected = report(env, {
      connectionStatus: () => ({ state: 'connected', reconnects: 1, lastEventAt: at, lastError: null }),
    }).states.feishu;
    expect(connected.webhook).toBe('off');
    expect(connected.longConnection).toEqual({
      state: 'connected',
      connected: true,
      reconnects: 1,
      lastEventAt: '2026-01-01T00:00:00.000Z',
    });
    const failed = report(env, {
      connectionStatus: () => ({ state: 'failed', reconnects: 3, lastEventAt: null, lastError: 'code 1000040345' }),
    }).states.feishu.longConnection;
    expect(failed).toMatchObject({ state: 'failed', connected: false, reason: 'code 1000040345' });
  });

  it('takes the store state from its readiness check and adds redis only when Redis is the store', () => {
    const states = componentStates({
      feishu: loadConfig({}).feishu,
      model: loadConfig(withModel).model,
      storeKind: 'redis',
      canAnswer: () => true,
    });
    const snapshot = new HealthMonitor().snapshot();
    const down = states({ snapshot, checks: [{ name: 'store', ok: false, error: 'connect ECONNREFUSED' }] }).states;
    expect(down.store).toEqual({ kind: 'redis', state: 'down', error: 'connect ECONNREFUSED' });
    expect(down.redis).toEqual({ state: 'down', error: 'connect ECONNREFUSED' });
    expect(report(withModel).states).not.toHaveProperty('redis');
    expect(report(withModel).states.store).toEqual({ kind: 'sqlite', state: 'ok' });
  });

  it('shows a row per MCP server, and degrades (by name and reason) while one is not connected', () => {
    const row = { transport: 'stdio' as const, offeredTools: 5, skippedTools: 1, agents: ['manager'], restarts: 0 };
    const ready = report(withModel, { mcpServers: () => [{ name: 'orders', state: 'ready', ...row }] });
    expect(ready.states.mcp).toEqual({ orders: { state: 'ready', ...row } });
    expect(ready.floors).toEqual([]);
    const down = report(withModel, {
      mcpServers: () => [
        { name: 'orders', state: 'restarting', ...row, restarts: 2, lastError: 'the connection closed' },
      ],
    });
    expect(down.states.mcp?.orders).toMatchObject({ state: 'restarting', restarts: 2 });
    expect(down.floors).toEqual([
      { status: 'degraded', reason: 'MCP server orders is restarting: the connection closed' },
    ]);
    expect(report(withModel).states).not.toHaveProperty('mcp');
  });

  it('reports the store down while it answers but cannot write', () => {
    const states = componentStates({
      feishu: loadConfig({}).feishu,
      model: loadConfig(withModel).model,
      storeKind: 'sqlite',
      canAnswer: () => true,
    });
    const checks = [
      { name: 'store', ok: true },
      { name: 'store-writes', ok: false, error: 'store writes failing since …: database or disk is full' },
    ];
    expect(states({ snapshot: new HealthMonitor().snapshot(), checks }).states.store).toEqual({
      kind: 'sqlite',
      state: 'down',
      error: 'store writes failing since …: database or disk is full',
    });
  });
});
