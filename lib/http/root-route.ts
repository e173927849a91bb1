import { Hono } from 'hono';

export interface RootRouteOptions {
  version: string;
  /** Devtools mounted at /devtools: `GET /` redirects there. */
  devtools: boolean;
  /** The Feishu webhook routes are mounted (webhook mode with credentials). */
  webhook: boolean;
  /** POST /api/notify is mounted (NOTIFY_TOKEN set). */
  notify?: boolean;
}

/**
 * `GET /`: a person opening the bot's address in a browser lands in devtools when they are on;
 * otherwise (production) a small JSON index of the routes, so nobody has to guess them.
 *
 * @example
 * routes.push({ path: '/', app: rootRoute({ version, devtools: config.devtools.enabled, webhook: true }) });
 */
export function rootRoute({ version, devtools, webhook, notify = false }: RootRouteOptions): Hono {
  const routes: Array<{ method: string; path: string; what: string }> = [
    { method: 'GET', path: '/health', what: 'status and component states; 200 healthy or degraded, 503 unhealthy' },
    { method: 'GET', path: '/health/live', what: '200 while the process answers' },
    { method: 'GET', path: '/health/ready', what: '200 once started and not draining' },
    { method: 'GET', path: '/metrics', what: 'Prometheus text format' },
  ];
  if (webhook) {
    routes.push(
      { method: 'POST', path: '/webhook/event', what: 'Feishu events (the Request URL)' },
      { method: 'POST', path: '/webhook/card', what: 'Feishu card callbacks (the card callback URL)' },
    );
  }
  if (notify) {
    routes.push({ method: 'POST', path: '/api/notify', what: 'other systems post into a chat (bearer token)' });
  }
  if (devtools) routes.push({ method: 'GET', path: '/devtools', what: 'the devtools web UI' });
  const index = {
    service: 'feishu-agent-bot',
    version,
    routes,
    ...(devtools ? {} : { devtools: 'off: ENABLE_DEVTOOLS is false (the default in production)' }),
  };
  const app = new Hono();
  app.get('/', (c) => (devtools ? c.redirect('/devtools', 302) : c.json(index)));
  return app;
}
