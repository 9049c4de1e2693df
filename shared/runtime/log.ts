import { type Logger, pino } from 'pino';
import { BatchedLines } from './log-destination.ts';

/**
 * The process logger: JSON lines on stdout. Transports are avoided because they spawn worker threads that a
 * self-contained bundle cannot load. Authorization and cookie headers are redacted in case anything logs them.
 *
 * Lines are gathered and written together (see log-destination.ts): a write per line is one system call on the
 * request's path. A line is at most 100 ms late; a warning or an error goes out at once; nothing is lost when
 * the process exits, whether by process.exit (the shutdown and start-up failure paths), an uncaught exception
 * or running out of work. Only a SIGKILL or a crash of Node itself (out of memory) can drop the last 100 ms.
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  const destination = new BatchedLines(1);
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
      // A warning or an error is written at once, with the lines waiting before it: it is what an operator
      // looks for after a process dies, and rare enough to cost nothing.
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

const WARN = 40;

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
