import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { bodyLimit } from './http/body-limit.js';
import type { Logger } from './log.js';

export interface RouteModule {
  /** Mount point, e.g. '/webhook' or '/devtools'. */
  path: string;
  app: Hono;
}

export interface AppOptions {
  log: Logger;
  bodyLimitBytes?: number;
  /** Feature routes (health, webhook, devtools, metrics) mounted in order. */
  routes?: readonly RouteModule[];
}

/**
 * The Hono app: cross-cutting middleware plus the feature routes the composition root hands in.
 * No socket here, so tests call `app.request()` directly.
 *
 * @example
 * const app = createApp({ log, routes: [{ path: '/', app: healthRoutes(...) }] });
 * const response = await app.request('/health/live');
 */
export function createApp({ log, bodyLimitBytes = 1024 * 1024, routes = [] }: AppOptions): Hono {
  const app = new Hono();
  app.use(requestId());
  app.use(
    secureHeaders({
      // The devtools UI serves its own scripts and styles from this origin only.
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
  app.use(
    bodyLimit({
      maxSize: bodyLimitBytes,
      onError: (c) => c.json({ error: 'payload_too_large', message: `Body exceeds ${bodyLimitBytes} bytes` }, 413),
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
