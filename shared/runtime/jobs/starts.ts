import type { Redis } from 'ioredis';

/** How long a job's count outlives its latest start: far longer than any retry waits for its backoff. */
export const JOB_STARTS_TTL_MS = 7 * 24 * 3_600_000;

/**
 * Counts a start of a job, outside the job: bee-queue writes a job back only when a run ends, so a run that
 * kills its worker (kill -9, process.exit, out of memory) leaves no trace there and stall recovery runs it
 * again as if for the first time. Returns the starts so far, this one included.
 */
export async function countJobStart(redis: Redis, task: string, jobId: string): Promise<number> {
  const key = startsKey(task, jobId);
  const results = await redis.multi().incr(key).pexpire(key, JOB_STARTS_TTL_MS).exec();
  const [error, count] = results?.[0] ?? [new Error('the start count was not returned')];
  if (error) throw error;
  return Number(count);
}

/** Takes back a start that did not count, as when shutdown cut the run short. */
export async function uncountJobStart(redis: Redis, task: string, jobId: string): Promise<void> {
  const key = startsKey(task, jobId);
  // With its expiry, so that a count whose start was never recorded cannot linger.
  await redis.multi().decr(key).pexpire(key, JOB_STARTS_TTL_MS).exec();
}

/** Forgets a job's starts, once it has finished for good or is to be retried afresh. */
export async function clearJobStarts(redis: Redis, task: string, jobId: string): Promise<void> {
  await redis.del(startsKey(task, jobId));
}

/** The key under the app client's RD_PREFIX. */
export function startsKey(task: string, jobId: string): string {
  return `attempts:${task}:${jobId}`;
}
