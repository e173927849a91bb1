import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { describe, expect, it } from 'vitest';
import { createApp, SECURITY_HEADERS } from './app.js';
import { silentLogger } from './log.js';

function appWithEcho(bodyLimitBytes = 1024) {
  const routes = new Hono();
  routes.post('/echo', async (c) => c.json({ length: (await c.req.arrayBuffer()).byteLength }));
  routes.get('/boom', () => {
    throw new Error('kaboom with details');
  });
  return createApp({ log: silentLogger(), bodyLimitBytes, routes: [{ path: '/', app: routes }] });
}

describe('createApp', () => {
  it('answers 413 for a body over the limit without running the route', async () => {
    const response = await appWithEcho(1024).request('/echo', { method: 'POST', body: 'x'.repeat(2048) });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: 'payload_too_large' });
  });

  it('tells onPayloadTooLarge the path of each body refused for its size', async () => {
    const paths: string[] = [];
    const app = createApp({ log: silentLogger(), bodyLimitBytes: 16, onPayloadTooLarge: (path) => paths.push(path) });
    await app.request('/webhook/event', { method: 'POST', body: 'x'.repeat(64) });
    await app.request('/webhook/event', { method: 'POST', body: 'x'.repeat(8) });
    expect(paths).toEqual(['/webhook/event']);
  });

  it('passes a body within the limit', async () => {
    const response = await appWithEcho(1024).request('/echo', { method: 'POST', body: 'x'.repeat(512) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ length: 512 });
  });

  it('sets a request id and nosniff on machine-facing routes, and no browser-only headers', async () => {
    const response = await appWithEcho().request('/echo', { method: 'POST', body: '{}' });
    expect(response.headers.get('x-request-id')).toMatch(/\S+/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toBeNull();
    expect(response.headers.get('x-frame-options')).toBeNull();
  });

  it('gives browser routes every security header, on their pages and their 404s', async () => {
    const page = new Hono();
    page.get('/', (c) => c.html('<p>ui</p>'));
    const app = createApp({
      log: silentLogger(),
      routes: [
        { path: '/ui', app: page, browser: true },
        { path: '/api', app: new Hono().get('/', (c) => c.json({})) },
      ],
    });
    for (const path of ['/ui', '/ui/', '/ui/missing']) {
      const response = await app.request(path);
      for (const [name, value] of Object.entries(SECURITY_HEADERS))
        expect(response.headers.get(name), `${path} ${name}`).toBe(value);
      expect(response.headers.get('x-request-id'), path).toMatch(/\S+/);
    }
    expect((await app.request('/api')).headers.get('content-security-policy')).toBeNull();
  });

  it("lists exactly the headers Hono's secureHeaders would set, for the same policy", async () => {
    const reference = new Hono();
    reference.use(
      secureHeaders({
        contentSecurityPolicy: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          frameAncestors: ["'none'"],
        },
      }),
    );
    reference.get('/', (c) => c.text('x'));
    const expected = Object.fromEntries(
      [...(await reference.request('/')).headers].filter(([name]) => name !== 'content-type'),
    );
    expect(SECURITY_HEADERS).toEqual(expected);
  });

  it('answers unknown routes with JSON 404 and hides internal errors', async () => {
    const app = appWithEcho();
    expect((await app.request('/nope')).status).toBe(404);
    const response = await app.request('/boom');
    expect(response.status).toBe(500);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.error).toBe('internal_error');
    expect(JSON.stringify(body)).not.toContain('kaboom');
  });
});
