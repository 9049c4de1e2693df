import { type Logger, pino } from 'pino';

/**
 * The process logger: JSON lines on stdout. Transports are avoided because they spawn worker threads that a
 * self-contained bundle cannot load. Authorization and cookie headers are redacted in case anything logs them.
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { pid: process.pid, ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
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
  });
}
