import { once } from 'node:events';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { runtimePlugins } from '#shared/build/plugins.mjs';
import { median } from './proc.mjs';
import { projectRoot, startNode, tail } from './support.mjs';

// The worker part: ours (the composed runtime's enqueue and startWorker) against raw bee-queue, on the same
// Redis in the same run. Each side runs in a fresh process per round (see bench/jobs.mjs for what it does),
// and rounds alternate which side goes first. Figures are the medians of the rounds.

/**
 * @typedef {{ enqueuePerSecond: number, drainPerSecond: number, latencyP50Ms: number, latencyP99Ms: number }} SideResult
 * @typedef {{ id: 'ours' | 'raw', label: string, rounds: SideResult[], median: SideResult }} QueueSide
 */

/**
 * @param {string} tmp
 * @param {import('./settings.mjs').BenchSettings} settings
 * @param {{ env: import('./support.mjs').StoreEnv }} stores
 * @param {string} oursRoot the checkout whose runtime is ours (this one unless BENCH_OURS)
 * @returns {Promise<{ jobs: number, concurrency: number, inFlight: number, latencyRate: number, latencySeconds: number, sides: QueueSide[] }>}
 */
export async function measureQueue(tmp, settings, stores, oursRoot) {
  const scripts = {
    ours: await bundleOurs(oursRoot, path.join(tmp, 'queue-ours.mjs')),
    raw: path.join(projectRoot, 'bench/queue-raw.mjs'),
  };
  /** @type {Record<'ours' | 'raw', SideResult[]>} */
  const rounds = { ours: [], raw: [] };
  const sideLimitMs = 60_000 + settings.jobs * 10 + settings.latencySeconds * 2_000;
  for (let round = 0; round < settings.rounds; round++) {
    /** @type {('ours' | 'raw')[]} */
    const order = round % 2 === 0 ? ['ours', 'raw'] : ['raw', 'ours'];
    for (const side of order) {
      const env = {
        ...stores.env,
        RD_PREFIX: `${stores.env.RD_PREFIX}-${round}-${side}`,
        LOG_LEVEL: 'info',
        MIGRATIONS_DIR: path.join(oursRoot, 'sql'),
        BENCH_JOBS: String(settings.jobs),
        BENCH_IN_FLIGHT: String(settings.inFlight),
        BENCH_CONCURRENCY: String(settings.concurrency),
        BENCH_LATENCY_RATE: String(settings.latencyRate),
        BENCH_LATENCY_SECONDS: String(settings.latencySeconds),
      };
      const result = await runSide(tmp, `queue-${side}-${round}`, scripts[side], env, sideLimitMs);
      rounds[side].push(result);
      console.log(
        `  queue round ${round + 1} ${side}: enqueue ${Math.round(result.enqueuePerSecond)}/s, drain ${Math.round(result.drainPerSecond)}/s, enqueue→start p99 ${result.latencyP99Ms.toFixed(2)} ms`,
      );
    }
  }
  const labels = {
    ours: 'handler-kit (enqueue + startWorker), LOG_LEVEL=info',
    raw: 'raw bee-queue (createJob().save() + process)',
  };
  return {
    jobs: settings.jobs,
    concurrency: settings.concurrency,
    inFlight: settings.inFlight,
    latencyRate: settings.latencyRate,
    latencySeconds: settings.latencySeconds,
    sides: /** @type {const} */ (['ours', 'raw']).map((id) => ({
      id,
      label: labels[id],
      rounds: rounds[id],
      median: {
        enqueuePerSecond: median(rounds[id].map((r) => r.enqueuePerSecond)),
        drainPerSecond: median(rounds[id].map((r) => r.drainPerSecond)),
        latencyP50Ms: median(rounds[id].map((r) => r.latencyP50Ms)),
        latencyP99Ms: median(rounds[id].map((r) => r.latencyP99Ms)),
      },
    })),
  };
}

/**
 * bench/queue-ours.ts bundled as the worker bundle is made, its `#runtime/` imports taken from `root`.
 * @param {string} root
 * @param {string} outfile
 */
async function bundleOurs(root, outfile) {
  /** @type {import('esbuild').Plugin} */
  const runtimeOf = {
    name: 'runtime-of-checkout',
    setup(build) {
      build.onResolve({ filter: /^#runtime\// }, (args) => ({
        path: path.join(root, 'shared/runtime', args.path.slice('#runtime/'.length)),
      }));
    },
  };
  await esbuild.build({
    entryPoints: [path.join(projectRoot, 'bench/queue-ours.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    logLevel: 'silent',
    nodePaths: [path.join(root, 'node_modules')],
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    plugins: [runtimeOf, ...runtimePlugins()],
  });
  return outfile;
}

/**
 * Forks one side and waits for its result, killing it if it takes longer than `limitMs`.
 * @param {string} tmp @param {string} name @param {string} script @param {Record<string, string>} env
 * @param {number} limitMs
 * @returns {Promise<SideResult>}
 */
async function runSide(tmp, name, script, env, limitMs) {
  const started = startNode(tmp, name, script, { env, ipc: true });
  const timer = setTimeout(() => started.child.kill('SIGKILL'), limitMs);
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
