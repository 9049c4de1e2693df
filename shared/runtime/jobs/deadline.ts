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

// One listener per stop signal (the worker's, shared by all its runs), told to every run watching it. The runs
// watching are a linked list, not a Set: V8 keeps what a Set's deleted entries held until it is rehashed, and
// every run is added and deleted (see DeadlineList).
type Watcher = { told: ((reason: unknown) => void) | undefined; prev?: Watcher; next?: Watcher };
type Watchers = { first?: Watcher; last?: Watcher };
const watchers = new WeakMap<AbortSignal, Watchers>();

/** As a listener added to `signal` and removed by the returned function; one never told if it has fired. */
function whenAborted(signal: AbortSignal, listener: (reason: unknown) => void): () => void {
  let list = watchers.get(signal);
  if (!list) {
    const made: Watchers = {};
    signal.addEventListener('abort', () => {
      const told: ((reason: unknown) => void)[] = [];
      for (let watcher = made.first; watcher; watcher = watcher.next)
        if (watcher.told) told.push(watcher.told);
      for (const tell of told) tell(signal.reason);
    });
    watchers.set(signal, made);
    list = made;
  }
  const watching = list;
  // Appended, so that runs are told in the order they started, as before.
  const watcher: Watcher = { told: listener, prev: watching.last };
  if (watching.last) watching.last.next = watcher;
  else watching.first = watcher;
  watching.last = watcher;
  return () => {
    if (!watcher.told) return;
    watcher.told = undefined;
    if (watcher.prev) watcher.prev.next = watcher.next;
    else watching.first = watcher.next;
    if (watcher.next) watcher.next.prev = watcher.prev;
    else watching.last = watcher.prev;
  };
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
