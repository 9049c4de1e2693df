/** One pending deadline of a DeadlineList. */
export type Deadline = { readonly at: number; readonly onExpire: () => void };

/**
 * Many deadlines of one length on one Node timer. Deadlines of one length expire in the order they were set,
 * so only the oldest pending one needs a timer: setting and clearing one is a Set insert and delete, where a
 * timer per deadline (one per enqueue, one per job) costs a timer object, its list insert and its removal.
 * The timer is re-armed only when it fires, for the next deadline still pending then, and keeps the process
 * alive only while some deadline is pending, as a timer per deadline would.
 */
export class DeadlineList {
  readonly #pending = new Set<Deadline>();
  #timer: NodeJS.Timeout | undefined;

  constructor(readonly ms: number) {}

  /** Calls `onExpire` (which must not throw) in `ms`, unless the deadline is cleared first. */
  set(onExpire: () => void): Deadline {
    const deadline = { at: performance.now() + this.ms, onExpire };
    this.#pending.add(deadline);
    if (!this.#timer) this.#timer = setTimeout(this.#fire, this.ms);
    else if (this.#pending.size === 1) this.#timer.ref();
    return deadline;
  }

  clear(deadline: Deadline): void {
    if (this.#pending.delete(deadline) && this.#pending.size === 0) this.#timer?.unref();
  }

  // Expired deadlines are taken off and the timer armed for the next one before any is told, so that
  // whatever a callback does (set another deadline, throw) cannot leave a pending deadline without a timer.
  readonly #fire = () => {
    this.#timer = undefined;
    const now = performance.now();
    const expired: Deadline[] = [];
    for (const deadline of this.#pending) {
      if (deadline.at > now) {
        // Whole milliseconds: Node keeps one timer list per duration.
        this.#timer = setTimeout(this.#fire, Math.ceil(deadline.at - now));
        break;
      }
      this.#pending.delete(deadline);
      expired.push(deadline);
    }
    for (const deadline of expired) deadline.onExpire();
  };
}

const lists = new Map<number, DeadlineList>();

/** The process's list for deadlines of `ms` (one per enqueue timeout, one per task timeout). */
export function deadlinesOf(ms: number): DeadlineList {
  let list = lists.get(ms);
  if (!list) {
    list = new DeadlineList(ms);
    lists.set(ms, list);
  }
  return list;
}
