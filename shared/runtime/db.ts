import postgres, { type Sql, type TransactionSql } from 'postgres';
import type { Config } from './config.ts';

/**
 * One pool per process, sized by PG_POOL_MAX, on PG_HOST:PG_PORT. Behind PgBouncer in transaction mode
 * (PG_POOLER=transaction) its queries are not prepared, since a named statement lives on one server connection
 * and the next transaction may get another, and its LISTEN goes to PostgreSQL itself (PG_DIRECT_HOST): through
 * the pooler the session that listens would be handed to other clients between transactions, and notifications
 * lost.
 */
export function createSql(config: Config['postgres']): Sql {
  const sql = postgres(options(config));
  if (config.pooler !== 'transaction') return sql;
  // postgres.js opens LISTEN's own connection with the pool's options: a second client, on the direct address,
  // gives it one that is really a session. Opened on first use only; ended with the pool.
  let direct: Sql | undefined;
  const directSql = () => {
    direct ??= createDirectSql(config, 1);
    return direct;
  };
  const end = sql.end;
  return Object.assign(sql, {
    listen: ((...args: Parameters<Sql['listen']>) => directSql().listen(...args)) as Sql['listen'],
    end: async (...args: Parameters<Sql['end']>) => {
      await Promise.all([end(...args), direct?.end(...args)]);
    },
  });
}

/**
 * A pool of `max` connections to PostgreSQL itself (PG_DIRECT_HOST:PG_DIRECT_PORT, which are PG_HOST:PG_PORT
 * unless set), for work that needs a session of its own: the migrations hold a session-level advisory lock.
 */
export function createDirectSql(config: Config['postgres'], max: number): Sql {
  return postgres({ ...options(config), ...config.direct, max, prepare: true });
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

function options(config: Config['postgres']) {
  return {
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password || undefined,
    database: config.database,
    max: config.poolMax,
    prepare: config.pooler !== 'transaction',
    connect_timeout: 5,
    // postgres.js waits before each reconnect, up to 20 s after a run of refused connects, and a query handed to
    // a waiting connection waits with it: after a short outage, requests hang long after the database is back.
    backoff: reconnectDelaySeconds,
    idle_timeout: 60,
    onnotice: () => {},
    connection: { application_name: 'handler-kit' },
  };
}

/** The pool or a transaction from `sql.begin`: what functions that run queries take. */
export type Queryable = Sql | TransactionSql;

/** Seconds a connection waits before its next connect after `failures` refused ones in a row: short, capped. */
function reconnectDelaySeconds(failures: number): number {
  return Math.min(0.05 * 2 ** failures, 0.5);
}
