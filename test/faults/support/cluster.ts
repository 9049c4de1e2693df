import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres, { type Sql } from 'postgres';
import { afterAll, beforeAll } from 'vitest';
import { type BundleProcess, installBuiltApp, runBundle, stopProcess } from '../../support/processes.ts';
import {
  freePort,
  startPostgres,
  startRedis,
  type ThrowawayPostgres,
  type ThrowawayRedis,
} from '../../support/throwaway-servers.ts';

export const faultRoot = fileURLToPath(new URL('../../fixtures/faults/', import.meta.url));

/** Where the stores of a cluster listen; the fault tests own them and may stop or restart them. */
export type Stores = {
  pg: { host: string; port: number; user: string };
  redis: { host: string; port: number };
};

/** A built copy of the fault app with its own database, and the processes running it. */
export type Cluster = Awaited<ReturnType<typeof startCluster>>;

/**
 * Builds the fault app, installs it in an empty folder, migrates a fresh database, and starts the HTTP process;
 * workers are started on demand. A worker that exits unexpectedly is started again, as Compose's restart policy
 * would, unless the test stopped it on purpose.
 */
export async function startCluster(stores: Stores, env: Record<string, string> = {}) {
  const { dir, cleanup } = await installBuiltApp(faultRoot);
  // The fault app enqueues through the outbox too: the runtime's own migrations bring its table.
  const database = `fault_${randomBytes(4).toString('hex')}`;
  const admin = postgres({ ...stores.pg, database: 'postgres', max: 1, onnotice: () => {} });
  await admin`create database ${admin(database)}`;
  await admin.end();
  const port = await freePort();
  const processEnv: Record<string, string> = {
    APP_ENV: 'test',
    LOG_LEVEL: 'info',
    PG_HOST: stores.pg.host,
    PG_PORT: String(stores.pg.port),
    POSTGRES_USER: stores.pg.user,
    POSTGRES_DB: database,
    RD_HOST: stores.redis.host,
    RD_PORT: String(stores.redis.port),
    RD_PREFIX: `fault${randomBytes(3).toString('hex')}`,
    AP_PORT: String(port),
    MIGRATE_ON_START: 'false',
    WORKER_STALL_INTERVAL_MS: '1000',
    SHUTDOWN_TIMEOUT_MS: '5000',
    KEYS_DIR: path.join(dir, 'keys'),
    ...env,
  };
  const migrate = runBundle(dir, 'http.mjs', ['migrate'], processEnv);
  const migrated = await migrate.exited;
  if (migrated.code !== 0) throw new Error(`migrate failed:\n${migrate.output()}`);

  const sql = postgres({ ...stores.pg, database, max: 2, onnotice: () => {} });
  const workers: Supervised[] = [];
  let http: BundleProcess | undefined;

  const cluster = {
    env: processEnv,
    dir,
    sql,
    base: `http://127.0.0.1:${port}`,
    workers,
    get http() {
      return http;
    },
    async startHttp() {
      http = runBundle(dir, 'http.mjs', [], processEnv);
      await http.waitForLog((line) => line.msg === 'listening', 30_000);
      return http;
    },
    /** Starts a supervised worker; `restart: false` leaves it down when it exits. */
    async startWorker(options: { restart?: boolean; env?: Record<string, string> } = {}) {
      const worker = supervise(
        () => runBundle(dir, 'worker.mjs', [], { ...processEnv, ...options.env }),
        options,
      );
      workers.push(worker);
      await worker.current.waitForLog((line) => line.msg === 'worker started', 30_000);
      return worker;
    },
    ledger: () => ledgerFigures(sql),
    async stop() {
      for (const worker of workers) worker.stop();
      await Promise.all([...workers.map((worker) => stopProcess(worker.current)), stopProcess(http)]);
      await sql.end({ timeout: 5 });
      await cleanup();
    },
  };
  return cluster;
}

/**
 * Registers the hooks every fault test file needs: before its tests, throwaway PostgreSQL and Redis and a
 * cluster on them with its HTTP process listening (unless `startHttp: false`); after them, the cluster
 * stopped before the stores, so that none of its processes outlives them and logs their loss. `persistRedis`
 * runs Redis append-only, as Compose does. Read the stores and the cluster from the getters once tests run.
 */
export function useFaultCluster(
  options: { persistRedis?: boolean; env?: Record<string, string>; startHttp?: boolean } = {},
) {
  let pg: ThrowawayPostgres | undefined;
  let redis: ThrowawayRedis | undefined;
  let cluster: Cluster | undefined;

  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis({ persist: options.persistRedis })]);
    cluster = await startCluster({ pg, redis }, options.env);
    if (options.startHttp !== false) await cluster.startHttp();
  });

  afterAll(async () => {
    await cluster?.stop();
    await Promise.all([pg?.stop(), redis?.stop()]);
  });

  return {
    get pg(): ThrowawayPostgres {
      return started(pg, 'PostgreSQL');
    },
    get redis(): ThrowawayRedis {
      return started(redis, 'Redis');
    },
    get cluster(): Cluster {
      return started(cluster, 'the cluster');
    },
  };
}

/** A getter's value; a clear error if the hooks did not set it (read too early, or beforeAll failed). */
function started<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is not started: read it inside a test or a later hook`);
  return value;
}

type Supervised = {
  current: BundleProcess;
  /** Every process this supervisor started, oldest first. */
  generations: BundleProcess[];
  starts: number;
  stop(): void;
};

function supervise(start: () => BundleProcess, options: { restart?: boolean }): Supervised {
  const state: Supervised = {
    current: start(),
    generations: [],
    starts: 1,
    stop: () => {
      stopped = true;
    },
  };
  let stopped = false;
  const watch = (child: BundleProcess) => {
    state.generations.push(child);
    child.exited.then(() => {
      if (stopped || options.restart === false) return;
      state.current = start();
      state.starts += 1;
      watch(state.current);
    });
  };
  watch(state.current);
  return state;
}

/** What the ledger says about every job the queue accepted. */
export async function ledgerFigures(sql: Sql) {
  const [row] = await sql<
    {
      enqueued: number;
      finished: number;
      duplicatedRuns: number;
      duplicatedEffects: number;
      aborted: number;
    }[]
  >`
    select count(*)::int as enqueued,
           count(finished_at)::int as finished,
           coalesce(sum(greatest(runs - 1, 0)), 0)::int as "duplicatedRuns",
           count(*) filter (where effects > 1)::int as "duplicatedEffects",
           count(*) filter (where aborted)::int as aborted
    from ledger`;
  return row as NonNullable<typeof row>;
}

/** The one JSON line of figures each fault test prints. */
export function report(fault: string, figures: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ fault, ...figures })}\n`);
}
