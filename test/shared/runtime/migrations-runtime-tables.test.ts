import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Sql } from 'postgres';
import { describe, expect, it, onTestFinished } from 'vitest';
import { applyMigrations, migrate, readMigrations } from '#runtime/migrations.ts';
import { projectRoot } from '../../support/app.ts';
import { createScratchDatabase } from '../../support/processes.ts';

/** The reference app's migrations as they were before the runtime owned its tables, frozen for this test. */
const beforeRuntime = path.join(projectRoot, 'test/fixtures/sql-before-runtime');
const appSql = path.join(projectRoot, 'sql');

async function scratch(): Promise<Sql> {
  const database = await createScratchDatabase();
  onTestFinished(() => database.drop());
  return database.connect();
}

const columns = (sql: Sql, table: string) =>
  sql<{ column_name: string; data_type: string }[]>`
    select column_name, data_type from information_schema.columns
    where table_schema = current_schema() and table_name = ${table} order by column_name`;
const foreignKeys = (sql: Sql, table: string) =>
  sql<{ conname: string }[]>`
    select conname from pg_constraint where conrelid = ${table}::regclass and contype = 'f' order by conname`;

describe("the runtime's own tables", () => {
  it('are created before the app’s files, in the same ledger, and reference no app table', async () => {
    const sql = await scratch();
    const { applied } = await migrate(sql, appSql);
    expect(applied.slice(0, 3)).toEqual([
      'runtime/0001_create-jobs.sql',
      'runtime/0002_create-idempotency-keys.sql',
      'runtime/0003_create-outbox.sql',
    ]);
    expect(applied.slice(3)).toEqual((await readMigrations(appSql)).map((file) => file.name));
    expect(await foreignKeys(sql, 'jobs')).toEqual([]);
    expect(await foreignKeys(sql, 'idempotency_keys')).toEqual([]);
    expect(await foreignKeys(sql, 'outbox')).toEqual([]);
    expect(await columns(sql, 'jobs')).toContainEqual({ column_name: 'owner', data_type: 'text' });
    expect(await migrate(sql, appSql)).toEqual({ applied: [] });
  });

  it('exist for an app with no migrations of its own', async () => {
    const sql = await scratch();
    const empty = await mkdtemp(path.join(tmpdir(), 'no-sql-'));
    onTestFinished(() => rm(empty, { recursive: true, force: true }));
    await migrate(sql, empty);
    const [found] = await sql<{ jobs: string; keys: string; outbox: string }[]>`
      select to_regclass('jobs')::text as jobs, to_regclass('idempotency_keys')::text as keys,
             to_regclass('outbox')::text as outbox`;
    expect(found).toEqual({ jobs: 'jobs', keys: 'idempotency_keys', outbox: 'outbox' });
  });

  it('take over a database migrated by the earlier files, keeping its rows', async () => {
    const sql = await scratch();
    await applyMigrations(sql, await readMigrations(beforeRuntime));
    const [user] = await sql<{ id: string }[]>`
      insert into users (email, password_hash) values ('old@example.test', 'x') returning id`;
    const userId = user?.id as string;
    const jobId = '0b9f4c1e-7d2a-4e8b-9c61-3f5a2d7e8b10';
    await sql`insert into jobs (id, user_id, task, status) values (${jobId}, ${userId}, 'export-notes', 'succeeded')`;
    await sql`insert into exports (id, user_id, format) values (${jobId}, ${userId}, 'csv')`;
    await sql`insert into idempotency_keys (user_id, key, request_hash) values (${userId}, 'k', 'h')`;
    await sql`insert into outbox (queue_prefix, task, payload) values ('app', 'export-notes', '{}')`;

    const logged: unknown[] = [];
    const { applied } = await migrate(sql, appSql, { info: (obj, msg) => logged.push([obj, msg]) });

    // The runtime's files, then the app's files that came after the frozen ones.
    const frozen = new Set((await readMigrations(beforeRuntime)).map((file) => file.name));
    const newer = (await readMigrations(appSql)).map((file) => file.name).filter((name) => !frozen.has(name));
    expect(applied).toEqual([
      'runtime/0001_create-jobs.sql',
      'runtime/0002_create-idempotency-keys.sql',
      'runtime/0003_create-outbox.sql',
      ...newer,
    ]);
    expect(logged).toContainEqual([
      { migration: '0002_create-notes.sql' },
      'migration rewritten since applied; its new checksum recorded',
    ]);
    expect(await sql`select owner, task, status from jobs`).toEqual([
      { owner: userId, task: 'export-notes', status: 'succeeded' },
    ]);
    expect(await sql`select owner, key from idempotency_keys`).toEqual([{ owner: userId, key: 'k' }]);
    expect(await sql`select count(*)::int as n from outbox`).toEqual([{ n: 1 }]);
    expect(await foreignKeys(sql, 'jobs')).toEqual([]);
    expect(await foreignKeys(sql, 'idempotency_keys')).toEqual([]);
    // The app's export still goes with its job.
    await sql`delete from jobs where id = ${jobId}`;
    expect(await sql`select id from exports`).toEqual([]);
    expect(await migrate(sql, appSql)).toEqual({ applied: [] });
  });
});

describe('a rewritten migration', () => {
  it('is taken when it names the checksum it supersedes, and refused otherwise', async () => {
    const sql = await scratch();
    const dir = await mkdtemp(path.join(tmpdir(), 'supersedes-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, '0001_create-things.sql');
    await writeFile(file, 'create table things (id int);\ncreate table extras (id int);\n');
    await applyMigrations(sql, await readMigrations(dir));
    const [applied] = await readMigrations(dir);

    await writeFile(file, 'create table things (id int);\n');
    await expect(applyMigrations(sql, await readMigrations(dir))).rejects.toThrow(
      /0001_create-things\.sql: this migration was changed after being applied/,
    );
    await writeFile(file, `-- supersedes ${applied?.checksum}\ncreate table things (id int);\n`);
    expect(await applyMigrations(sql, await readMigrations(dir))).toEqual({ applied: [] });
    const [now] = await readMigrations(dir);
    expect(await sql`select checksum from schema_migrations`).toEqual([{ checksum: now?.checksum }]);
  });

  it('of the reference app names the checksum of the file it replaced', async () => {
    const [before, after] = await Promise.all([readMigrations(beforeRuntime), readMigrations(appSql)]);
    const rewritten = after.filter((file) =>
      before.some((old) => old.name === file.name && old.checksum !== file.checksum),
    );
    expect(rewritten.map((file) => file.name)).toEqual(['0002_create-notes.sql', '0003_create-jobs.sql']);
    for (const file of rewritten) {
      const old = before.find((candidate) => candidate.name === file.name);
      expect(file.supersedes, file.name).toContain(old?.checksum);
      expect(await readFile(file.path, 'utf8')).toContain('the runtime now owns');
    }
  });
});
