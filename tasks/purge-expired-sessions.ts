import type { Sql } from 'postgres';
import * as v from 'valibot';
import { defineTask } from '#runtime/jobs/task.ts';

/**
 * Refresh tokens are kept for a day past their expiry: a client refreshing just too late is told its token
 * expired rather than that it is unknown. Spent and revoked tokens are not removed earlier than that, since
 * a spent token presented again is how a stolen token family is detected and revoked.
 */
const REFRESH_TOKEN_GRACE = '1 day';
/** Idempotency keys are promised for 24 hours. */
const IDEMPOTENCY_KEY_TTL = '24 hours';
/** Finished jobs, and the export files that share their id, are kept a week for their owners to fetch. */
const FINISHED_JOB_RETENTION = '7 days';
/** Rows per delete: each batch is its own short statement, so a large backlog never holds locks for long. */
const BATCH = 1_000;

export default defineTask({
  description:
    'Deletes expired refresh tokens, idempotency keys older than 24 h, and finished jobs and exports',
  payload: v.object({
    scheduledAt: v.pipe(
      v.string(),
      v.isoTimestamp(),
      v.description('The cron tick this run belongs to'),
      v.examples(['2026-11-27T09:00:00.000Z']),
    ),
  }),
  schedule: '0 * * * *',
  // A missed run is made up by the next hourly tick.
  retries: 2,
  timeoutMs: 5 * 60_000,
  async run({ sql, signal, log }) {
    // Rows another transaction holds are skipped (`skip locked`), not waited on: the next tick takes them.
    const refreshTokens = await inBatches(
      signal,
      (limit) => sql`
      delete from refresh_tokens where id in (
        select id from refresh_tokens
        where expires_at < now() - ${REFRESH_TOKEN_GRACE}::interval
        limit ${limit} for update skip locked)`,
    );
    const idempotencyKeys = await inBatches(
      signal,
      (limit) => sql`
      delete from idempotency_keys where (user_id, key) in (
        select user_id, key from idempotency_keys
        where created_at < now() - ${IDEMPOTENCY_KEY_TTL}::interval
        limit ${limit} for update skip locked)`,
    );
    let exports = 0;
    const jobs = await inBatches(signal, async (limit) => {
      const [batch] = await purgeFinishedJobs(sql, limit);
      exports += batch?.exports ?? 0;
      return { count: batch?.jobs ?? 0 };
    });
    const purged = { refreshTokens, idempotencyKeys, jobs, exports };
    log.info(purged, 'expired sessions purged');
    return purged;
  },
});

/** Deletes a batch of finished jobs with their exports (explicitly, so that they are counted). */
function purgeFinishedJobs(sql: Sql, limit: number) {
  return sql<{ jobs: number; exports: number }[]>`
    with doomed as (
      select id from jobs
      where status in ('succeeded', 'failed') and updated_at < now() - ${FINISHED_JOB_RETENTION}::interval
      limit ${limit} for update skip locked
    ), gone_exports as (
      delete from exports where id in (select id from doomed) returning id
    ), gone_jobs as (
      delete from jobs where id in (select id from doomed) returning id
    )
    select (select count(*) from gone_jobs)::int as jobs, (select count(*) from gone_exports)::int as exports`;
}

/** Runs `purge` until a batch comes back short, stopping between batches when the job is told to stop. */
async function inBatches(signal: AbortSignal, purge: (limit: number) => Promise<{ count: number }>) {
  let total = 0;
  for (;;) {
    signal.throwIfAborted();
    const { count } = await purge(BATCH);
    total += count;
    if (count < BATCH) return total;
  }
}
