import type { Queryable } from '../db.ts';

/** A job record's states, in the order a job moves through them (the table's check constraint says the same). */
export const JOB_STATES = ['queued', 'active', 'retrying', 'succeeded', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** A job as its owner sees it (GET /jobs/{id} in the reference app). */
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
  job: { id: string; owner: string; task: string },
): Promise<void> {
  await sql`insert into jobs (id, owner, task) values (${job.id}, ${job.owner}, ${job.task})`;
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

/** The job if `owner` owns it; another owner's job reads as missing. */
export async function readJobRecord(sql: Queryable, id: string, owner: string): Promise<JobView | undefined> {
  const [row] = await sql<JobView[]>`
    select id, task, status, progress, result, error, created_at as "createdAt", updated_at as "updatedAt"
    from jobs where id = ${id} and owner = ${owner}`;
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
