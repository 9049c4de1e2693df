import * as v from 'valibot';
import { inBatches } from '#runtime/jobs/purge.ts';
import { defineTask } from '#runtime/jobs/task.ts';

/**
 * Refresh tokens are kept for a day past their expiry: a client refreshing just too late is told its token
 * expired rather than that it is unknown. Spent and revoked tokens are not removed earlier than that, since
 * a spent token presented again is how a stolen token family is detected and revoked. A session goes once
 * none of its refresh tokens is left: it can no longer be refreshed, and its last access token expired long
 * before. (Job records, exports with them, and idempotency keys are the runtime's to purge.)
 */
const REFRESH_TOKEN_GRACE = '1 day';

export default defineTask({
  description: 'Deletes refresh tokens that expired more than a day ago, and the sessions left without one',
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
    // A day's margin, so that a session whose first token is being written as this runs is not taken.
    const sessions = await inBatches(
      signal,
      (limit) => sql`
      delete from sessions where id in (
        select id from sessions s
        where created_at < now() - ${REFRESH_TOKEN_GRACE}::interval
          and not exists (select 1 from refresh_tokens r where r.family_id = s.id)
        limit ${limit} for update skip locked)`,
    );
    log.info({ refreshTokens, sessions }, 'expired refresh tokens purged');
    return { refreshTokens, sessions };
  },
});
