// What both sides of the queue bench share: the run's settings, a bounded number of enqueues in flight, and
// the clock of the processing phase. Each side runs in a child process forked by bench/queue.mjs.

/** The run's settings, as bench/queue.mjs passes them. */
export function runSettings() {
  const number = (/** @type {string} */ name) => Number(process.env[name]);
  return {
    jobs: number('BENCH_JOBS'),
    inFlight: number('BENCH_IN_FLIGHT'),
    concurrency: number('BENCH_CONCURRENCY'),
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
 * Times processing in its steady state, from the first job's start to the last one's, so that connecting
 * and loading scripts count on neither side. `tick()` is called as each job starts.
 * @param {number} total
 */
export function processingClock(total) {
  let started = 0;
  let first = 0;
  let last = 0;
  /** @type {() => void} */
  let finish = () => {};
  const done = new Promise((resolve) => {
    finish = () => resolve(undefined);
  });
  return {
    done,
    tick() {
      const now = performance.now();
      if (started === 0) first = now;
      started += 1;
      if (started === total) {
        last = now;
        finish();
      }
    },
    /** Jobs a second, over the `total - 1` intervals between the first start and the last. */
    rate: () => (total - 1) / ((last - first) / 1000),
  };
}

/**
 * Hands the side's result to bench/queue.mjs.
 * @param {{ enqueuePerSecond: number, processPerSecond: number }} result
 */
export async function report(result) {
  await new Promise((resolve) => process.send?.(result, undefined, undefined, resolve) ?? resolve(undefined));
}
