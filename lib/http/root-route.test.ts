import { describe, expect, it } from 'vitest';
import { rootRoute } from './root-route.js';

describe('GET /', () => {
  it('redirects to devtools when they are on', async () => {
    const response = await rootRoute({ version: '1.2.3', devtools: true, webhook: true }).request('/');
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/devtools');
  });

  it('answers a JSON index of the routes when devtools are off, naming why', async () => {
    const app = rootRoute({ version: '1.2.3', devtools: false, webhook: true });
    const response = await app.request('/');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { version: string; devtools: string; routes: Array<{ path: string }> };
    expect(body.version).toBe('1.2.3');
    expect(body.devtools).toBe('off: ENABLE_DEVTOOLS is false (the default in production)');
    expect(body.routes.map((route) => route.path)).toEqual([
      '/health',
      '/health/live',
      '/health/ready',
      '/metrics',
      '/webhook/event',
      '/webhook/card',
    ]);
  });

  it('lists the webhook only when it is mounted', async () => {
    const body = (await (await rootRoute({ version: '1', devtools: false, webhook: false }).request('/')).json()) as {
      routes: Array<{ path: string }>;
    };
    expect(body.routes.some((route) => route.path.startsWith('/webhook'))).toBe(false);
    expect(body.routes.some((route) => route.path === '/api/notify')).toBe(false);
  });

  it('lists POST /api/notify when it is mounted', async () => {
    const body = (await (
      await rootRoute({ version: '1', devtools: false, webhook: false, notify: true }).request('/')
    ).json()) as { routes: Array<{ method: string; path: string }> };
    expect(body.routes).toContainEqual(expect.objectContaining({ method: 'POST', path: '/api/notify' }));
  });
});
