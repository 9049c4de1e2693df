import type { Route } from './app.ts';

/**
 * For a request no route matched: the methods the routes of its path do serve (so that the answer is 405 with
 * `Allow`, not 404), or none when no route has that path. HEAD goes with GET, and OPTIONS with every path.
 */
export function allowedMethods(routes: Route[]): (path: string) => string[] {
  const patterns = routes.map((route) => ({ method: route.method, pattern: patternOf(route.path) }));
  return (path) => {
    const methods = new Set(patterns.filter(({ pattern }) => pattern.test(path)).map(({ method }) => method));
    if (methods.size === 0) return [];
    if (methods.has('GET')) methods.add('HEAD');
    methods.add('OPTIONS');
    return [...methods];
  };
}

/** `/notes/:id` and `/files/:path{.+}` as the regular expressions Hono matches them with. */
function patternOf(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => {
      if (/^:\w+\{\.\+\}$/.test(segment)) return '.+';
      if (segment.startsWith(':')) return '[^/]+';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${source}/?$`);
}
