import type { Queryable } from '../db.ts';

export type JobState = 'queued' | 'active' | 'retrying' | 'succeeded' | 'failed';

/** A job as its owner sees it at GET /jobs/{id}. */
export type JobView = {
  id: string;
  task: string;
  status: JobState;
  progress: number;
  result?: unknown;
  error?: string;
  createdAt: string;
  updatedAt: string;
};

type JobPatch = {
  status?: JobState;
  progress?: number;
  attempts?: number;
  result?: unknown;
  error?: string | null;
};

/**
 * Records a job its owner can watch. Call it in the same transaction as the rows the job will work on, then
 * enqueue with `{ jobId: id, tracked: true }` so that the worker keeps the record up to date.
 */
export async function createJobRecord(
  sql: Queryable,
  job: { id: string; userId: string; task: string },
): Promise<void> {
  await sql`insert into jobs (id, user_id, task) values (${job.id}, ${job.userId}, ${job.task})`;
}

/** Applies the worker's view of a tracked job. A finished job is never moved back to an earlier state. */
export async function updateJobRecord(sql: Queryable, id: string, patch: JobPatch): Promise<void> {
  await sql`
    update jobs set
      status = coalesce(${patch.status ?? null}, status),
      progress = coalesce(${patch.progress ?? null}, progress),
      attempts = coalesce(${patch.attempts ?? null}, attempts),
      result = case when ${patch.result === undefined} then result else ${sql.json((patch.result ?? null) as never)} end,
      error = case when ${patch.error === undefined} then error else ${patch.error ?? null} end,
      updated_at = now()
    where id = ${id} and status not in ('succeeded', 'failed')`;
}

/** The job if `userId` owns it; another user's job reads as missing. */
export async function readJobRecord(
  sql: Queryable,
  id: string,
  userId: string,
): Promise<JobView | undefined> {
  const [row] = await sql<JobView[]>`
    select id, task, status, progress, result, error, created_at as "createdAt", updated_at as "updatedAt"
    from jobs where id = ${id} and user_id = ${userId}`;
  if (!row) return undefined;
  const view: JobView = {
    ...row,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
  if (view.result === null) delete view.result;
  if (view.error === null) delete view.error;
  return view;
}
