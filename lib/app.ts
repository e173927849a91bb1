import { Hono } from 'hono';
import { bodyLimit } from './http/body-limit.js';
import { responseHeaders } from './http/response-headers.js';
import type { Logger } from './log.js';

export interface RouteModule {
  /** Mount point, e.g. '/webhook' or '/devtools'. */
  path: string;
  app: Hono;
  /** Serves pages a browser renders (the devtools UI): these get all of SECURITY_HEADERS. */
  browser?: boolean;
}

/**
 * What Hono's `secureHeaders` sets by default, with a content security policy for the devtools
 * UI (its own scripts and styles, from this origin only), for routes whose pages a browser
 * renders. app.test.ts checks the list still matches Hono's output for the same policy.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=15552000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

/**
 * For machine-facing routes (webhook, health, metrics): the rest of SECURITY_HEADERS only means
 * something to a browser rendering a document, and those 700 bytes on every webhook ack cost a
 * tenth of its CPU under load (docs/performance.md).
 */
export const MACHINE_HEADERS: Readonly<Record<string, string>> = { 'x-content-type-options': 'nosniff' };

export interface AppOptions {
  log: Logger;
  bodyLimitBytes?: number;
  /** Feature routes (health, webhook, devtools, metrics) mounted in order. */
  routes?: readonly RouteModule[];
  /** Told the path of every body refused for its size (413), so webhook floods are counted too. */
  onPayloadTooLarge?: (path: string) => void;
}

/**
 * The Hono app: cross-cutting middleware plus the feature routes the composition root hands in.
 * No socket here, so tests call `app.request()` directly.
 *
 * @example
 * const app = createApp({ log, routes: [{ path: '/', app: healthRoutes(...) }] });
 * const response = await app.request('/health/live');
 */
export function createApp({ log, bodyLimitBytes = 1024 * 1024, routes = [], onPayloadTooLarge }: AppOptions): Hono {
  const app = new Hono();
  app.use(responseHeaders({ headers: MACHINE_HEADERS }));
  const browserOnly = Object.fromEntries(
    Object.entries(SECURITY_HEADERS).filter(([name]) => !(name in MACHINE_HEADERS)),
  );
  for (const route of routes) {
    if (!route.browser) continue;
    const pattern = route.path === '/' ? '*' : `${route.path}/*`;
    app.use(pattern, responseHeaders({ headers: browserOnly, requestIdHeader: null }));
  }
  app.use(
    bodyLimit({
      maxSize: bodyLimitBytes,
      onError: (c) => {
        onPayloadTooLarge?.(c.req.path);
        return c.json({ error: 'payload_too_large', message: `Body exceeds ${bodyLimitBytes} bytes` }, 413);
      },
    }),
  );
  for (const route of routes) app.route(route.path, route.app);
  app.notFound((c) => c.json({ error: 'not_found' }, 404));
  app.onError((error, c) => {
    log.error({ err: error, path: c.req.path, requestId: c.get('requestId') }, 'unhandled route error');
    return c.json({ error: 'internal_error', requestId: c.get('requestId') }, 500);
  });
  return app;
}
