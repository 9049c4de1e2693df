import type * as v from 'valibot';
import type { Services } from '../app.ts';
import type { Queryable } from '../db.ts';

/** How a failed job waits before its next try. */
export type Backoff = { strategy: 'immediate' | 'fixed' | 'exponential'; delayMs: number };

/** What the queue needs to know about a task when a job is created; plain data, safe to copy into any bundle. */
export type JobPolicy = { retries: number; backoff: Backoff; timeoutMs: number };

/** A reference to a task by name: what the HTTP bundle holds instead of the task's code. */
export type TaskRef<Payload> = {
  readonly kind: 'task-ref';
  readonly name: string;
  readonly policy: JobPolicy;
  readonly __payload?: (payload: Payload) => void;
};

/**
 * Anything a handler or task can enqueue: the full definition or its light reference. Only the phantom
 * `__payload` carries the payload type, so `enqueue` infers it from the task and checks the payload against it.
 */
export type TaskHandle<Payload> = {
  readonly kind: 'task' | 'task-ref';
  readonly __payload?: (payload: Payload) => void;
};

/**
 * `jobId` makes enqueueing idempotent: a second job with the same id is dropped. `tracked` says a job record
 * with that id exists (see records.ts), which the worker keeps up to date. `tx` writes the job to
 * the outbox through that transaction instead of Redis: it commits or rolls back with the transaction's other
 * writes, and a worker's relay puts it on the queue after the commit (see outbox.ts).
 */
export type EnqueueOptions = {
  jobId?: string;
  delayMs?: number;
  requestId?: string;
  tracked?: boolean;
  tx?: Queryable;
};

/** Puts a job on a task's queue; resolves with the job id once Redis has it (or, with `tx`, the outbox). */
export type Enqueue = <Payload>(
  task: TaskHandle<Payload>,
  payload: Payload,
  options?: EnqueueOptions,
) => Promise<{ id: string }>;

/** What `run` is given: the job, and the same services a handler gets (with a job-scoped `log`). */
export type TaskContext<Payload> = Services & {
  payload: Payload;
  jobId: string;
  task: string;
  /** 1 for the first run, 2 for the first retry, and so on. */
  attempt: number;
  /** Aborted when the job passes its timeout or the worker shuts down: stop work when it fires. */
  signal: AbortSignal;
  /** Reports progress, 0 to 100, to whoever watches the job. */
  progress(percent: number): Promise<void>;
};

// biome-ignore lint/suspicious/noExplicitAny: a task of any payload, as the runtime holds them
export type TaskDefinition<Schema extends v.GenericSchema = any> = {
  readonly kind: 'task';
  description?: string;
  payload: Schema;
  retries: number;
  backoff: Backoff;
  timeoutMs: number;
  concurrency: number;
  /** A cron expression; each tick enqueues one job, however many workers run. */
  schedule?: string;
  run(ctx: TaskContext<v.InferOutput<Schema>>): Promise<unknown> | unknown;
  readonly __payload?: (payload: v.InferInput<Schema>) => void;
};

type TaskInput<Schema extends v.GenericSchema> = Omit<
  TaskDefinition<Schema>,
  'kind' | 'retries' | 'backoff' | 'timeoutMs' | 'concurrency' | '__payload'
> &
  Partial<Pick<TaskDefinition<Schema>, 'retries' | 'backoff' | 'timeoutMs' | 'concurrency'>>;

/** Declares a background task; the file's path under tasks/ is its name. */
export function defineTask<Schema extends v.GenericSchema>(input: TaskInput<Schema>): TaskDefinition<Schema> {
  return {
    retries: 3,
    backoff: { strategy: 'exponential', delayMs: 1_000 },
    timeoutMs: 60_000,
    concurrency: 1,
    ...input,
    kind: 'task',
  };
}

/** Builds the light reference that replaces a task module in the HTTP bundle. */
export function taskRef<Payload>(name: string, policy: JobPolicy): TaskRef<Payload> {
  return { kind: 'task-ref', name, policy };
}

/** The queue-facing policy of a task definition. */
export function jobPolicy(handle: TaskHandle<never>): JobPolicy {
  const task = handle as TaskDefinition | TaskRef<unknown>;
  if (task.kind === 'task-ref') return task.policy;
  return { retries: task.retries, backoff: task.backoff, timeoutMs: task.timeoutMs };
}
