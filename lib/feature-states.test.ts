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
