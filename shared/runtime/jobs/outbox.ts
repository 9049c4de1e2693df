import type { Queryable } from '../db.ts';
import type { JobPolicy } from './task.ts';

/** Delivered only when the inserting transaction commits; the payload is the queue prefix. */
export const OUTBOX_CHANNEL = 'outbox';

/** What an outbox row keeps besides its task and payload, so that the relay can enqueue it as asked. */
export type OutboxOptions = {
  jobId?: string;
  delayMs?: number;
  tracked?: boolean;
  requestId?: string;
  policy: JobPolicy;
};

/**
 * Writes a job to the outbox through `tx`, and notifies the relays (Postgres delivers that at commit). Redis
 * is not involved, so this cannot fail because Redis is down. The job id is `options.jobId`, else the row's id.
 */
export async function addToOutbox(
  tx: Queryable,
  job: { prefix: string; task: string; payload: unknown; options: OutboxOptions },
): Promise<{ id: string }> {
  const [row] = await tx<{ id: string }[]>`
    insert into outbox (queue_prefix, task, payload, options)
    values (${job.prefix}, ${job.task}, ${tx.json(job.payload as never)}, ${tx.json(job.options as never)})
    returning id`;
  await tx`select pg_notify(${OUTBOX_CHANNEL}, ${job.prefix})`;
  return { id: job.options.jobId ?? (row as { id: string }).id };
}

/** Rows waiting in the outbox (of one queue prefix, or all): a gauge of how far the relays are behind. */
export async function outboxBacklog(sql: Queryable, prefix?: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from outbox ${prefix === undefined ? sql`` : sql`where queue_prefix = ${prefix}`}`;
  return row?.n ?? 0;
}
