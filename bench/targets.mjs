// The targets of the project's issue 10, each a ratio of two medians from one run against a bound. The bench
// evaluates them into results.json; bench/report.mjs renders what is stored there.

/**
 * @typedef {{ id: string, pair: string, better: 'higher' | 'lower', bound: number, ratio: number | null,
 *   ours: number | null, theirs: number | null, unit: string, met: boolean | null }} Target
 */

/** @type {{ id: string, pair: string, better: 'higher' | 'lower', bound: number, unit: string, pick: (r: any) => [number | undefined, number | undefined] }[]} */
const TARGETS = [
  {
    id: 'hello-vs-fastify',
    pair: 'hello throughput: ours (LOG_LEVEL=info) / Fastify with its logger',
    better: 'higher',
    bound: 1.0,
    unit: 'req/s',
    pick: (r) => [http(r, 'hello', 'ours-info')?.rps, http(r, 'hello', 'fastify')?.rps],
  },
  {
    id: 'hello-cpu-vs-fastify',
    pair: 'hello CPU µs a request: ours (info) / Fastify with its logger',
    better: 'lower',
    bound: 1.0,
    unit: 'CPU µs/req',
    pick: (r) => [
      http(r, 'hello', 'ours-info')?.cpuUsPerRequest,
      http(r, 'hello', 'fastify')?.cpuUsPerRequest,
    ],
  },
  {
    id: 'hello-warn-vs-hono',
    pair: 'hello throughput: ours (LOG_LEVEL=warn) / bare Hono',
    better: 'higher',
    bound: 0.85,
    unit: 'req/s',
    pick: (r) => [http(r, 'hello', 'ours-warn')?.rps, http(r, 'hello', 'hono')?.rps],
  },
  {
    id: 'post-vs-fastify',
    pair: 'validated POST throughput: ours (info) / Fastify with schema and logger',
    better: 'higher',
    bound: 0.9,
    unit: 'req/s',
    pick: (r) => [http(r, 'post', 'ours-info')?.rps, http(r, 'post', 'fastify')?.rps],
  },
  {
    id: 'db-vs-hono',
    pair: 'DB read with bearer auth: ours / bare Hono + jose + postgres.js',
    better: 'higher',
    bound: 0.85,
    unit: 'req/s',
    pick: (r) => [http(r, 'db', 'ours-db')?.rps, http(r, 'db', 'hono-db')?.rps],
  },
  {
    id: 'hello-p99-vs-fastify',
    pair: 'hello p99 at 50 connections: ours (info) / Fastify with its logger',
    better: 'lower',
    bound: 1.5,
    unit: 'ms',
    pick: (r) => [http(r, 'hello', 'ours-info')?.p99Ms, http(r, 'hello', 'fastify')?.p99Ms],
  },
  {
    id: 'drain-vs-raw',
    pair: 'worker drain: ours / raw bee-queue at the same concurrency',
    better: 'higher',
    bound: 0.85,
    unit: 'jobs/s',
    pick: (r) => [queue(r, 'ours')?.drainPerSecond, queue(r, 'raw')?.drainPerSecond],
  },
  {
    id: 'enqueue-vs-raw',
    pair: 'enqueue: ours / raw bee-queue save()',
    better: 'higher',
    bound: 0.9,
    unit: 'jobs/s',
    pick: (r) => [queue(r, 'ours')?.enqueuePerSecond, queue(r, 'raw')?.enqueuePerSecond],
  },
  {
    id: 'latency-p99-vs-raw',
    pair: 'enqueue→start p99 at a steady rate: ours / raw bee-queue',
    better: 'lower',
    bound: 1.5,
    unit: 'ms',
    pick: (r) => [queue(r, 'ours')?.latencyP99Ms, queue(r, 'raw')?.latencyP99Ms],
  },
  {
    id: 'cold-start-vs-hono',
    pair: 'cold start (spawn to first 200): ours / bare Hono bundle',
    better: 'lower',
    bound: 1.3,
    unit: 'ms',
    pick: (r) => [startup(r, 'ours')?.coldStartMs, startup(r, 'hono')?.coldStartMs],
  },
  {
    id: 'idle-rss-vs-hono',
    pair: 'idle RSS: ours / bare Hono bundle',
    better: 'lower',
    bound: 1.3,
    unit: 'MiB',
    pick: (r) => {
      const [ours, hono] = [startup(r, 'ours')?.idleRssBytes, startup(r, 'hono')?.idleRssBytes];
      return [
        ours === undefined ? undefined : ours / 2 ** 20,
        hono === undefined ? undefined : hono / 2 ** 20,
      ];
    },
  },
];

/**
 * Every target with its figures from `results`; a target whose section did not run has ratio and met null.
 * @param {object} results
 * @returns {Target[]}
 */
export function evaluateTargets(results) {
  return TARGETS.map(({ pick, ...target }) => {
    const [ours, theirs] = pick(results);
    if (ours === undefined || theirs === undefined || !(theirs > 0)) {
      return { ...target, ours: ours ?? null, theirs: theirs ?? null, ratio: null, met: null };
    }
    const ratio = ours / theirs;
    return {
      ...target,
      ours,
      theirs,
      ratio,
      met: target.better === 'higher' ? ratio >= target.bound : ratio <= target.bound,
    };
  });
}

/** `≥ 0.85×` or `≤ 1.5×`. @param {{ better: 'higher' | 'lower', bound: number }} target */
export function boundText(target) {
  return `${target.better === 'higher' ? '≥' : '≤'} ${target.bound.toFixed(2)}×`;
}

/** @param {any} r @param {string} scenario @param {string} server */
function http(r, scenario, server) {
  return r.http
    ?.find((/** @type {any} */ s) => s.id === scenario)
    ?.servers.find((/** @type {any} */ s) => s.id === server)?.median;
}

/** @param {any} r @param {string} side */
function queue(r, side) {
  return r.queue?.sides.find((/** @type {any} */ s) => s.id === side)?.median;
}

/** @param {any} r @param {string} side */
function startup(r, side) {
  return r.startup?.sides.find((/** @type {any} */ s) => s.id === side)?.median;
}
