import { classifyError, HttpError } from '../errors.ts';

/** A payload that fails its schema: the job fails at once, since retrying cannot fix it. */
export class InvalidPayloadError extends Error {
  constructor(
    task: string,
    readonly fields: { field: string; message: string }[],
  ) {
    super(`${task}: invalid payload: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}`);
    this.name = 'InvalidPayloadError';
  }
}

/** Raised into a job's signal when it runs past the task's timeout. */
export class JobTimeoutError extends Error {
  constructor(task: string, timeoutMs: number) {
    super(`${task}: timed out after ${timeoutMs} ms`);
    this.name = 'JobTimeoutError';
  }
}

/**
 * A job that started more often than its task allows runs without ending, most likely because its run stops
 * the worker: it fails at once, without running again.
 */
export class PoisonJobError extends Error {
  constructor(task: string, jobId: string, unfinished: number) {
    super(
      `${task}: job ${jobId} started ${unfinished} time${unfinished === 1 ? '' : 's'} without finishing ` +
        '(its run may be what stops the worker); failed without running it again',
    );
    this.name = 'PoisonJobError';
  }
}

/**
 * What a job's owner may read of why a run failed (its record is shown to them): the runtime's own errors and
 * an HttpError a task threw on purpose say it; any other error's text stays in the worker's log, since it can
 * hold SQL, hosts or data of other users.
 */
export function publicError(error: unknown, jobId: string): string {
  const known = [HttpError, JobTimeoutError, InvalidPayloadError, PoisonJobError].some(
    (type) => error instanceof type,
  );
  if (known) return (error as Error).message;
  if (classifyError(error)?.status === 503) return 'A store the task needs was unavailable; it is retried.';
  return `The task failed; the worker's log has the cause under job id ${jobId}.`;
}
