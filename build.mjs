import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { routeTableLines } from '#runtime/http/route-table.mjs';
import { DiscoveryError, discover } from '#shared/build/discovery.mjs';
import { appImport, httpEntry, workerEntry } from '#shared/build/entries.mjs';
import { runtimePlugins, taskReferencePlugin } from '#shared/build/plugins.mjs';

const projectRoot = path.dirname(fileURLToPath(import.meta.url));
/** @param {string} file */
const shared = (file) => path.join(projectRoot, 'shared', file);

/**
 * @typedef {import('#shared/build/discovery.mjs').RouteFile} RouteFile
 * @typedef {import('#shared/build/discovery.mjs').TaskFile} TaskFile
 * @typedef {import('#shared/build/describe.ts').AppDescription} AppDescription
 */

/** The esbuild options every bundle shares (the dev loop's too). @type {import('esbuild').BuildOptions} */
export const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  metafile: true,
  // No keepNames: it names every function at run time (Object.defineProperty per closure), and Hono makes about
  // fifteen closures a request. Identifiers are not minified instead (see the bundles below), so that class
  // names, which the logs print as err.type, stay what the source calls them at no run-time cost.
  logLevel: 'silent',
  // CommonJS dependencies (pino, bee-queue, ioredis) call require(); ESM output has none without this.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
};

/**
 * Builds an app root (its handlers/ and tasks/) into `outdir`: dist/http.mjs, dist/worker.mjs, their source
 * maps and metafiles, dist/openapi.json with its TypeScript types for clients (dist/openapi.d.ts), and the docs
 * page's assets. Throws DiscoveryError listing every file that cannot become a route or task.
 * @param {{ root?: string, outdir?: string, quiet?: boolean }} [options]
 */
export async function build({ root: rootOption = projectRoot, outdir, quiet = false } = {}) {
  // openapi-typescript takes seconds to load (it brings the TypeScript compiler): loading it while esbuild
  // bundles in its own process keeps the build about as fast as without it.
  const typesGenerator = import('openapi-typescript');
  typesGenerator.catch(() => {});
  const root = path.resolve(rootOption);
  outdir = path.resolve(outdir ?? path.join(root, 'dist'));
  const { routes, tasks, appModule } = await discover(root);
  const description = await describe(root, appModule, routes, tasks);
  if (description.problems.length > 0) throw new DiscoveryError(description.problems);

  await rm(outdir, { recursive: true, force: true });
  await mkdir(path.join(outdir, 'docs'), { recursive: true });
  const policies = new Map(description.tasks.map((task) => [task.name, task.policy]));
  /** @type {(name: string, contents: string, plugins: import('esbuild').Plugin[]) => Promise<import('esbuild').BuildResult<{ metafile: true }>>} */
  const bundle = (name, contents, plugins) =>
    esbuild.build({
      ...common,
      stdin: { contents, resolveDir: root, sourcefile: `${name}-entry.ts`, loader: 'ts' },
      outfile: path.join(outdir, `${name}.mjs`),
      minifyWhitespace: true,
      minifySyntax: true,
      sourcemap: true,
      // Stack traces name source files and lines (the mains turn source maps on); the sources stay out.
      sourcesContent: false,
      plugins,
    });
  const [http, worker] = await Promise.all([
    bundle('http', httpEntry(appModule, routes, description.openapi), [
      taskReferencePlugin(tasks, policies, shared('runtime/jobs/task.ts')),
      ...runtimePlugins(),
    ]),
    bundle('worker', workerEntry(appModule, tasks), runtimePlugins()),
  ]);

  const swaggerUi = swaggerUiDir();
  await Promise.all([
    writeFile(path.join(outdir, 'openapi.json'), `${JSON.stringify(description.openapi, null, 2)}\n`),
    writeFile(path.join(outdir, 'openapi.d.ts'), await openApiTypes(description.openapi, typesGenerator)),
    writeFile(path.join(outdir, 'http.meta.json'), JSON.stringify(http.metafile)),
    writeFile(path.join(outdir, 'worker.meta.json'), JSON.stringify(worker.metafile)),
    ...['swagger-ui-bundle.js', 'swagger-ui.css'].map((file) =>
      cp(path.join(swaggerUi, file), path.join(outdir, 'docs', file)),
    ),
  ]);
  if (!quiet) printSummary(routes, description.tasks, outdir, { http, worker });
  return {
    routes,
    tasks: description.tasks,
    outdir,
    metafiles: { http: http.metafile, worker: worker.metafile },
  };
}

