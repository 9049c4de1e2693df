import postgres, { type Sql, type TransactionSql } from 'postgres';
import type { Config } from './config.ts';

/** One pool per process, sized by PG_POOL_MAX. */
export function createSql(config: Config['postgres']): Sql {
  return postgres({
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password || undefined,
    database: config.database,
    max: config.poolMax,
    connect_timeout: 5,
    // postgres.js waits before each reconnect, up to 20 s after a run of refused connects, and a query handed to
    // a waiting connection waits with it: after a short outage, requests hang long after the database is back.
    backoff: reconnectDelaySeconds,
    idle_timeout: 60,
    onnotice: () => {},
    connection: { application_name: 'handler-kit' },
  });
}

/** Resolves when Postgres answers a trivial query within the deadline. */
export async function pingPostgres(sql: Sql, timeoutMs = 1_000): Promise<void> {
  await withDeadline(sql`select 1`.execute(), timeoutMs, 'PostgreSQL did not answer');
}

/** Rejects with `message` when `promise` has not settled within `ms`. */
export function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** The pool or a transaction from `sql.begin`: what functions that run queries take. */
export type Queryable = Sql | TransactionSql;

/** Seconds a connection waits before its next connect after `failures` refused ones in a row: short, capped. */
function reconnectDelaySeconds(failures: number): number {
  return Math.min(0.05 * 2 ** failures, 0.5);
}
