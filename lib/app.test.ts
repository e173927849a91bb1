import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createApp } from './app.js';
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

  it('passes a body within the limit', async () => {
    const response = await appWithEcho(1024).request('/echo', { method: 'POST', body: 'x'.repeat(512) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ length: 512 });
  });

  it('sets a request id and secure headers', async () => {
    const response = await appWithEcho().request('/echo', { method: 'POST', body: '{}' });
    expect(response.headers.get('x-request-id')).toMatch(/\S+/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
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
