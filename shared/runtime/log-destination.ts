import { writeSync } from 'node:fs';

/** Characters gathered before they are written; an estimate of bytes, which only decides when to write. */
const BATCH_CHARS = 8192;
/** The longest a line waits for its batch. */
const FLUSH_MS = 100;

const open = new Set<BatchedLines>();
let exitHooked = false;

/**
 * Where the process's log lines go: a file descriptor (stdout), in batches written synchronously. A line joins
 * the batch (an array push); the batch is written in one system call once BATCH_CHARS are waiting, at least
 * every FLUSH_MS, at `flushSync` (a warning or an error), and when the process exits, however it exits
 * (process.exit, an uncaught exception, the event loop running dry). Only a SIGKILL or a crash of Node itself
 * can drop the last FLUSH_MS of lines.
 *
 * pino's own destination (sonic-boom) batches by appending to one string and measuring its UTF-8 length at
 * every line, which flattens the string again each time: about 1.5 µs a line here, as much as pino takes to
 * make the line. Writing synchronously keeps the lines in order with the warnings written at once, and a
 * stdout that cannot keep up slows the process rather than filling its memory.
 */
export class BatchedLines {
  #lines: string[] = [];
  #chars = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(readonly fd: number) {
    open.add(this);
    if (!exitHooked) {
      exitHooked = true;
      process.once('exit', () => {
        for (const destination of open) destination.flushSync();
      });
    }
  }

  /** pino's stream interface: one serialized line, newline included. */
  write(line: string): void {
    this.#lines.push(line);
    this.#chars += line.length;
    if (this.#chars >= BATCH_CHARS) this.flushSync();
    // Unreferenced: a batch waiting for its time does not keep the process alive (the exit hook writes it).
    else this.#timer ??= setTimeout(this.#tick, FLUSH_MS).unref();
  }

  /** Writes what is waiting, now. */
  flushSync(): void {
    if (this.#lines.length === 0) return;
    const text = this.#lines.length === 1 ? (this.#lines[0] as string) : this.#lines.join('');
    this.#lines = [];
    this.#chars = 0;
    writeAll(this.fd, text);
  }

  /** pino's `logger.flush(cb)`. */
  flush(done?: (error?: Error) => void): void {
    this.flushSync();
    done?.();
  }

  readonly #tick = () => {
    this.#timer = undefined;
    this.flushSync();
  };
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `text`: a pipe may take part of it, or none for now (EAGAIN, when its other end set it
 * non-blocking and is slow), and the rest is written after a millisecond's pause. A stdout that is gone
 * (EPIPE, EBADF) loses the lines rather than failing the request that logged them.
 */
function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  let at = 0;
  while (at < bytes.length) {
    try {
      at += writeSync(fd, bytes, at);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}
