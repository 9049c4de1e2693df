import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { build } from '../build.mjs';
import {
  freePort,
  HOST,
  hasTaskset,
  machine,
  projectRoot,
  runBench,
  setting,
  startNode,
  startStores,
  table,
  tail,
  waitUntilServing,
} from './support.mjs';

// `npm run bench:hostile`: the reference app with its default limits, under CLIENTS hostile clients sending
// the requests of the hardening issue's items 1 to 3, while a probe asks /healthz every 25 ms, as a load
// balancer would. The figure is /healthz's p99 beside the same probe on the idle server, in the same run.
const seconds = setting('BENCH_SECONDS', 20);
const clients = setting('BENCH_CLIENTS', 16);
const roundsCount = setting('BENCH_ROUNDS', 3);
const SERVER_CPU = 0;
const LOAD_CPU = 1;

await runBench((roundsCount * (seconds + 10) + 180) * 1000, async (tmp) => {
  console.log(`Machine: ${machine()}`);
  const dist = path.join(tmp, 'dist');
  await build({ root: projectRoot, outdir: dist, quiet: true });
  const stores = await startStores(tmp, { scratch: true });
  const port = await freePort(tmp);
  const env = {
    ...stores.env,
    AP_HOST: HOST,
    AP_PORT: String(port),
    LOG_LEVEL: 'warn',
    MIGRATIONS_DIR: path.join(projectRoot, 'sql'),
    KEYS_DIR: path.join(tmp, 'keys'),
    HTTP_METRICS_PORT: String(await freePort(tmp)),
    WORKER_METRICS_PORT: String(await freePort(tmp)),
    WORKER_HEARTBEAT_FILE: path.join(tmp, 'heartbeat.json'),
  };
  const http = startNode(tmp, 'http', path.join(dist, 'http.mjs'), { env, cpu: SERVER_CPU });
  const worker = startNode(tmp, 'worker', path.join(dist, 'worker.mjs'), { env, cpu: LOAD_CPU });
  const base = `http://${HOST}:${port}`;
  await waitUntilServing(http, `${base}/readyz`, 60_000);
  console.log(
    `Stores: ${stores.where}; server on core ${SERVER_CPU}, clients and probe on core ${LOAD_CPU}` +
      `${hasTaskset() ? '' : ' (no taskset here: not pinned)'}`,
  );

  const { token, download } = await seed(base);
  /** @type {{ idle: ProbeResult, underAttack: ProbeResult }[]} */
  const rounds = [];
  for (let round = 1; round <= roundsCount; round++) {
    const idle = await probe(tmp, base, 5, `probe-idle-${round}`);
    const cpuBefore = cpuSeconds(http.child.pid);
    const [attack, underAttack] = await Promise.all([
      runNode(tmp, `clients-${round}`, 'bench/hostile-clients.mjs', {
        BASE: base,
        TOKEN: token,
        DOWNLOAD: download,
        CLIENTS: String(clients),
        SECONDS: String(seconds),
        ONLY: process.env.BENCH_ONLY ?? '',
      }),
      probe(tmp, base, seconds, `probe-attack-${round}`),
    ]);
    const cpu = cpuSeconds(http.child.pid) - cpuBefore;
    console.log(
      `Round ${round}: answers by status ${JSON.stringify(attack)}; HTTP process CPU ${cpu.toFixed(1)} s`,
    );
    rounds.push({ idle, underAttack });
  }
  const median = (/** @type {number[]} */ values) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const rows = [
    ['/healthz, probed every 25 ms', 'round', 'answered', 'failed', 'p50 ms', 'p99 ms', 'max ms'],
  ];
  for (const [index, { idle, underAttack }] of rounds.entries()) {
    rows.push(['idle server', String(index + 1), ...row(idle)]);
    rows.push([`${clients} hostile clients`, String(index + 1), ...row(underAttack)]);
  }
  console.log(`\n${table(rows)}`);
  const p99 = (/** @type {'idle' | 'underAttack'} */ side) =>
    median(rounds.map((result) => result[side].p99));
  console.log(
    `\nMedian /healthz p99: idle ${p99('idle')} ms, under ${clients} hostile clients ${p99('underAttack')} ms.`,
  );
  await worker.stop();
  if (http.child.exitCode !== null) throw new Error(`the HTTP process died:\n${tail(http.logFile)}`);
});

/** A user, the largest notes the defaults allow, and one finished export to download. @param {string} base */
async function seed(base) {
  const json = { 'content-type': 'application/json' };
  const email = `bench-${Date.now()}@example.test`;
  const password = 'a long enough password';
  await fetch(`${base}/auth/register`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ email, password }),
  });
  const login = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ email, password }),
  });
  const { accessToken } = /** @type {{ accessToken: string }} */ (await login.json());
  const auth = { ...json, authorization: `Bearer ${accessToken}` };
  // Control characters take six bytes each as JSON: the most a note may weigh in a page or an export.
  let size = 21_000;
  for (let created = 0; created < 100; ) {
    const body = JSON.stringify({ title: 'heavy', body: '\u0001'.repeat(size) });
    const answer = await fetch(`${base}/notes`, { method: 'POST', headers: auth, body });
    if (answer.status === 413) size -= 500;
    else if (answer.status === 201) created += 1;
    else throw new Error(`seeding a note answered ${answer.status}: ${await answer.text()}`);
  }
  const started = await fetch(`${base}/notes/exports`, {
    method: 'POST',
    headers: auth,
    body: '{"format":"ndjson"}',
  });
  const job = started.headers.get('location') ?? '';
  for (let tries = 0; tries < 300; tries++) {
    const status = /** @type {{ status: string, result?: { url: string } }} */ (
      await (await fetch(`${base}${job}`, { headers: auth })).json()
    );
    if (status.status === 'succeeded' && status.result)
      return { token: accessToken, download: status.result.url };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the seed export did not finish in 60 s');
}

/** @param {string} tmp @param {string} base @param {number} duration @param {string} name */
function probe(tmp, base, duration, name) {
  return runNode(tmp, name, 'bench/healthz-probe.mjs', {
    URL: `${base}/healthz`,
    SECONDS: String(duration),
    INTERVAL_MS: '25',
  });
}

/**
 * Runs a bench script on the load core and resolves with the JSON line it printed last.
 * @param {string} tmp @param {string} name @param {string} script @param {Record<string, string>} env
 */
async function runNode(tmp, name, script, env) {
  const started = startNode(tmp, name, path.join(projectRoot, script), { env, cpu: LOAD_CPU });
  await started.exited;
  const last = readFileSync(started.logFile, 'utf8').trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`${script} printed no result:\n${tail(started.logFile)}`);
  }
}

/** @typedef {{ answered: number, failures: number, p50: number, p99: number, max: number }} ProbeResult */

/** @param {ProbeResult} result */
function row(result) {
  return [
    String(result.answered),
    String(result.failures),
    String(result.p50),
    String(result.p99),
    String(result.max),
  ];
}

/** User and system CPU seconds of a process so far, from /proc. @param {number | undefined} pid */
function cpuSeconds(pid) {
  const ticks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / ticks;
}
