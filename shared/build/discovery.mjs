import { access, readdir } from 'node:fs/promises';
import path from 'node:path';
import { HTTP_METHODS } from '../runtime/http/methods.mjs';
import { compareRoutes } from './route-order.mjs';

/** Thrown when handler or task files cannot become routes or tasks; lists every problem found. */
export class DiscoveryError extends Error {
  /** @param {string[]} problems */
  constructor(problems) {
    super(
      `Cannot build (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'DiscoveryError';
    this.problems = problems;
  }
}

/** @type {readonly string[]} */
const METHODS = HTTP_METHODS;
const STATIC_SEGMENT = /^[a-z0-9][a-z0-9._~-]*$|^\.well-known$/;
const PARAM_SEGMENT = /^\[([a-zA-Z][a-zA-Z0-9_]*)\]$/;
const REST_SEGMENT = /^\[\.\.\.([a-zA-Z][a-zA-Z0-9_]*)\]$/;
const TASK_SEGMENT = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const CODE_EXTENSIONS = /\.(js|mjs|cjs|jsx|tsx|mts|cts)$/;
const TEST_FILE = /\.(test|spec)\.ts$/;

/**
 * @typedef {{ method: string, path: string, file: string, absolute: string }} RouteFile a handler file and
 *   the route its name says
 * @typedef {{ name: string, file: string, absolute: string }} TaskFile a task file and its name
 */

/** Where an app declares its settings, services and API info; optional. */
export const APP_MODULE = 'shared/app.ts';

/** Task names the runtime's own tasks use (runtime/purge): an app's tasks/runtime/ would clash with them. */
const RESERVED_TASK_FOLDER = 'runtime';

/**
 * Lists the routes under `<root>/handlers` and the tasks under `<root>/tasks`, sorted, skipping tests
 * and `_`-prefixed helpers, and finds the app module. Throws a DiscoveryError naming each file that does
 * not parse and each pair of files that claim one route.
 * @param {string} root
 * @returns {Promise<{ routes: RouteFile[], tasks: TaskFile[], appModule: string | undefined }>}
 */
export async function discover(root) {
  /** @type {string[]} */
  const problems = [];
  /** @type {RouteFile[]} */
  const routes = [];
  for (const file of await listSources(root, 'handlers', problems)) {
    const route = routeOf(file);
    if (typeof route === 'string') problems.push(route);
    else routes.push({ ...route, file, absolute: path.join(root, file) });
  }
  /** @type {TaskFile[]} */
  const tasks = [];
  for (const file of await listSources(root, 'tasks', problems)) {
    const name = taskNameOf(file);
    if (name.startsWith('!')) problems.push(name.slice(1));
    else tasks.push({ name, file, absolute: path.join(root, file) });
  }
  problems.push(...clashes(routes));
  if (problems.length > 0) throw new DiscoveryError(problems);
  routes.sort(compareRoutes);
  tasks.sort((a, b) => compare(a.name, b.name));
  const appModule = path.join(root, APP_MODULE);
  const hasApp = await access(appModule).then(
    () => true,
    () => false,
  );
  return { routes, tasks, appModule: hasApp ? appModule : undefined };
}

/**
 * The method and Hono path a handler file serves, or a message saying why its name does not parse.
 * `handlers/notes/[id].get.ts` is `GET /notes/:id`; `index.get.ts` serves its folder's path.
 * @param {string} file a path relative to the root, starting with `handlers/`
 * @returns {{ method: string, path: string } | string}
 */
export function routeOf(file) {
  const parts = file.split('/').slice(1);
  const base = /** @type {string} */ (parts.pop());
  const match = /^(.+)\.([a-z]+)\.ts$/.exec(base);
  if (!match) {
    return `${file}: a handler file is named <name>.<method>.ts, e.g. index.get.ts or [id].patch.ts`;
  }
  const [, name, method] = /** @type {[string, string, string]} */ (/** @type {unknown} */ (match));
  if (!METHODS.includes(method)) {
    return `${file}: "${method}" is not an HTTP method; use one of ${METHODS.join(', ')}`;
  }
  const segments = name === 'index' ? parts : [...parts, name];
  const out = [];
  for (const [index, segment] of segments.entries()) {
    const param = PARAM_SEGMENT.exec(segment);
    const rest = REST_SEGMENT.exec(segment);
    if (param) out.push(`:${param[1]}`);
    else if (rest && index === segments.length - 1) out.push(`:${rest[1]}{.+}`);
    else if (rest) return `${file}: a catch-all [...${rest[1]}] must be the last part of the path`;
    else if (STATIC_SEGMENT.test(segment)) out.push(segment);
    else {
      return `${file}: "${segment}" is not a valid path part; use lowercase letters, digits, - . _ ~, or [param]`;
    }
  }
  return { method: method.toUpperCase(), path: `/${out.join('/')}` };
}

/**
 * A task's name is its path under tasks/ without `.ts`; a name that does not parse comes back prefixed with `!`.
 * @param {string} file
 */
export function taskNameOf(file) {
  const name = file.replace(/^tasks\//, '').replace(/\.ts$/, '');
  if (!file.endsWith('.ts') || !name.split('/').every((part) => TASK_SEGMENT.test(part))) {
    return `!${file}: a task file is named in kebab-case, e.g. tasks/send-welcome-email.ts (lowercase letters, digits, -)`;
  }
  if (name.split('/')[0] === RESERVED_TASK_FOLDER && name.includes('/')) {
    return `!${file}: tasks/${RESERVED_TASK_FOLDER}/ is where the runtime's own tasks are named; move the file to another folder`;
  }
  return name;
}

/**
 * Code-unit order, for everything the build sorts: localeCompare would follow the machine's locale (under cs_CZ "/chat" sorts after "/help"),
 * and the build's output must not depend on where it runs.
 * @param {string} a
 * @param {string} b
 */
export function compare(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** @param {RouteFile[]} routes */
function clashes(routes) {
  const seen = new Map();
  const problems = [];
  for (const route of routes) {
    const key = `${route.method} ${route.path.replace(/:[A-Za-z0-9_]+(\{[^}]*\})?/g, ':')}`;
    const first = seen.get(key);
    if (first)
      problems.push(
        `${first.file} and ${route.file} both claim ${route.method} ${route.path}; remove or rename one`,
      );
    else seen.set(key, route);
  }
  return problems;
}

/**
 * Source files under one folder, relative to root with `/` separators, skipping tests, `_` helpers and
 * non-code files; other code file types are reported, since they would silently be left out.
 * @param {string} root
 * @param {string} folder
 * @param {string[]} problems
 */
async function listSources(root, folder, problems) {
  /** @type {import('node:fs').Dirent[]} */
  let entries;
  try {
    entries = await readdir(path.join(root, folder), { recursive: true, withFileTypes: true });
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code === 'ENOENT') return [];
    throw error;
  }
  const files = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const relative = path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
    if (relative.split('/').some((part) => part.startsWith('_'))) continue;
    if (TEST_FILE.test(entry.name) || entry.name.endsWith('.d.ts')) continue;
    if (entry.name.endsWith('.ts')) files.push(relative);
    else if (CODE_EXTENSIONS.test(entry.name)) {
      problems.push(
        `${relative}: only .ts files are handlers or tasks; rename it to .ts or prefix it with _`,
      );
    }
  }
  return files.sort();
}
