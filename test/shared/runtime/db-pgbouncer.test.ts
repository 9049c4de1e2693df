import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../support/app.ts';
import { testSql } from '../../support/context.ts';
import { findPgBouncer, startPgBouncer, type ThrowawayPgBouncer } from '../../support/pgbouncer.ts';
import {
  type BuiltApp,
  type BundleProcess,
  installBuiltAppWithDatabase,
  runBundle,
  stopProcess,
} from '../../support/processes.ts';
import { freePort } from '../../support/services.ts';

const pgbouncer = findPgBouncer();

describe.skipIf(pgbouncer)('the app behind PgBouncer', () => {
  it.skip('needs pgbouncer, which is not installed here: apt-get install pgbouncer (Debian, Ubuntu)', () => {});
});

describe.runIf(pgbouncer)(
  'the reference app behind PgBouncer in transaction mode (PG_POOLER=transaction)',
  () => {
    let bouncer: ThrowawayPgBouncer;
    let app: BuiltApp;
    let env: Record<string, string>;
    let base: string;
    let http: BundleProcess | undefined;
    let worker: BundleProcess | undefined;

    beforeAll(async () => {
      app = await installBuiltAppWithDatabase(projectRoot, 'bouncer');
      bouncer = await startPgBouncer(pgbouncer as string, {
        host: app.env.PG_HOST as string,
        port: Number(app.env.PG_PORT),
        user: app.env.POSTGRES_USER as string,
        password: app.env.POSTGRES_PASSWORD,
      });
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      env = {
        ...app.env,
        PG_HOST: bouncer.host,
        PG_PORT: String(bouncer.port),
        PG_POOLER: 'transaction',
        PG_DIRECT_HOST: app.env.PG_HOST as string,
        PG_DIRECT_PORT: app.env.PG_PORT as string,
        // More connections than PgBouncer's pool has: its server connections are shared between transactions.
        PG_POOL_MAX: '12',
        // The relay wakes on NOTIFY only: a job it relays proves its LISTEN reached PostgreSQL itself.
        OUTBOX_POLL_INTERVAL_MS: '3600000',
        AP_PORT: String(port),
        HTTP_METRICS_PORT: String(await freePort()),
        WORKER_METRICS_PORT: String(await freePort()),
        MIGRATE_ON_START: 'true',
        KEYS_DIR: path.join(app.dir, 'keys'),
        WORKER_HEARTBEAT_FILE: path.join(app.dir, 'heartbeat.json'),
      };
    }, 120_000);
    afterAll(async () => {
      await stopProcess(http);
      await stopProcess(worker);
      await bouncer?.stop();
      await app?.cleanup();
    });

    it('refuses to start without the direct address, saying which variable to set', async () => {
      const { PG_DIRECT_HOST: _, PG_DIRECT_PORT: __, ...withoutDirect } = env;
      const refused = runBundle(app.dir, 'http.mjs', ['migrate'], withoutDirect);
      expect((await refused.exited).code).toBe(1);
      expect(refused.output()).toContain('PG_DIRECT_HOST: is required with PG_POOLER=transaction');
    });

    it('migrates through the direct connection, and serves sign-up, sign-in and notes through the pooler', async () => {
      http = runBundle(app.dir, 'http.mjs', [], env);
      await http.waitForLog((line) => line.msg === 'listening', 30_000);
      expect(http.logs().find((line) => line.msg === 'migrations up to date')?.applied).toBeGreaterThan(0);
      worker = runBundle(app.dir, 'worker.mjs', [], env);
      await worker.waitForLog((line) => line.msg === 'worker started');

      const email = `bouncer-${randomBytes(3).toString('hex')}@example.test`;
      const password = 'correct horse battery staple';
      const registered = await call('POST', '/auth/register', { body: { email, password, name: 'Bo' } });
      expect(registered.status).toBe(201);
      // Enqueued through the outbox in the sign-up's transaction; relayed on its NOTIFY; run by the worker.
      await worker.waitForLog((line) => line.task === 'send-welcome-email' && line.outcome === 'succeeded');

      const login = await call('POST', '/auth/login', { body: { email, password } });
      expect(login.status).toBe(200);
      const token = login.body.accessToken as string;
      // Many requests at once, so that transactions share PgBouncer's few server connections.
      const created = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          call('POST', '/notes', { token, body: { title: `Note ${index}`, body: 'through the pooler' } }),
        ),
      );
      expect(created.map((answer) => answer.status)).toEqual(created.map(() => 201));
      const list = await call('GET', '/notes?limit=50', { token });
      expect((list.body.items as unknown[]).length).toBe(20);

      const exported = await call('POST', '/notes/exports', { token, body: { format: 'ndjson' } });
      expect(exported.status).toBe(202);
      const jobUrl = exported.headers.get('location') as string;
      await worker.waitForLog((line) => line.task === 'export-notes' && line.outcome === 'succeeded', 30_000);
      expect((await call('GET', jobUrl, { token })).body.status).toBe('succeeded');
    });

    it('sent the queries through PgBouncer, and the LISTEN straight to PostgreSQL', async () => {
      const [stats] = (await bouncer.show('STATS')).filter((row) => row.database === app.database);
      expect(Number(stats?.total_xact_count)).toBeGreaterThan(20);
      const servers = await bouncer.show('SERVERS');
      const pooledPorts = new Set(servers.map((row) => Number(row.local_port)));
      // pg_stat_activity covers the whole server: any database of it will do.
      const sql = testSql();
      const listeners = await sql<{ port: number; application_name: string }[]>`
      select client_port as port, application_name from pg_stat_activity
      where datname = ${app.database} and query ilike 'listen %'`.finally(() => sql.end({ timeout: 5 }));
      expect(listeners).toHaveLength(1);
      expect(pooledPorts.has(Number(listeners[0]?.port))).toBe(false);
      expect(listeners[0]?.application_name).toBe('handler-kit');
    });

    async function call(method: string, url: string, init: { body?: unknown; token?: string } = {}) {
      const response = await fetch(`${base}${url}`, {
        method,
        headers: {
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      const text = await response.text();
      const body = (text.startsWith('{') ? JSON.parse(text) : {}) as Record<string, unknown>;
      return { status: response.status, headers: response.headers, body };
    }
  },
);
