// What both sides of the queue bench share: the run's settings, a bounded number of enqueues in flight, a
// steady enqueue rate, and the clocks of the drain and latency phases. Each side runs in a child process
// forked by bench/queue-section.mjs, and does the same three things in the same order:
//   1. enqueues BENCH_JOBS jobs with BENCH_IN_FLIGHT saves in flight (the enqueue rate);
//   2. starts its worker at BENCH_CONCURRENCY and runs them all (the drain rate);
//   3. with the worker idle, enqueues BENCH_LATENCY_RATE jobs a second for BENCH_LATENCY_SECONDS, timing
//      each from just before its enqueue to the start of its run (enqueue→start latency).

/** The run's settings, as bench/queue-section.mjs passes them. */
export function runSettings() {
  const number = (/** @type {string} */ name) => Number(process.env[name]);
  return {
    jobs: number('BENCH_JOBS'),
    inFlight: number('BENCH_IN_FLIGHT'),
    concurrency: number('BENCH_CONCURRENCY'),
    latencyRate: number('BENCH_LATENCY_RATE'),
    latencySeconds: number('BENCH_LATENCY_SECONDS'),
  };
}

/**
 * Calls `fn(0)` to `fn(count - 1)` with at most `limit` calls in flight, as that many producers would.
 * @param {number} count
 * @param {number} limit
 * @param {(index: number) => Promise<unknown>} fn
 */
export async function runLimited(count, limit, fn) {
  let next = 0;
  const lane = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
}

/**
 * The clocks of phases 2 and 3, fed by `started(n)`, which the task calls as job `n` starts. Jobs 0 to
 * jobs - 1 are the drain; the ones after are the latency phase, enqueued through `enqueueTimed`.
 * @param {number} jobs
 * @param {number} latencyJobs
 */
export function phaseClocks(jobs, latencyJobs) {
  let drained = 0;
  let first = 0;
  let last = 0;
  /** @type {number[]} */
  const enqueuedAt = [];
  /** @type {number[]} */
  const latencies = [];
  const signals = { drained: () => {}, timed: () => {} };
  const drainDone = new Promise((resolve) => {
    signals.drained = () => resolve(undefined);
  });
  const latencyDone = new Promise((resolve) => {
    signals.timed = () => resolve(undefined);
  });
  return {
    drainDone,
    latencyDone,
    started(/** @type {number} */ n) {
      const now = performance.now();
      if (n >= jobs) {
        latencies.push(now - (enqueuedAt[n - jobs] ?? now));
        if (latencies.length === latencyJobs) signals.timed();
        return;
      }
      if (drained === 0) first = now;
      drained += 1;
      if (drained === jobs) {
        last = now;
        signals.drained();
      }
    },
    /**
     * Enqueues the latency phase's jobs at a steady `rate` a second, each timed from just before its enqueue.
     * @param {number} rate
     * @param {(n: number) => Promise<unknown>} enqueue
     */
    async enqueueTimed(rate, enqueue) {
      const startedAt = performance.now();
      /** @type {Promise<unknown>[]} */
      const saves = [];
      for (let index = 0; index < latencyJobs; index++) {
        const wait = startedAt + (index * 1000) / rate - performance.now();
        if (wait >= 1) await new Promise((resolve) => setTimeout(resolve, wait));
        enqueuedAt[index] = performance.now();
        saves.push(enqueue(jobs + index));
      }
      await Promise.all(saves);
    },
    /** Drain jobs a second, over the `jobs - 1` intervals between the first start and the last. */
    drainRate: () => (jobs - 1) / ((last - first) / 1000),
    /** Enqueue→start latencies of phase 3, milliseconds, p50 and p99. */
    latency() {
      const sorted = [...latencies].sort((a, b) => a - b);
      const at = (/** @type {number} */ share) =>
        sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] ?? Number.NaN;
      return { p50Ms: at(0.5), p99Ms: at(0.99) };
    },
  };
}

/**
 * Hands the side's result to the bench.
 * @param {{ enqueuePerSecond: number, drainPerSecond: number, latencyP50Ms: number, latencyP99Ms: number }} result
 */
export async function report(result) {
  await new Promise((resolve) => process.send?.(result, undefined, undefined, resolve) ?? resolve(undefined));
}