/**
 * The TypeScript types of an OpenAPI document (`paths`, `components`, `operations`), as openapi-fetch and other
 * clients take them. Written from the document itself, so that they say exactly what it says.
 * @param {Record<string, unknown>} document
 * @param {Promise<typeof import('openapi-typescript')>} [generator]
 */
export async function openApiTypes(document, generator = import('openapi-typescript')) {
  const { default: openapiTS, astToString } = await generator;
  const ast = await openapiTS(/** @type {never} */ (document), { silent: true });
  return `// Generated by build.mjs from openapi.json (openapi-typescript); do not edit.\n${astToString(ast)}`;
}

/** The swagger-ui-dist package folder, whose files the docs page serves (copied into dist/docs/). */
export function swaggerUiDir() {
  return path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

/**
 * Loads the app module and every handler and task once, in a throwaway bundle, to check their exports and
 * describe the app. The API's title and version default to the app's package.json.
 * @param {string} root
 * @param {string | undefined} appModule
 * @param {RouteFile[]} routes
 * @param {TaskFile[]} tasks
 * @returns {Promise<AppDescription>}
 */
async function describe(root, appModule, routes, tasks) {
  const contents = await describeSource(root, appModule, routes, tasks);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'describe-'));
  try {
    const outfile = path.join(dir, 'describe.mjs');
    await esbuild.build({
      ...common,
      stdin: { contents, resolveDir: root, sourcefile: 'describe-entry.ts', loader: 'ts' },
      outfile,
      plugins: runtimePlugins(),
    });
    return (await import(pathToFileURL(outfile).href)).default;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The entry of the describe step's bundle: every handler and task module, and the app module, handed to
 * describeApp. Its default export is the AppDescription.
 * @param {string} root
 * @param {string | undefined} appModule
 * @param {RouteFile[]} routes
 * @param {TaskFile[]} tasks
 */
export async function describeSource(root, appModule, routes, tasks) {
  const pkg = await readPackage(root);
  /** @type {(index: number, fields: object) => string} */
  const entry = (index, fields) => `{ ...${JSON.stringify(fields)}, module: m${index} }`;
  const files = [...routes, ...tasks].map((item) => item.absolute);
  return [
    `import { describeApp } from ${JSON.stringify(shared('build/describe.ts'))};`,
    appImport(appModule),
    ...files.map((file, i) => `import * as m${i} from ${JSON.stringify(file)};`),
    `export default describeApp({ app, package: ${JSON.stringify({ name: pkg.name, version: pkg.version, description: pkg.description })},`,
    `routes: [${routes.map(({ method, path, file }, i) => entry(i, { method, path, file })).join(', ')}],`,
    `tasks: [${tasks.map(({ name, file }, i) => entry(routes.length + i, { name, file })).join(', ')}] });`,
  ].join('\n');
}

/** @param {string} root */
async function readPackage(root) {
  try {
    return JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
  } catch {
    return JSON.parse(await readFile(path.join(projectRoot, 'package.json'), 'utf8'));
  }
}

/**
 * @param {RouteFile[]} routes
 * @param {AppDescription['tasks']} tasks
 * @param {string} outdir
 * @param {Record<string, { metafile: import('esbuild').Metafile }>} results
 */
function printSummary(routes, tasks, outdir, results) {
  const lines = ['Routes:', ...routeTableLines(routes)];
  lines.push('Tasks:');
  for (const task of tasks) {
    const schedule = task.schedule ? `  schedule "${task.schedule}"` : '';
    lines.push(
      `  ${task.name.padEnd(36)} retries ${task.policy.retries}, timeout ${task.policy.timeoutMs} ms, concurrency ${task.concurrency}${schedule}`,
    );
  }
  if (tasks.length === 0) lines.push('  (none: add a file under tasks/)');
  lines.push('Bundles:');
  for (const [name, result] of Object.entries(results)) {
    const output = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith('.mjs'));
    lines.push(
      `  ${path.relative(process.cwd(), path.join(outdir, `${name}.mjs`))}  ${output?.[1].bytes ?? '?'} bytes`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  build().catch((error) => {
    process.stderr.write(`${error instanceof DiscoveryError ? error.message : error.stack}\n`);
    process.exit(1);
  });
}
