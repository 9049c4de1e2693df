import * as v from 'valibot';
import type { NamedTask } from './queue.ts';
import { defineTask } from './task.ts';

/** Finished job records are kept a week for their owners to read (rows of the app's that cascade go too). */
const FINISHED_JOB_RETENTION = '7 days';
/** Idempotency keys are promised for 24 hours. */
const IDEMPOTENCY_KEY_TTL = '24 hours';
/** Rows per delete: each batch is its own short statement, so a large backlog never holds locks for long. */
const BATCH = 1_000;

/**
 * The runtime's own retention, run by every worker on the hourly schedule (once per tick however many
 * workers run): finished job records and expired idempotency keys. The app's purge tasks keep only the app's
 * own data.
 */
export const purgeRuntimeTables = defineTask({
  description: 'Deletes finished job records older than 7 days and idempotency keys older than 24 h',
  payload: v.object({ scheduledAt: v.pipe(v.string(), v.isoTimestamp()) }),
  schedule: '17 * * * *',
  // A missed run is made up by the next hourly tick.
  retries: 2,
  timeoutMs: 5 * 60_000,
  async run({ sql, signal, log }) {
    // Rows another transaction holds are skipped (`skip locked`), not waited on: the next tick takes them.
    const jobs = await inBatches(
      signal,
      (limit) => sql`
      delete from jobs where id in (
        select id from jobs
        where status in ('succeeded', 'failed') and updated_at < now() - ${FINISHED_JOB_RETENTION}::interval
        limit ${limit} for update skip locked)`,
    );
    const idempotencyKeys = await inBatches(
      signal,
      (limit) => sql`
      delete from idempotency_keys where (owner, key) in (
        select owner, key from idempotency_keys
        where created_at < now() - ${IDEMPOTENCY_KEY_TTL}::interval
        limit ${limit} for update skip locked)`,
    );
    const purged = { jobs, idempotencyKeys };
    log.info(purged, 'runtime tables purged');
    return purged;
  },
});

/** The tasks every worker runs besides the app's. Their names start with `runtime/`, which apps may not use. */
export const RUNTIME_TASKS: NamedTask[] = [{ name: 'runtime/purge', definition: purgeRuntimeTables }];

/**
 * Runs `purge` until a batch comes back short, stopping between batches when the job is told to stop.
 * Exported for the app's own purge tasks, which delete the same way.
 */
export async function inBatches(
  signal: AbortSignal,
  purge: (limit: number) => PromiseLike<{ count: number }>,
): Promise<number> {
  let total = 0;
  for (;;) {
    signal.throwIfAborted();
    const { count } = await purge(BATCH);
    total += count;
    if (count < BATCH) return total;
  }
}
