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
import { JobLog, taskContexts } from './task-context.ts';

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
  const { stop, observe = ignore, overrun = DEFAULT_OVERRUN } = options;
  const { name, definition } = task;
  const attempt = definition.retries - (job.options.retries ?? definition.retries) + 1;
  const data = job.data;
  const jobId = String(job.id);
  const log = new JobLog(services.log, name, jobId, attempt, data?.requestId);
  // A job with no record (most) writes nothing to PostgreSQL, and waits for nothing.
  const tracked = data?.tracked === true;
  const parsed = v.safeParse(definition.payload, data?.payload);
  if (!parsed.success) {
    failForGood(job);
    const error = new InvalidPayloadError(name, fieldErrors('payload', parsed.issues));
    log.logger.error({ errors: error.fields }, error.message);
    if (tracked) await track(services, job, log, { status: 'failed', error: error.message });
    observe({ task: name, outcome: 'invalid', attempt });
    throw error;
  }
  // Counted by attempt and by stall recovery (see starts.ts): reading it costs no round trip.
  const starts = jobStarts(job, attempt);
  if (starts > definition.retries + 1) {
    failForGood(job);
    const error = new PoisonJobError(name, jobId, Math.max(starts - attempt, 1));
    log.logger.error({ starts }, error.message);
    if (tracked) await track(services, job, log, { status: 'failed', error: error.message });
    observe({ task: name, outcome: 'poisoned', attempt });
    throw error;
  }
  if (tracked) await track(services, job, log, { status: 'active', attempts: attempt, error: null });

  const makeContext = taskContexts(services);
  const progress = async (percent: number) => {
    const clamped = Math.max(0, Math.min(100, Math.round(percent)));
    await Promise.all([
      job.reportProgress(clamped),
      tracked ? track(services, job, log, { progress: clamped }) : undefined,
    ]);
  };
  const started = performance.now();
  try {
    const result = await runWithDeadline(
      (signal) => definition.run(makeContext(log, parsed.output, progress, signal)),
      {
        timeoutMs: definition.timeoutMs,
        timeoutError: () => new JobTimeoutError(name, definition.timeoutMs),
        stop,
        overrun: {
          graceMs: overrun.graceMs,
          onStuck: () => {
            log.logger.error({ graceMs: overrun.graceMs }, 'run ignores its signal past its timeout: stuck');
            overrun.onStuck();
          },
        },
      },
    );
    const durationMs = elapsedMs(started);
    log.info({ durationMs, outcome: 'succeeded' }, 'job');
    observe({ task: name, outcome: 'succeeded', attempt, seconds: durationMs / 1000 });
    if (tracked) {
      await track(services, job, log, { status: 'succeeded', progress: 100, result: result ?? null });
    }
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
    log.logger.warn({ durationMs, outcome, storeDown, err: error }, 'job');
    observe({ task: name, outcome, attempt, seconds: durationMs / 1000 });
    if (outcome === 'failed') failForGood(job);
    if (tracked) {
      const status = outcome === 'interrupted' ? 'queued' : outcome;
      await track(services, job, log, { status, error: publicError(error, jobId) });
    }
    throw error;
  }
}

/** Brings the job's record up to date; a record that cannot be written is a warning, never the job's failure. */
function track(
  services: Services,
  job: BeeQueue.Job<JobEnvelope>,
  log: JobLog,
  patch: Parameters<typeof updateJobRecord>[2],
): Promise<unknown> {
  return updateJobRecord(services.sql, String(job.id), patch).catch((error) => {
    log.logger.warn({ err: error }, 'could not update the job record');
  });
}

function ignore() {}

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
