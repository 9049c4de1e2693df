import path from 'node:path';
import autocannon from 'autocannon';
import { build } from '../build.mjs';
import {
  count,
  freePort,
  HOST,
  machine,
  projectRoot,
  ratio,
  runBench,
  setting,
  startNode,
  startStores,
  table,
  waitUntilServing,
} from './support.mjs';

// HTTP throughput and latency of our built app against bare Hono, measured in the same run on this machine.
// Each scenario runs ABBA (ours, Hono, Hono, ours), half of BENCH_SECONDS at a time, so that neither side
// always gets the warmer or the cooler machine.
const seconds = setting('BENCH_SECONDS', 10);
const connections = setting('BENCH_CONNECTIONS', 50);
const warmupSeconds = Math.max(1, Math.round(seconds / 5));
const logLevel = process.env.BENCH_LOG_LEVEL || 'info';

/** @typedef {{ name: string, method: 'GET' | 'POST', path: string, body?: string }} Scenario */
/** @type {Scenario[]} */
const scenarios = [
  { name: 'GET / (small JSON)', method: 'GET', path: '/' },
  { name: 'POST /items (valibot body)', method: 'POST', path: '/items', body: '{"name":"widget","qty":3}' },
];

const limitMs = (scenarios.length * 2 * (seconds + warmupSeconds) + 120) * 1000;
await runBench(limitMs, async (tmp) => {
  console.log(`Machine: ${machine()}`);
  console.log(
    `Load: autocannon, ${connections} connections, ${seconds} s per server and scenario (after ${warmupSeconds} s of warm-up), on ${HOST}`,
  );
  const dist = path.join(tmp, 'dist');
  await build({ root: path.join(projectRoot, 'bench/fixture'), outdir: dist, quiet: true });
  const stores = await startStores(tmp);
  console.log(`Stores: ${stores.where}`);
  console.log(
    `Ours: node dist/http.mjs of bench/fixture, LOG_LEVEL=${logLevel} (a JSON line per request to a file)`,
  );
  console.log('Baseline: bench/hono-baseline.mjs, bare Hono on @hono/node-server with the same two routes\n');

  const [oursPort, honoPort] = [await freePort(tmp), await freePort(tmp)];
  const ours = startNode(tmp, 'ours', path.join(dist, 'http.mjs'), {
    env: {
      ...stores.env,
      LOG_LEVEL: logLevel,
      AP_HOST: HOST,
      AP_PORT: String(oursPort),
      MIGRATE_ON_START: 'false',
      KEYS_DIR: path.join(tmp, 'keys'),
    },
  });
  const hono = startNode(tmp, 'hono', path.join(projectRoot, 'bench/hono-baseline.mjs'), {
    args: [String(honoPort)],
  });
  await waitUntilServing(ours, `http://${HOST}:${oursPort}/readyz`);
  await waitUntilServing(hono, `http://${HOST}:${honoPort}/`);
  const servers = { ours: `http://${HOST}:${oursPort}`, hono: `http://${HOST}:${honoPort}` };

  for (const scenario of scenarios) {
    await load(servers.ours, scenario, warmupSeconds);
    await load(servers.hono, scenario, warmupSeconds);
  }
  const rows = [['scenario', 'server', 'requests/s', 'p50 ms', 'p99 ms']];
  for (const scenario of scenarios) {
    const halves = { ours: /** @type {Run[]} */ ([]), hono: /** @type {Run[]} */ ([]) };
    for (const side of /** @type {const} */ (['ours', 'hono', 'hono', 'ours'])) {
      halves[side].push(await load(servers[side], scenario, seconds / 2));
    }
    const [a, b] = [combine(halves.ours), combine(halves.hono)];
    rows.push(
      [scenario.name, 'handler-kit', count(a.rps), a.p50.toFixed(1), a.p99.toFixed(1)],
      ['', 'bare Hono', count(b.rps), b.p50.toFixed(1), b.p99.toFixed(1)],
      ['', 'ours / Hono', ratio(a.rps, b.rps), ratio(a.p50, b.p50), ratio(a.p99, b.p99)],
    );
  }
  console.log(table(rows));
  console.log(
    '\nrequests/s: higher is better; latency: lower is better. p50 and p99 are the mean of the two halves.',
  );
});

/** @typedef {{ requests: number, seconds: number, p50: number, p99: number }} Run */

/**
 * Drives one server for `duration` seconds; fails on any error, timeout or non-2xx answer, since those
 * would make the numbers meaningless.
 * @param {string} base
 * @param {Scenario} scenario
 * @param {number} duration
 * @returns {Promise<Run>}
 */
async function load(base, scenario, duration) {
  const result = await autocannon({
    url: `${base}${scenario.path}`,
    method: scenario.method,
    headers: scenario.body ? { 'content-type': 'application/json' } : {},
    body: scenario.body,
    connections,
    duration,
  });
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) {
    throw new Error(
      `${scenario.method} ${base}${scenario.path}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`,
    );
  }
  return {
    requests: result.requests.total,
    seconds: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

/** @param {Run[]} runs */
function combine(runs) {
  const sum = (/** @type {(run: Run) => number} */ pick) => runs.reduce((total, run) => total + pick(run), 0);
  return {
    rps: sum((run) => run.requests) / sum((run) => run.seconds),
    p50: sum((run) => run.p50) / runs.length,
    p99: sum((run) => run.p99) / runs.length,
  };
}
