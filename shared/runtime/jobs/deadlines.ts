/** One pending deadline of a DeadlineList, as `set` returns it for `clear`. */
export type Deadline = { readonly at: number };

/** A deadline as the list holds it: `onExpire` is dropped once it expired or was cleared. */
type Entry = { readonly at: number; onExpire: (() => void) | undefined };

/**
 * Many deadlines of one length on one Node timer. Deadlines of one length expire in the order they were set,
 * so only the oldest pending one needs a timer: setting and clearing one is an array push and a field write,
 * where a timer per deadline (one per enqueue, one per job) costs a timer object, its list insert and its
 * removal. The timer is re-armed only when it fires, for the next deadline still pending then, and keeps the
 * process alive only while some deadline is pending, as a timer per deadline would.
 *
 * The deadlines wait in an array, oldest first, rather than a Set: V8 keeps what a Set's deleted entries held
 * until the Set is rehashed, so every save's and run's garbage outlived the young generation, and each
 * scavenge took milliseconds. A cleared deadline stays in the array holding nothing, and is dropped once it
 * is the oldest, or when cleared ones are most of the array (behind a long deadline still pending).
 */
export class DeadlineList {
  #queue: (Entry | undefined)[] = [];
  #head = 0;
  #pending = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(readonly ms: number) {}

  /** Calls `onExpire` (which must not throw) in `ms`, unless the deadline is cleared first. */
  set(onExpire: () => void): Deadline {
    const entry: Entry = { at: performance.now() + this.ms, onExpire };
    this.#queue.push(entry);
    this.#pending += 1;
    if (!this.#timer) this.#timer = setTimeout(this.#fire, this.ms);
    else if (this.#pending === 1) this.#timer.ref();
    return entry;
  }

  clear(deadline: Deadline): void {
    const entry = deadline as Entry;
    if (!entry.onExpire) return;
    entry.onExpire = undefined;
    this.#pending -= 1;
    this.#dropDone();
    if (this.#pending === 0) this.#timer?.unref();
  }

  // Expired deadlines are taken off and the timer armed for the next one before any is told, so that
  // whatever a callback does (set another deadline, throw) cannot leave a pending deadline without a timer.
  readonly #fire = () => {
    this.#timer = undefined;
    const now = performance.now();
    const expired: (() => void)[] = [];
    const queue = this.#queue;
    for (; this.#head < queue.length; this.#head += 1) {
      const entry = queue[this.#head] as Entry;
      if (entry.onExpire) {
        if (entry.at > now) {
          // Whole milliseconds: Node keeps one timer list per duration.
          this.#timer = setTimeout(this.#fire, Math.ceil(entry.at - now));
          break;
        }
        expired.push(entry.onExpire);
        entry.onExpire = undefined;
        this.#pending -= 1;
      }
      queue[this.#head] = undefined;
    }
    this.#dropDone();
    for (const onExpire of expired) onExpire();
  };

  #dropDone(): void {
    const queue = this.#queue;
    while (this.#head < queue.length && !queue[this.#head]?.onExpire) {
      queue[this.#head] = undefined;
      this.#head += 1;
    }
    const held = queue.length - this.#head;
    if (held === 0) {
      queue.length = 0;
      this.#head = 0;
    } else if (held > 1_024 && held > 2 * this.#pending) {
      // Each compaction follows as many clears as it moves entries: its cost per clear stays constant.
      this.#queue = queue.slice(this.#head).filter((entry) => entry?.onExpire);
      this.#head = 0;
    } else if (this.#head > 1_024 && this.#head > held) {
      queue.splice(0, this.#head);
      this.#head = 0;
    }
  }
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
