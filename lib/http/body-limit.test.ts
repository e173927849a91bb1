import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { bodyLimit } from './body-limit.js';

function app(maxSize = 10) {
  const routes = new Hono();
  routes.use(bodyLimit({ maxSize, onError: (c) => c.json({ error: 'payload_too_large' }, 413) }));
  routes.post('/echo', async (c) => c.text(await c.req.text()));
  routes.get('/ping', (c) => c.text('pong'));
  return routes;
}

function chunked(text: string): RequestInit {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  });
  return { method: 'POST', body: stream, duplex: 'half' } as RequestInit;
}

describe('bodyLimit', () => {
  it('passes a body within the limit, declared by content-length, to the route intact', async () => {
    const response = await app().request('/echo', {
      method: 'POST',
      headers: { 'content-length': '5' },
      body: 'hello',
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('hello');
  });

  it('answers the error for a declared length over the limit without running the route', async () => {
    const response = await app().request('/echo', {
      method: 'POST',
      headers: { 'content-length': '11' },
      body: 'hello world',
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: 'payload_too_large' });
  });

  it('refuses a malformed content-length instead of trusting it', async () => {
    for (const length of ['-1', 'abc', '1e3']) {
      const response = await app().request('/echo', {
        method: 'POST',
        headers: { 'content-length': length },
        body: 'x',
      });
      expect(response.status, length).toBe(413);
    }
  });

  it('counts a chunked body as it streams: within the limit passes, over it is refused', async () => {
    const small = await app().request('/echo', chunked('tiny'));
    expect(small.status).toBe(200);
    expect(await small.text()).toBe('tiny');
    const large = await app().request('/echo', chunked('x'.repeat(11)));
    expect(large.status).toBe(413);
  });

  it('leaves bodiless methods alone', async () => {
    const response = await app().request('/ping');
    expect(await response.text()).toBe('pong');
  });
});
