import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import postgres from 'postgres';
import { devLog } from './dev-processes.mjs';
import { DiscoveryError } from './discovery.mjs';

/**
 * Creates the database `.env` names when its server has none by that name, so that a fresh PostgreSQL works
 * as copied from .env.example. When the server cannot be reached, says so and goes on: the HTTP process then
 * prints its own error and the loop keeps watching.
 * @param {NodeJS.ProcessEnv} env
 */
export async function ensureDatabase(env) {
  const { PG_HOST: host, POSTGRES_DB: database, POSTGRES_USER: user } = env;
  // Without them the HTTP process names what is missing, in the configuration's own words.
  if (!host || !database || !user) return;
  const port = Number(env.PG_PORT || 5432);
  const sql = postgres({
    host,
    port,
    user,
    password: env.POSTGRES_PASSWORD || undefined,
    database: 'postgres',
    max: 1,
    connect_timeout: 5,
    onnotice: () => {},
  });
  try {
    const rows = await sql`select 1 from pg_database where datname = ${database}`;
    if (rows.length === 0) {
      await sql`create database ${sql(database)}`;
      devLog(`created the database ${database} on ${host}:${port}`);
    }
  } catch (error) {
    devLog(
      `cannot check the database ${database} on ${host}:${port} as ${user} (${error instanceof Error ? error.message : error}): set PG_HOST, PG_PORT, POSTGRES_USER and POSTGRES_PASSWORD in .env to a server you can reach`,
    );
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * Prints why a build failed (esbuild's messages already name the file, line and column), and that the
 * processes from the last good build keep serving.
 * @param {unknown} error
 * @param {string[]} files what changed since the last build
 */
export function printBuildError(error, files) {
  const text =
    error instanceof DiscoveryError || isEsbuildFailure(error)
      ? error.message
      : error instanceof Error
        ? (error.stack ?? error.message)
        : String(error);
  process.stderr.write(`${text}\n`);
  devLog(
    `build failed${files.length > 0 ? ` after a change to ${files.join(', ')}` : ''}; the last good processes keep serving. Fix the error and save.`,
  );
}

/** @param {unknown} error @returns {error is Error} */
function isEsbuildFailure(error) {
  return error instanceof Error && Array.isArray(/** @type {{ errors?: unknown }} */ (error).errors);
}

/**
 * Loads the describe bundle in a worker thread, which goes away after: the dev process itself never imports
 * app code, so a long session does not pile up one module graph per save.
 * @param {string} file
 * @returns {Promise<import('./describe.ts').AppDescription>}
 */
export function describeInWorker(file) {
  const source = `const { parentPort, workerData } = require('node:worker_threads');
import(workerData).then((m) => parentPort.postMessage(m.default));`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(source, { eval: true, workerData: pathToFileURL(file).href });
    worker.once('message', (description) => {
      resolve(description);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new Error(`the describe step stopped (code ${code}) before it described the app`)),
    );
  });
}
