/**
 * Matches requests against path templates written as the API documentation writes them
 * (`/open-apis/im/v1/messages/:message_id/reply`); shared by the fake Feishu and the fake OpenAI. A literal segment wins over a parameter at the
 * same place, so `/contact/v3/users/batch` beats `/contact/v3/users/:user_id` whatever order the
 * areas registered them in.
 *
 * @example
 * const router = createRouter<{ method: string; path: string }>();
 * router.add({ method: 'GET', path: '/open-apis/im/v1/messages/:message_id' });
 * router.match('GET', '/open-apis/im/v1/messages/om_1')?.params; // { message_id: 'om_1' }
 */
export interface Router<R extends { method: string; path: string }> {
  /** Throws when the same method and template (parameter names aside) is registered twice. */
  add(route: R): void;
  match(method: string, path: string): { route: R; params: Record<string, string> } | undefined;
  routes(): R[];
}

interface Compiled<R> {
  route: R;
  pattern: RegExp;
  names: string[];
  /** Per segment: true where the template has a parameter. */
  shape: boolean[];
}

export function createRouter<R extends { method: string; path: string }>(): Router<R> {
  const compiled: Compiled<R>[] = [];
  const keys = new Set<string>();
  return {
    add(route) {
      const segments = route.path.split('/');
      const key = `${route.method.toUpperCase()} ${segments.map((part) => (part.startsWith(':') ? ':' : part)).join('/')}`;
      if (keys.has(key)) throw new Error(`route ${route.method} ${route.path} is registered twice`);
      keys.add(key);
      const names: string[] = [];
      const source = segments
        .map((part) => {
          if (!part.startsWith(':')) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          names.push(part.slice(1));
          return '([^/]+)';
        })
        .join('/');
      compiled.push({
        route,
        pattern: new RegExp(`^${source}$`),
        names,
        shape: segments.map((part) => part.startsWith(':')),
      });
    },
    match(method, path) {
      let best: { entry: Compiled<R>; values: string[] } | undefined;
      for (const entry of compiled) {
        if (entry.route.method.toUpperCase() !== method) continue;
        const found = entry.pattern.exec(path);
        if (!found) continue;
        if (best === undefined || moreLiteral(entry.shape, best.entry.shape)) {
          best = { entry, values: found.slice(1) };
        }
      }
      if (best === undefined) return undefined;
      const params: Record<string, string> = {};
      for (const [index, name] of best.entry.names.entries()) {
        params[name] = decodeURIComponent(best.values[index] ?? '');
      }
      return { route: best.entry.route, params };
    },
    routes: () => compiled.map((entry) => entry.route),
  };
}

/** True when `candidate` has a literal at the first segment where the two shapes differ. */
function moreLiteral(candidate: boolean[], current: boolean[]): boolean {
  for (let index = 0; index < candidate.length; index++) {
    if (candidate[index] !== current[index]) return current[index] === true;
  }
  return false;
}
