/** How a run that passes its timeout is handled (see runWithDeadline). */
export type OverrunPolicy = {
  /** How long a run may go on after its timeout fired before it counts as stuck. */
  graceMs: number;
  /** Called once when a run is stuck past the grace; its slot is given back after it returns. */
  onStuck(): void;
};

/**
 * Runs `run` with a signal that fires at `timeoutMs` or when `stop` fires, and rejects with the signal's
 * reason as soon as it fires. A run cut short by its timeout keeps its place (the worker's concurrency slot)
 * until it really returns, so that its retry can never overlap it; a run that ignores its signal past
 * `overrun.graceMs` is reported stuck, and its place given back. A run cut short by `stop` (shutdown) is
 * not waited for: the process is going away, and its job goes back on the queue.
 */
export async function runWithDeadline<T>(
  run: (signal: AbortSignal) => Promise<T> | T,
  options: { timeoutMs: number; timeoutError: () => Error; stop?: AbortSignal; overrun: OverrunPolicy },
): Promise<T> {
  const { stop } = options;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(options.timeoutError()), options.timeoutMs);
  const onStop = () => controller.abort(stop?.reason);
  stop?.addEventListener('abort', onStop, { once: true });
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
  });
  aborted.catch(() => {});
  const running = Promise.resolve().then(() => run(controller.signal));
  try {
    return await Promise.race([running, aborted]);
  } catch (error) {
    const timedOut =
      controller.signal.aborted && controller.signal.reason === error && error !== stop?.reason;
    if (timedOut) await settledWithin(running, options.overrun);
    throw error;
  } finally {
    clearTimeout(timer);
    stop?.removeEventListener('abort', onStop);
  }
}

async function settledWithin(running: Promise<unknown>, overrun: OverrunPolicy): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      overrun.onStuck();
      resolve();
    }, overrun.graceMs);
  });
  await Promise.race([running.then(noop, noop), grace]);
  clearTimeout(timer);
}

function noop() {}
