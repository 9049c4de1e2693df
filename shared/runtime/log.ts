import { type Logger, pino } from 'pino';

/**
 * The process logger: JSON lines on stdout. Transports are avoided because they spawn worker threads that a
 * self-contained bundle cannot load. Authorization and cookie headers are redacted in case anything logs them.
 *
 * Lines are gathered and written together, asynchronously: a synchronous write is one system call per line
 * on the request's path. A write goes out once BATCH_BYTES are waiting, and at least every FLUSH_MS, so a line
 * is at most that late; a warning or an error goes out at once. Nothing is lost on the way out: pino's
 * destination flushes synchronously when the process exits, by process.exit (the shutdown and start-up
 * failure paths) or an uncaught exception. Only a SIGKILL or a crash of Node itself (out of memory) can drop
 * the last FLUSH_MS of lines.
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  const destination = pino.destination({
    dest: 1,
    sync: false,
    minLength: BATCH_BYTES,
    periodicFlush: FLUSH_MS,
  });
  return pino(
    {
      level,
      base: { pid: process.pid, ...bindings },
      timestamp: isoTime,
      redact: {
        paths: [
          'authorization',
          'headers.authorization',
          'headers.cookie',
          'req.headers.authorization',
          'password',
        ],
        censor: '[redacted]',
      },
      formatters: { level: (label) => ({ level: label }) },
      // A warning or an error is written at once, synchronously, with the lines waiting before it: it is what
      // an operator looks for after a process dies, and rare enough to cost nothing. (Lines of a write already
      // under way may then land after it.)
      hooks: {
        logMethod(args, write, levelValue) {
          write.apply(this, args);
          if (levelValue >= WARN) destination.flushSync();
        },
      },
    },
    destination,
  );
}

const BATCH_BYTES = 4096;
const WARN = 40;
const FLUSH_MS = 100;

let stampedMs = 0;
let stamp = '';

/** pino's ISO time field, formatted once per millisecond rather than once per line. */
function isoTime(): string {
  const now = Date.now();
  if (now !== stampedMs) {
    stampedMs = now;
    stamp = `,"time":"${new Date(now).toISOString()}"`;
  }
  return stamp;
}
