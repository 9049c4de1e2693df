import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import { withDeadline } from '../db.ts';
import { classifyError } from '../errors.ts';
import { OUTBOX_CHANNEL, type OutboxOptions } from './outbox.ts';
import { type Enqueue, taskRef } from './task.ts';

/** PostgreSQL's code for a table that does not exist. */
const UNDEFINED_TABLE = '42P01';

export type OutboxRelayOptions = {
  sql: Sql;
  log: Logger;
  /** RD_PREFIX: the relay moves only the rows written for its own queues. */
  prefix: string;
  /** Puts a job straight on its queue (never through `tx`): the worker's own `enqueue`. */
  enqueue: Enqueue;
  /** The fallback wake-up, for a missed or undelivered notification. */
  pollIntervalMs: number;
  batchSize?: number;
  /** How long a row the queue refused waits before its next try: doubling from `initialMs`, up to `maxMs`. */
  retry?: { initialMs: number; maxMs: number };
};

export type OutboxRelay = {
  /** Settles once the relay listens for notifications (or gave up on that for now) and made its first pass. */
  ready: Promise<void>;
  /** Finishes the pass under way and stops listening; the queues are the caller's to close. */
  close(): Promise<void>;
};

/**
 * Moves committed outbox rows onto their queues: wakes on NOTIFY and every `pollIntervalMs`, claims due rows
 * with `for update skip locked` (so that relays of many workers never take the same row), enqueues each with
 * its job id, and deletes those Redis took in the same transaction. A row Redis refused gets its error and a
 * later `available_at`, and is tried again, forever: rows are never dropped.
 *
 * Delivery is at least once. A relay that dies after Redis took a job but before its delete committed leaves
 * the row, and the next pass enqueues it again under the same id: bee-queue drops that while the job exists,
 * but once the job has finished and been removed, the task runs again. So is an enqueue that timed out yet
 * reached Redis later. Tasks must be idempotent.
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { sql, log, prefix, pollIntervalMs } = options;
  const batchSize = options.batchSize ?? 100;
  const retry = options.retry ?? { initialMs: 1_000, maxMs: 30_000 };
  let unlisten: (() => Promise<unknown>) | undefined;
  let stopped = false;
  let poked = false;
  let wake = () => {};
  let problem: string | undefined;
  const poke = () => {
    poked = true;
    wake();
  };
  const report = (now: string | undefined, error?: unknown) => {
    // A worker started before the first migration: one line that says so, not a PostgreSQL stack every pass.
    if ((error as { code?: string } | undefined)?.code === UNDEFINED_TABLE) {
      now = 'the outbox table does not exist yet (migrations have not run: `node dist/http.mjs migrate`)';
      if (now !== problem) log.warn({ prefix }, `${now}; waiting for it`);
      problem = now;
      return;
    }
    if (now && now !== problem)
      log.warn({ ...detailOf(error), prefix }, `${now}; outbox rows wait and are retried`);
    if (!now && problem) log.info({ prefix }, 'outbox relay working again');
    problem = now;
  };

  // Retried after every pass until it works; said once, not at every try. Behind a transaction pooler,
  // createSql sends this LISTEN to PostgreSQL itself (PG_DIRECT_HOST), where a session stays one.
  let listenFailing = false;
  const listen = async () => {
    try {
      const listener = await sql.listen(OUTBOX_CHANNEL, (payload) => payload === prefix && poke(), poke);
      unlisten = listener.unlisten;
      listenFailing = false;
    } catch (error) {
      if (!listenFailing) log.warn(detailOf(error), 'outbox relay could not LISTEN; it polls until it can');
      listenFailing = true;
    }
  };

  // `more`: more rows may be due right now, as after a full batch that Redis took whole.
  const pass = async (): Promise<{ more: boolean; failed: boolean }> => {
    const { claimed, failure } = await relayBatch(sql, {
      prefix,
      batchSize,
      retry,
      enqueue: options.enqueue,
    });
    if (failure) {
      report('outbox relay cannot enqueue', failure);
      return { more: false, failed: true };
    }
    if (claimed > 0) log.debug({ relayed: claimed }, 'outbox rows enqueued');
    report(undefined);
    return { more: claimed === batchSize, failed: false };
  };

  let markReady = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const loop = (async () => {
    await listen();
    while (!stopped) {
      poked = false;
      let outcome = { more: false, failed: true };
      try {
        outcome = await pass();
      } catch (error) {
        report('outbox relay cannot read the outbox', error);
      }
      const { more, failed } = outcome;
      markReady();
      if (stopped) break;
      if (more || poked) continue;
      // Rows that failed are due again within retry.maxMs, however long the poll interval.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, failed ? Math.min(pollIntervalMs, retry.maxMs) : pollIntervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = () => {};
      if (!unlisten && !stopped) await listen();
    }
  })();

  return {
    ready,
    async close() {
      stopped = true;
      wake();
      markReady();
      await loop;
      await withDeadline(unlisten?.() ?? Promise.resolve(), 1_000, 'UNLISTEN').catch(() => {});
    },
  };
}

type OutboxRow = { id: string; task: string; payload: unknown; options: OutboxOptions; age_ms: number };

/** One claim-enqueue-delete transaction; returns how many rows it claimed and the first enqueue error. */
async function relayBatch(
  sql: Sql,
  relay: Required<Pick<OutboxRelayOptions, 'prefix' | 'batchSize' | 'retry' | 'enqueue'>>,
): Promise<{ claimed: number; failure?: Error }> {
  return sql.begin(async (tx) => {
    const rows = await tx<OutboxRow[]>`
      select id, task, payload, options,
             (extract(epoch from clock_timestamp() - created_at) * 1000)::float8 as age_ms
      from outbox
      where queue_prefix = ${relay.prefix} and available_at <= now()
      order by available_at
      limit ${relay.batchSize}
      for update skip locked`;
    const outcomes = await Promise.allSettled(rows.map((row) => enqueueRow(relay.enqueue, row)));
    const done = rows.filter((_, index) => outcomes[index]?.status === 'fulfilled').map((row) => row.id);
    if (done.length > 0) await tx`delete from outbox where id in ${tx(done)}`;
    let failure: Error | undefined;
    for (const [index, outcome] of outcomes.entries()) {
      if (outcome.status === 'fulfilled') continue;
      failure ??= outcome.reason as Error;
      const { initialMs, maxMs } = relay.retry;
      await tx`
        update outbox set
          attempts = attempts + 1,
          last_error = ${String((outcome.reason as Error)?.message ?? outcome.reason)},
          available_at = clock_timestamp() + least(${maxMs}::float8, ${initialMs}::float8 * power(2, least(attempts, 30)))
            * interval '1 millisecond'
        where id = ${(rows[index] as OutboxRow).id}`;
    }
    return { claimed: rows.length, failure };
  });
}

function enqueueRow(enqueue: Enqueue, row: OutboxRow) {
  const { policy, jobId, delayMs = 0, ...rest } = row.options;
  // The delay counts from when the job was enqueued, not from when the relay got to the row.
  const remainingMs = Math.ceil(delayMs - row.age_ms);
  return enqueue(taskRef(row.task, policy), row.payload, {
    ...rest,
    jobId: jobId ?? row.id,
    ...(remainingMs > 0 ? { delayMs: remainingMs } : {}),
  });
}

/** A database that cannot be reached is one line with its reason; anything else keeps its stack for the log. */
function detailOf(error: unknown): Record<string, unknown> {
  return classifyError(error)?.status === 503 ? { reason: (error as Error).message } : { err: error };
}
