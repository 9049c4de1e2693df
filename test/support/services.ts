import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { migrate } from '#runtime/migrations.ts';
import { openStores } from './stores.ts';

export { freePort, startPostgres, startRedis } from './throwaway-servers.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Environment variables for `loadConfig`, pointing at this run's database and Redis. */
    env: Record<string, string>;
  }
}

type Step = () => Promise<unknown>;

/**
 * vitest globalSetup: uses the PostgreSQL and Redis named by PG_HOST / RD_HOST, or starts throwaway ones,
 * creates a fresh database with the project's migrations applied, and provides the app's env to tests.
 */
export default async function setup(project: Pick<TestProject, 'provide'>): Promise<() => Promise<void>> {
  const undo: Step[] = [];
  // Every step runs even if one fails, so a failed drop never leaves a server running.
  const teardown = async () => {
    const errors: unknown[] = [];
    for (const step of undo.splice(0).reverse()) await step().catch((error: unknown) => errors.push(error));
    if (errors.length > 0) throw new AggregateError(errors, 'test services teardown failed');
  };
  try {
    const stores = await openStores(process.env, (step) => undo.push(step));
    const pg = { connection: stores.pg };
    const { redis } = stores;
    const suffix = randomBytes(4).toString('hex');
    const database = `test_${Date.now()}_${suffix}`;

    const admin = postgres({ ...pg.connection, database: 'postgres', max: 1, onnotice: () => {} });
    undo.push(() => admin.end({ timeout: 5 }));
    await admin`create database ${admin(database)}`.catch((error: Error) => {
      throw new Error(
        `Could not create the test database on ${pg.connection.host}:${pg.connection.port}: ${error.message}`,
      );
    });
    undo.push(() => admin`drop database if exists ${admin(database)} with (force)`);

    const db = postgres({ ...pg.connection, database, max: 1, onnotice: () => {} });
    try {
      await migrate(db, fileURLToPath(new URL('../../sql', import.meta.url)));
    } finally {
      await db.end({ timeout: 5 });
    }

    project.provide('env', {
      APP_ENV: 'test',
      LOG_LEVEL: 'silent',
      PG_HOST: pg.connection.host,
      PG_PORT: String(pg.connection.port),
      POSTGRES_USER: pg.connection.user,
      POSTGRES_PASSWORD: pg.connection.password,
      POSTGRES_DB: database,
      RD_HOST: redis.host,
      RD_PORT: String(redis.port),
      RD_PASSWORD: redis.password,
      // A shared Redis may serve several runs at once; the prefix keeps their keys apart.
      RD_PREFIX: `test${suffix}`,
      MIGRATE_ON_START: 'false',
      // No load balancer stands in front of a test's server: a SIGTERM stops it at once (the drain's own test sets it).
      SHUTDOWN_DRAIN_MS: '0',
      // The real cost takes a third of a second a hash; tests keep the format and lower the cost.
      PASSWORD_SCRYPT_N: '1024',
      // Requests through app.request() have no socket, so every test's client address is the same one; the
      // per-address limits would count the whole run. Tests of those limits set them low on an app of their own.
      LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE: '100000',
      REGISTER_ATTEMPTS_PER_HOUR: '100000',
    });
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}
