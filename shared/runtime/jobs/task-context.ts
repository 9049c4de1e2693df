import type { Logger } from 'pino';
import type { Services } from '../app.ts';
import type { TaskContext } from './task.ts';

/**
 * A job's identity in its log lines, and its logger, made when something first logs for the job: most jobs
 * log only their outcome line, which the process logger writes with the same fields (see `info`), as the HTTP
 * path writes its request line.
 */
export class JobLog {
  #log: Logger | undefined = undefined;

  constructor(
    readonly base: Logger,
    readonly task: string,
    readonly jobId: string,
    readonly attempt: number,
    /** The request that enqueued the job, through the outbox too: it joins the request's lines to the job's. */
    readonly requestId: string | undefined,
  ) {}

  get logger(): Logger {
    this.#log ??= this.base.child(this.#with({}));
    return this.#log;
  }

  /** The line the job's logger would write, without making it when there is none yet. */
  info(fields: Record<string, unknown>, message: string): void {
    if (this.#log) this.#log.info(fields, message);
    else this.base.info(this.#with(fields), message);
  }

  /** The job's fields, in the order its logger binds them, then `more`. */
  #with(more: Record<string, unknown>): Record<string, unknown> {
    const { task, jobId, attempt, requestId } = this;
    const fields: Record<string, unknown> = requestId
      ? { task, jobId, attempt, reqId: requestId }
      : { task, jobId, attempt };
    for (const key in more) fields[key] = more[key];
    return fields;
  }
}

/** Makes the `ctx` of one job of a process; see taskContexts. */
export type MakeTaskContext = (
  log: JobLog,
  payload: unknown,
  progress: (percent: number) => Promise<void>,
  signal: () => AbortSignal,
) => TaskContext<unknown>;

const makers = new WeakMap<Services, MakeTaskContext>();

/**
 * The job contexts of one set of services, one class for every job so that every `ctx` has one shape: the
 * services are copied in by a loop over their keys (an object spread or Object.assign of them takes V8's slow
 * generic path, most of a microsecond a job), then the job's own fields. `log` and `signal` stay own,
 * enumerable properties, so that a task may spread its ctx, but are getters: the child logger and the
 * AbortController are made only if the task reads them (see JobLog and runWithDeadline).
 */
export function taskContexts(services: Services): MakeTaskContext {
  let make = makers.get(services);
  if (!make) {
    make = contextMaker(services);
    makers.set(services, make);
  }
  return make;
}

function contextMaker(services: Services): MakeTaskContext {
  const serviceKeys = Object.keys(services).filter((key) => key !== 'log') as (keyof Services)[];
  // Shared by every context: one descriptor object each, whose getters read the context's private fields.
  let lazy: { log: PropertyDescriptor; signal: PropertyDescriptor } | undefined;
  class JobContext {
    [key: string]: unknown;
    readonly #log: JobLog;
    readonly #signal: () => AbortSignal;

    constructor(
      log: JobLog,
      payload: unknown,
      progress: (percent: number) => Promise<void>,
      signal: () => AbortSignal,
    ) {
      for (const key of serviceKeys) this[key] = services[key];
      this.#log = log;
      this.#signal = signal;
      this.payload = payload;
      this.jobId = log.jobId;
      this.task = log.task;
      this.attempt = log.attempt;
      this.progress = progress;
      Object.defineProperty(this, 'log', lazy?.log as PropertyDescriptor);
      Object.defineProperty(this, 'signal', lazy?.signal as PropertyDescriptor);
    }

    static {
      lazy = {
        log: {
          get(this: JobContext) {
            return this.#log.logger;
          },
          enumerable: true,
          configurable: true,
        },
        signal: {
          get(this: JobContext) {
            return this.#signal();
          },
          enumerable: true,
          configurable: true,
        },
      };
    }
  }
  return (log, payload, progress, signal) =>
    new JobContext(log, payload, progress, signal) as unknown as TaskContext<unknown>;
}
