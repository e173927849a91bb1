import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { featureStates } from './feature-states.js';

const devtoolsDetail = (environment: Record<string, string>) =>
  featureStates(loadConfig(environment)).find((state) => state.name === 'devtools')?.detail;

describe('featureStates: devtools', () => {
  it('says who gets in: loopback only, loopback or the token, or the token alone when bound beyond loopback', () => {
    const token = 'd'.repeat(32);
    expect(devtoolsDetail({})).toBe('loopback requests only (DEVTOOLS_TOKEN not set)');
    expect(devtoolsDetail({ DEVTOOLS_TOKEN: token })).toBe('loopback, or any request with DEVTOOLS_TOKEN');
    expect(devtoolsDetail({ HOST: '0.0.0.0', DEVTOOLS_TOKEN: token })).toBe(
      'DEVTOOLS_TOKEN on every request (HOST=0.0.0.0 is not loopback: no loopback pass)',
    );
  });
});

describe('featureStates: web search and MCP servers', () => {
  const feature = (environment: Record<string, string>, name: string) =>
    featureStates(loadConfig(environment)).find((state) => state.name === name);

  it('names the search provider and the origin of its base URL only, or why search is off', () => {
    expect(feature({}, 'web-search')).toEqual({
      name: 'web-search',
      on: false,
      detail: 'SEARCH_PROVIDER not set: the webSearch tool is off',
    });
    expect(
      feature(
        { SEARCH_PROVIDER: 'searxng', SEARCH_BASE_URL: 'https://searx.internal:8443/path?token=t0k3n-value' },
        'web-search',
      ),
    ).toEqual({ name: 'web-search', on: true, detail: 'searxng at https://searx.internal:8443' });
  });

  it('names the MCP servers file, or says there is none', () => {
    expect(feature({ MCP_SERVERS_FILE: '/etc/bot/mcp.json' }, 'mcp-servers')).toMatchObject({
      on: true,
      detail: '/etc/bot/mcp.json',
    });
    expect(feature({}, 'mcp-servers')).toMatchObject({ on: false, detail: 'MCP_SERVERS_FILE not set: no MCP tools' });
  });
});
