import { existsSync } from 'node:fs';
import path from 'node:path';
import { hasTaskset, projectRoot } from './support.mjs';

// The settings of one `npm run bench`, read once from BENCH_* variables. The bench is a development tool, not
// part of the runtime, so it reads its own variables here rather than through shared/runtime/config.ts.

/** The core the measured server runs on, and the one the load generator (and probes) run on. */
export const SERVER_CPU = 0;
export const LOAD_CPU = 1;

const SECTIONS = ['http', 'queue', 'startup'];

/**
 * @typedef {{ quick: boolean, seconds: number, warmupSeconds: number, rounds: number, connections: number,
 *   jobs: number, concurrency: number, inFlight: number, latencyRate: number, latencySeconds: number,
 *   soakSeconds: number, coldStarts: number, loadGenerator: 'wrk' | 'autocannon', pinned: boolean,
 *   oursDir: string | undefined, sections: string[], out: string }} BenchSettings
 */

/** @param {Record<string, string | undefined>} env @returns {BenchSettings} */
export function readSettings(env = process.env) {
  const quick = flag(env, 'BENCH_QUICK');
  const number = (/** @type {string} */ name, /** @type {number} */ normal, /** @type {number} */ short) =>
    whole(env, name, quick ? short : normal);
  const seconds = number('BENCH_SECONDS', 8, 2);
  const rounds = number('BENCH_ROUNDS', 3, 3);
  if (rounds < 3)
    throw new Error(`BENCH_ROUNDS must be at least 3, so that a median means something (got ${rounds}).`);
  return {
    quick,
    seconds,
    warmupSeconds: Math.max(1, Math.round(seconds / 4)),
    rounds,
    connections: number('BENCH_CONNECTIONS', 50, 50),
    jobs: number('BENCH_JOBS', 20_000, 2_000),
    concurrency: number('BENCH_CONCURRENCY', 50, 50),
    inFlight: number('BENCH_IN_FLIGHT', 50, 50),
    latencyRate: number('BENCH_LATENCY_RATE', 500, 500),
    latencySeconds: number('BENCH_LATENCY_SECONDS', 8, 2),
    soakSeconds: number('BENCH_SOAK_SECONDS', 60, 4),
    coldStarts: number('BENCH_COLD_STARTS', 5, 3),
    loadGenerator: loadGenerator(env.BENCH_LOAD),
    pinned: hasTaskset(),
    oursDir: oursDir(env.BENCH_OURS),
    sections: sections(env.BENCH_ONLY),
    out: path.resolve(env.BENCH_OUT || path.join(projectRoot, 'bench/results.json')),
  };
}

/** @param {Record<string, string | undefined>} env @param {string} name */
function flag(env, name) {
  const raw = env[name] ?? '';
  if (['', '0', 'false'].includes(raw)) return false;
  if (['1', 'true'].includes(raw)) return true;
  throw new Error(`${name} must be 1 or 0 (got ${raw}).`);
}

/** @param {Record<string, string | undefined>} env @param {string} name @param {number} fallback */
function whole(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a whole number above 0 (got ${raw}); unset it for the default.`);
  return value;
}

/** wrk where installed (finer latencies, less CPU a request), autocannon otherwise. @param {string | undefined} raw */
function loadGenerator(raw) {
  if (raw === 'wrk' || raw === 'autocannon') return raw;
  if (raw) throw new Error(`BENCH_LOAD must be wrk or autocannon (got ${raw}).`);
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'wrk'))) return 'wrk';
  }
  return 'autocannon';
}

/** Another checkout whose built bundles stand in for ours (before/after figures). @param {string | undefined} raw */
function oursDir(raw) {
  if (!raw) return undefined;
  const dir = path.resolve(raw);
  const missing = [
    'dist/http.mjs',
    'dist/worker.mjs',
    'bench/fixture/handlers',
    'build.mjs',
    'node_modules',
  ].filter((file) => !existsSync(path.join(dir, file)));
  if (missing.length > 0) {
    throw new Error(
      `BENCH_OURS=${raw}: ${dir} lacks ${missing.join(', ')}. Point it at a checkout where \`npm ci && npm run build\` ran.`,
    );
  }
  return dir;
}

/** BENCH_ONLY=http,queue runs some sections; all by default. @param {string | undefined} raw */
function sections(raw) {
  if (!raw) return SECTIONS;
  const chosen = raw.split(',').map((part) => part.trim());
  const unknown = chosen.filter((part) => !SECTIONS.includes(part));
  if (unknown.length > 0)
    throw new Error(`BENCH_ONLY may name ${SECTIONS.join(', ')} (got ${unknown.join(', ')}).`);
  return chosen;
}
