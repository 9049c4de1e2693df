/**
 * The route table as the build prints it and `http.mjs routes` answers it: one line per route, method, path
 * and file. Plain JavaScript, so that the build reads it under plain Node.
 * @param {{ method: string, path: string, file: string }[]} routes
 * @returns {string[]}
 */
export function routeTableLines(routes) {
  if (routes.length === 0) return ['  (none: add a file under handlers/)'];
  return routes.map((route) => `  ${route.method.padEnd(7)} ${route.path.padEnd(36)} ${route.file}`);
}
