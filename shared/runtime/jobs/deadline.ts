import { deadlinesOf } from './deadlines.ts';

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
 *
 * What a run costs is paid per job, so it is kept small: the timeout is a deadline on a list shared by every
 * run of that length (see deadlines.ts), `stop` has one listener however many runs watch it, and the signal's
 * AbortController is made only when the run asks for the signal (`signal()`), already aborted if it fired.
 */
export async function runWithDeadline<T>(
  run: (signal: () => AbortSignal) => Promise<T> | T,
  options: { timeoutMs: number; timeoutError: () => Error; stop?: AbortSignal; overrun: OverrunPolicy },
): Promise<T> {
  const { stop } = options;
  let controller: AbortController | undefined;
  let fired: { reason: unknown } | undefined;
  let cutShort: (reason: unknown) => void = noop;
  const fire = (reason: unknown) => {
    if (fired) return;
    fired = { reason };
    controller?.abort(reason);
    cutShort(reason);
  };
  const signal = () => {
    if (!controller) {
      controller = new AbortController();
      if (fired) controller.abort(fired.reason);
    }
    return controller.signal;
  };
  const deadlines = deadlinesOf(options.timeoutMs);
  const deadline = deadlines.set(() => fire(options.timeoutError()));
  const unwatch = stop ? whenAborted(stop, fire) : noop;
  const running = Promise.resolve().then(() => run(signal));
  try {
    // Settles with the run, or with the reason as soon as the signal fires.
    return await new Promise<T>((resolve, reject) => {
      cutShort = reject;
      running.then(resolve, reject);
    });
  } catch (error) {
    const timedOut = fired !== undefined && fired.reason === error && error !== stop?.reason;
    if (timedOut) await settledWithin(running, options.overrun);
    throw error;
  } finally {
    deadlines.clear(deadline);
    unwatch();
  }
}

// One listener per stop signal (the worker's, shared by all its runs), told to every run watching it.
const watchers = new WeakMap<AbortSignal, Set<(reason: unknown) => void>>();

/** As a listener added to `signal` and removed by the returned function; one never told if it has fired. */
function whenAborted(signal: AbortSignal, listener: (reason: unknown) => void): () => void {
  let listeners = watchers.get(signal);
  if (!listeners) {
    const added = new Set<(reason: unknown) => void>();
    signal.addEventListener('abort', () => {
      for (const told of [...added]) told(signal.reason);
    });
    watchers.set(signal, added);
    listeners = added;
  }
  const watching = listeners;
  watching.add(listener);
  return () => watching.delete(listener);
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
