import { HTTP_METHODS } from '../runtime/http/methods.mjs';

/**
 * The order routes are registered in, which is the order the router tries them: a static segment before a
 * parameter before a catch-all, at the first segment where two paths differ, so that `/notes/recent` wins
 * over `/notes/:id` whatever the file names; then code-unit order, shorter paths first; then by method. Under
 * this rule (the one find-my-way and Fastify follow, segment by segment) two routes are only ever ambiguous
 * when they have the same shape, which discovery refuses as a clash.
 * @param {{ method: string, path: string }} a
 * @param {{ method: string, path: string }} b
 */
export function compareRoutes(a, b) {
  const [left, right] = [segments(a.path), segments(b.path)];
  for (let index = 0; index < Math.min(left.length, right.length); index++) {
    const [x, y] = /** @type {[string, string]} */ ([left[index], right[index]]);
    const byKind = rank(x) - rank(y);
    if (byKind !== 0) return byKind;
    if (x !== y) return x < y ? -1 : 1;
  }
  return (
    left.length - right.length ||
    HTTP_METHODS.indexOf(/** @type {never} */ (a.method.toLowerCase())) -
      HTTP_METHODS.indexOf(/** @type {never} */ (b.method.toLowerCase()))
  );
}

/** @param {string} path */
function segments(path) {
  return path.split('/').filter(Boolean);
}

/** 0 for a static segment, 1 for a parameter, 2 for a catch-all. @param {string | undefined} segment */
function rank(segment) {
  if (!segment?.startsWith(':')) return 0;
  return segment.endsWith('{.+}') ? 2 : 1;
}
