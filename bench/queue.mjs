import { once } from 'node:events';
import path from 'node:path';
import {
  bundle,
  count,
  machine,
  projectRoot,
  ratio,
  runBench,
  setting,
  startNode,
  startStores,
  table,
  tail,
} from './support.mjs';

// Job throughput of our queue path against raw bee-queue, on the same Redis in the same run. Each side runs in
// a fresh process: it enqueues BENCH_JOBS jobs with BENCH_IN_FLIGHT saves in flight, then processes them with
// a no-op task at BENCH_CONCURRENCY. Rounds alternate which side goes first.
const jobs = setting('BENCH_JOBS', 5_000);
const inFlight = setting('BENCH_IN_FLIGHT', 50);
const concurrency = setting('BENCH_CONCURRENCY', 10);
const rounds = setting('BENCH_ROUNDS', 2);
const logLevel = process.env.BENCH_LOG_LEVEL || 'info';
const sideLimitMs = 60_000 + jobs * 10;

/** @typedef {{ enqueuePerSecond: number, processPerSecond: number }} SideResult */

await runBench(rounds * 2 * sideLimitMs + 120_000, async (tmp) => {
  console.log(`Machine: ${machine()}`);
  console.log(
    `Load: ${count(jobs)} jobs per side and round, ${inFlight} enqueues in flight, worker concurrency ${concurrency}, ${rounds} rounds`,
  );
  const stores = await startStores(tmp, { scratch: true });
  console.log(`Stores: ${stores.where}`);
  // Our side imports shared/, which is TypeScript: bundled like the app's bundles, with esbuild.
  const ours = await bundle('bench/queue-ours.ts', path.join(tmp, 'queue-ours.mjs'));
  const raw = path.join(projectRoot, 'bench/queue-raw.mjs');
  console.log(
    `Ours: composeRuntime + startWorker from shared/runtime/ (bench/queue-ours.ts, bundled), LOG_LEVEL=${logLevel} (a JSON line per job to a file)`,
  );
  console.log('Baseline: raw bee-queue, Queue#createJob().save() and Queue#process (bench/queue-raw.mjs)\n');

  /** @type {Record<'ours' | 'raw', SideResult[]>} */
  const results = { ours: [], raw: [] };
  for (let round = 0; round < rounds; round++) {
    /** @type {('ours' | 'raw')[]} */
    const order = round % 2 === 0 ? ['ours', 'raw'] : ['raw', 'ours'];
    for (const side of order) {
      const env = {
        ...stores.env,
        RD_PREFIX: `${stores.env.RD_PREFIX}-${round}-${side}`,
        LOG_LEVEL: logLevel,
        MIGRATIONS_DIR: path.join(projectRoot, 'sql'),
        BENCH_JOBS: String(jobs),
        BENCH_IN_FLIGHT: String(inFlight),
        BENCH_CONCURRENCY: String(concurrency),
      };
      results[side].push(await runSide(tmp, `${side}-${round}`, side === 'ours' ? ours : raw, env));
    }
  }

  const mean = (/** @type {SideResult[]} */ list, /** @type {keyof SideResult} */ key) =>
    list.reduce((total, result) => total + result[key], 0) / list.length;
  const [enqueueOurs, enqueueRaw] = [
    mean(results.ours, 'enqueuePerSecond'),
    mean(results.raw, 'enqueuePerSecond'),
  ];
  const [processOurs, processRaw] = [
    mean(results.ours, 'processPerSecond'),
    mean(results.raw, 'processPerSecond'),
  ];
  console.log(
    table([
      ['side', 'enqueue jobs/s', 'process jobs/s'],
      ['handler-kit', count(enqueueOurs), count(processOurs)],
      ['raw bee-queue', count(enqueueRaw), count(processRaw)],
      ['ours / raw', ratio(enqueueOurs, enqueueRaw), ratio(processOurs, processRaw)],
    ]),
  );
  console.log('\nHigher is better; each figure is the mean of the rounds.');
});

/**
 * Forks one side and waits for its result, killing it if it takes longer than the side's limit.
 * @param {string} tmp
 * @param {string} name
 * @param {string} script
 * @param {Record<string, string>} env
 * @returns {Promise<SideResult>}
 */
async function runSide(tmp, name, script, env) {
  const started = startNode(tmp, name, script, { env, ipc: true });
  const timer = setTimeout(() => started.child.kill('SIGKILL'), sideLimitMs);
  try {
    const message = once(started.child, 'message');
    const [result] = await Promise.race([message, started.exited.then(() => [undefined])]);
    if (!result) {
      throw new Error(
        `${name} ended without a result (exit ${started.child.exitCode ?? started.child.signalCode}). Output:\n${tail(started.logFile)}`,
      );
    }
    await started.exited;
    return /** @type {SideResult} */ (result);
  } finally {
    clearTimeout(timer);
    await started.stop();
  }
}
