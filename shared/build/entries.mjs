import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The entry modules the build bundles, generated from what discovery found: nothing generated is committed.
 * @typedef {import('./discovery.mjs').RouteFile} RouteFile
 * @typedef {import('./discovery.mjs').TaskFile} TaskFile
 */

const runtime = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'runtime');

/**
 * The app module's default export as `app`, or an app that adds nothing when there is none.
 * @param {string | undefined} appModule
 */
export function appImport(appModule) {
  return appModule ? `import app from ${JSON.stringify(appModule)};` : 'const app = {};';
}

/**
 * @param {string | undefined} appModule
 * @param {RouteFile[]} routes
 * @param {object} openapi
 */
export function httpEntry(appModule, routes, openapi) {
  return [
    `import { main } from ${JSON.stringify(path.join(runtime, 'http/main.ts'))};`,
    appImport(appModule),
    ...routes.map((route, i) => `import h${i} from ${JSON.stringify(route.absolute)};`),
    'main({ app, routes: [',
    ...routes.map(
      (route, i) =>
        `  { method: ${JSON.stringify(route.method)}, path: ${JSON.stringify(route.path)}, file: ${JSON.stringify(route.file)}, definition: h${i} },`,
    ),
    // The document as JSON text: scanning one string literal and JSON.parse of it cost a start far less than
    // compiling and running an object literal of thousands of objects.
    `], openapiJson: ${JSON.stringify(JSON.stringify(openapi))} });`,
  ].join('\n');
}

/**
 * @param {string | undefined} appModule
 * @param {TaskFile[]} tasks
 */
export function workerEntry(appModule, tasks) {
  return [
    `import { main } from ${JSON.stringify(path.join(runtime, 'jobs/main.ts'))};`,
    appImport(appModule),
    ...tasks.map((task, i) => `import t${i} from ${JSON.stringify(task.absolute)};`),
    `main({ app, tasks: [${tasks.map((task, i) => `{ name: ${JSON.stringify(task.name)}, definition: t${i} }`).join(', ')}] });`,
  ].join('\n');
}
