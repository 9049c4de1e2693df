import type BeeQueue from 'bee-queue';
import * as v from 'valibot';
import type { Services } from '../app.ts';
import { elapsedMs } from '../elapsed.ts';
import { classifyError, fieldErrors } from '../errors.ts';
import { type OverrunPolicy, runWithDeadline } from './deadline.ts';
import { InvalidPayloadError, JobTimeoutError, PoisonJobError, publicError } from './job-errors.ts';
import type { JobEnvelope, NamedTask } from './queue.ts';
import { updateJobRecord } from './records.ts';
import { jobStarts } from './starts.ts';
import type { TaskContext } from './task.ts';

/** How a job's run ended; `invalid` and `poisoned` jobs are failed without running. */
export const JOB_OUTCOMES = [
  'succeeded',
  'retrying',
  'failed',
  'interrupted',
  'poisoned',
  'invalid',
] as const;
export type JobOutcome = (typeof JOB_OUTCOMES)[number];

/** Told how each job ended (the worker's metrics); `seconds` is how long `run` ran, when it did. */
export type JobObserver = (ended: {
  task: string;
  outcome: JobOutcome;
  attempt: number;
  seconds?: number;
}) => void;

/**
 * How a job is run besides its task: `stop` fires at shutdown, `observe` is told each outcome, and `overrun`
 * says how long a run may ignore its timeout (see runWithDeadline).
 */
export type RunOptions = { stop?: AbortSignal; observe?: JobObserver; overrun?: OverrunPolicy };

/** A run that ignores its signal for this long past its timeout is stuck (TASK_TIMEOUT_GRACE_MS). */
const DEFAULT_OVERRUN: OverrunPolicy = { graceMs: 30_000, onStuck: () => {} };

/**
 * Runs one job of a task: validates the payload, runs `run` with a signal that fires at the timeout, and
 * logs the outcome. A run past its timeout is told to stop through its signal, and the job fails (to be
 * retried) once the run has returned, so that a task's runs never overlap (see runWithDeadline).
 */
export async function runJob(
  task: NamedTask,
  job: BeeQueue.Job<JobEnvelope>,
  services: Services,
  options: RunOptions = {},
) {
  const { stop, observe = () => {}, overrun = DEFAULT_OVERRUN } = options;
  const { name, definition } = task;
  const attempt = definition.retries - (job.options.retries ?? definition.retries) + 1;
  // The request that enqueued the job, through the outbox too: its id joins the request's log lines to the job's.
  const requestId = job.data?.requestId;
  const log = services.log.child({
    task: name,
    jobId: job.id,
    attempt,
    ...(requestId ? { reqId: requestId } : {}),
  });
  const track = (patch: Parameters<typeof updateJobRecord>[2]) =>
    job.data?.tracked
      ? updateJobRecord(services.sql, String(job.id), patch).catch((error) => {
          log.warn({ err: error }, 'could not update the job record');
        })
      : Promise.resolve();
  const parsed = v.safeParse(definition.payload, job.data?.payload);
  if (!parsed.success) {
    failForGood(job);
    const error = new InvalidPayloadError(name, fieldErrors('payload', parsed.issues));
    log.error({ errors: error.fields }, error.message);
    await track({ status: 'failed', error: error.message });
    observe({ task: name, outcome: 'invalid', attempt });
    throw error;
  }
  const jobId = String(job.id);
  // Counted by attempt and by stall recovery (see starts.ts): reading it costs no round trip.
  const starts = jobStarts(job, attempt);
  if (starts > definition.retries + 1) {
    failForGood(job);
    const error = new PoisonJobError(name, jobId, Math.max(starts - attempt, 1));
    log.error({ starts }, error.message);
    await track({ status: 'failed', error: error.message });
    observe({ task: name, outcome: 'poisoned', attempt });
    throw error;
  }
  await track({ status: 'active', attempts: attempt, error: null });

  const started = performance.now();
  try {
    const result = await runWithDeadline(
      (signal) =>
        definition.run(
          taskContext(services, signal, {
            log,
            payload: parsed.output,
            jobId,
            task: name,
            attempt,
            progress: async (percent) => {
              const clamped = Math.max(0, Math.min(100, Math.round(percent)));
              await Promise.all([job.reportProgress(clamped), track({ progress: clamped })]);
            },
          }),
        ),
      {
        timeoutMs: definition.timeoutMs,
        timeoutError: () => new JobTimeoutError(name, definition.timeoutMs),
        stop,
        overrun: {
          graceMs: overrun.graceMs,
          onStuck: () => {
            log.error({ graceMs: overrun.graceMs }, 'run ignores its signal past its timeout: stuck');
            overrun.onStuck();
          },
        },
      },
    );
    const durationMs = elapsedMs(started);
    log.info({ durationMs, outcome: 'succeeded' }, 'job');
    observe({ task: name, outcome: 'succeeded', attempt, seconds: durationMs / 1000 });
    await track({ status: 'succeeded', progress: 100, result: result ?? null });
    return result;
  } catch (error) {
    // A job cut short by shutdown did not fail: it gets its attempt back, so the queue runs it again
    // (a job of a task with no retries would otherwise be lost).
    const interrupted = stop?.aborted === true && error === stop.reason;
    // A database that cannot be reached says nothing about the job: it waits for the store without
    // spending an attempt, so an outage longer than the retry budget fails no job for good.
    const storeDown = !interrupted && classifyError(error)?.status === 503;
    if (interrupted || storeDown) job.options.retries = (job.options.retries ?? 0) + 1;
    if (storeDown) waitForStore(job);
    const outcome = interrupted ? 'interrupted' : (job.options.retries ?? 0) > 0 ? 'retrying' : 'failed';
    const durationMs = elapsedMs(started);
    log.warn({ durationMs, outcome, storeDown, err: error }, 'job');
    observe({ task: name, outcome, attempt, seconds: durationMs / 1000 });
    if (outcome === 'failed') failForGood(job);
    await track({ status: outcome === 'interrupted' ? 'queued' : outcome, error: publicError(error, jobId) });
    throw error;
  }
}

/**
 * `run`'s context: the services, then the job's own fields, and a `signal` made when the task first reads it
 * (see runWithDeadline): most runs never do. Built with Object.assign: in V8 an object spread followed by more
 * properties (`{ ...services, log, ... }`) takes a slow path that cost several microseconds a job.
 */
function taskContext(
  services: Services,
  signal: () => AbortSignal,
  own: Omit<TaskContext<unknown>, keyof Services | 'signal'> & { log: Services['log'] },
): TaskContext<unknown> {
  const ctx = Object.assign({}, services, own) as TaskContext<unknown>;
  Object.defineProperty(ctx, 'signal', { get: signal, enumerable: true, configurable: true });
  return ctx;
}

/** At least a second between tries while the store is down, whatever the task's own backoff says. */
function waitForStore(job: BeeQueue.Job<JobEnvelope>) {
  const backoff = job.options.backoff as { strategy?: string; delay?: number } | undefined;
  if (!backoff || backoff.strategy === 'immediate' || (backoff.delay ?? 0) < STORE_RETRY_MS) {
    job.options.backoff = { strategy: 'fixed', delay: STORE_RETRY_MS };
  }
}

const STORE_RETRY_MS = 1_000;

/** No retries left, and when it failed, which bee-queue writes back with the job (see failed-jobs.ts). */
function failForGood(job: BeeQueue.Job<JobEnvelope>) {
  job.options.retries = 0;
  job.options.failedAt = new Date().toISOString();
}
