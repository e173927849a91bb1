import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { responseHeaders } from './response-headers.js';

const fixed = { 'x-content-type-options': 'nosniff', 'x-frame-options': 'SAMEORIGIN' };

function app() {
  const routes = new Hono();
  routes.use(responseHeaders({ headers: fixed, createRequestId: () => 'generated-id' }));
  routes.get('/json', (c) => c.json({ requestId: c.get('requestId') }));
  routes.get('/own-frame-options', (c) => c.text('x', 200, { 'x-frame-options': 'DENY' }));
  routes.get('/boom', () => {
    throw new Error('boom');
  });
  routes.onError((_error, c) => c.json({ error: 'internal_error', requestId: c.get('requestId') }, 500));
  return routes;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** The same app over real HTTP on @hono/node-server, where the headers take the fast path. */
async function overHttp(): Promise<(path: string, init?: RequestInit) => Promise<Response>> {
  const server = serve({ fetch: app().fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return (path, init) => fetch(`http://127.0.0.1:${port}${path}`, init);
}

describe('responseHeaders', () => {
  for (const [transport, client] of [
    ['app.request()', async () => (path: string, init?: RequestInit) => Promise.resolve(app().request(path, init))],
    ['HTTP on @hono/node-server', overHttp],
  ] as const) {
    describe(`through ${transport}`, () => {
      it('sets the fixed headers and a new request id, which the route can read', async () => {
        const request = await client();
        const response = await request('/json');
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
        expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
        expect(response.headers.get('x-request-id')).toBe('generated-id');
        expect(response.headers.get('content-type')).toMatch(/^application\/json/);
        expect(await response.json()).toEqual({ requestId: 'generated-id' });
      });

      it("keeps a caller's sane request id and replaces an unsafe one", async () => {
        const request = await client();
        const kept = await request('/json', { headers: { 'x-request-id': 'caller-id_1=' } });
        expect(kept.headers.get('x-request-id')).toBe('caller-id_1=');
        const replaced = await request('/json', { headers: { 'x-request-id': 'bad id <script>' } });
        expect(replaced.headers.get('x-request-id')).toBe('generated-id');
        const tooLong = await request('/json', { headers: { 'x-request-id': 'a'.repeat(256) } });
        expect(tooLong.headers.get('x-request-id')).toBe('generated-id');
      });

      it('puts the headers on error responses too', async () => {
        const request = await client();
        const response = await request('/boom');
        expect(response.status).toBe(500);
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
        expect(await response.json()).toEqual({ error: 'internal_error', requestId: 'generated-id' });
      });
    });
  }

  it("lets a route's own value win over HTTP, where Node merges the headers", async () => {
    const request = await overHttp();
    expect((await request('/own-frame-options')).headers.get('x-frame-options')).toBe('DENY');
  });
});
