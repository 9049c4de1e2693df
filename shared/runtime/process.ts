import type { Logger } from 'pino';
import { ConfigError } from './config.ts';

/** A start-up failure whose message says all an operator needs (what, and what to do): printed without a stack. */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

/**
 * Runs a process's main function. A start-up failure prints one message to stderr (the whole list for
 * configuration) and exits non-zero, instead of an unhandled-rejection stack.
 */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const message =
      error instanceof ConfigError
        ? error.message
        : error instanceof StartupError
          ? `Start-up failed: ${error.message}`
          : `Start-up failed: ${(error as Error).stack ?? error}`;
    process.stderr.write(`${message}\n`);
    process.exit(1);
  });
}

/**
 * Calls `shutdown` once on the first SIGTERM or SIGINT, then exits 0 (1 if shutdown itself failed).
 * A second signal while shutting down exits at once, for an operator who really means it.
 */
export function onShutdownSignal(log: Logger, shutdown: (signal: string) => Promise<void>): void {
  let started = false;
  const handle = (signal: NodeJS.Signals) => {
    if (started) {
      log.warn({ signal }, 'second signal during shutdown; exiting now');
      process.exit(1);
    }
    started = true;
    log.info({ signal }, 'shutting down');
    shutdown(signal).then(
      () => {
        log.info('shutdown complete');
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', handle);
  process.once('SIGINT', handle);
}
