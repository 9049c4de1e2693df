import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres, { type Sql } from 'postgres';
import { afterAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { applyMigrations, readMigrations } from '#runtime/migrations.ts';

const env = inject('env');
const server = {
  host: env.PG_HOST,
  port: Number(env.PG_PORT),
  user: env.POSTGRES_USER,
  password: env.POSTGRES_PASSWORD,
  onnotice: () => {},
};
const admin = postgres({ ...server, database: 'postgres', max: 1 });
afterAll(() => admin.end({ timeout: 5 }));

/** A database of its own for one test, dropped when the test finishes; `connect()` opens more clients to it. */
async function freshDatabase(): Promise<{ sql: Sql; connect(): Sql }> {
  const name = `migrate_${randomBytes(6).toString('hex')}`;
  await admin`create database ${admin(name)}`;
  const clients: Sql[] = [];
  const connect = () => {
    const client = postgres({ ...server, database: name, max: 2 });
    clients.push(client);
    return client;
  };
  onTestFinished(async () => {
    await Promise.all(clients.map((client) => client.end({ timeout: 5 })));
    await admin`drop database if exists ${admin(name)} with (force)`;
  });
  return { sql: connect(), connect };
}

/** A temp folder holding the given files, removed when the test finishes. */
async function folder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'migrations-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

/** Applies one folder's files alone, without the runtime's own migrations. */
const migrateFolder = async (sql: Sql, dir: string, log?: Parameters<typeof applyMigrations>[2]) =>
  applyMigrations(sql, await readMigrations(dir), log);

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const tableExists = async (sql: Sql, table: string) =>
  (await sql<{ found: string | null }[]>`select to_regclass(${table}::text)::text as found`)[0]?.found !=
  null;
const recorded = async (sql: Sql) =>
  sql<{ name: string; checksum: string }[]>`select name, checksum from schema_migrations order by name`;

describe('migrate', () => {
  it('applies files in name order, records their checksums and logs each', async () => {
    const { sql } = await freshDatabase();
    // Written out of order, and each depends on the one before it, so only name order succeeds.
    const files = {
      '0010_add-note-title.sql': 'alter table notes add column title text not null default $$untitled$$;',
      '0002_create-notes.sql':
        'create table notes (id serial primary key, user_id int not null references users);',
      '0001_create-users.sql': 'create table users (id serial primary key);\ncreate index on users (id);',
      'README.md': 'not a migration',
    };
    const dir = await folder(files);
    const logged: unknown[] = [];

    const result = await migrateFolder(sql, dir, { info: (obj, msg) => logged.push([obj, msg]) });

    const names = ['0001_create-users.sql', '0002_create-notes.sql', '0010_add-note-title.sql'] as const;
    expect(result.applied).toEqual(names);
    expect(await recorded(sql)).toEqual(names.map((name) => ({ name, checksum: sha256(files[name]) })));
    expect(logged).toEqual(names.map((name) => [{ migration: name }, 'migration applied']));
    expect(await tableExists(sql, 'notes')).toBe(true);
  });

  it('applies nothing on a second run', async () => {
    const { sql } = await freshDatabase();
    const dir = await folder({ '0001_create-things.sql': 'create table things (id int);' });
    expect((await migrateFolder(sql, dir)).applied).toEqual(['0001_create-things.sql']);

    expect(await migrateFolder(sql, dir)).toEqual({ applied: [] });
    expect(await recorded(sql)).toHaveLength(1);
  });

  it('applies only the new file when one is added later', async () => {
    const { sql } = await freshDatabase();
    const dir = await folder({ '0001_create-things.sql': 'create table things (id int);' });
    await migrateFolder(sql, dir);
    await writeFile(join(dir, '0002_add-name.sql'), 'alter table things add column name text;');

    expect(await migrateFolder(sql, dir)).toEqual({ applied: ['0002_add-name.sql'] });
  });

  it('treats a missing folder as no migrations', async () => {
    const { sql } = await freshDatabase();
    expect(
      await migrateFolder(sql, join(tmpdir(), `no-such-folder-${randomBytes(4).toString('hex')}`)),
    ).toEqual({
      applied: [],
    });
  });

  it('refuses an applied file that was changed since, naming it, and applies nothing else', async () => {
    const { sql } = await freshDatabase();
    const dir = await folder({ '0001_create-things.sql': 'create table things (id int);' });
    await migrateFolder(sql, dir);
    await writeFile(join(dir, '0001_create-things.sql'), 'create table things (id bigint);');
    await writeFile(join(dir, '0002_create-others.sql'), 'create table others (id int);');

    await expect(migrateFolder(sql, dir)).rejects.toThrow(
      /0001_create-things\.sql: this migration was changed after being applied.*add a new migration file/s,
    );
    expect(await tableExists(sql, 'others')).toBe(false);
    expect((await recorded(sql)).map((row) => row.name)).toEqual(['0001_create-things.sql']);
  });

  it('refuses a badly named .sql file, naming it, before touching the database', async () => {
    const { sql } = await freshDatabase();
    const dir = await folder({ '0001_ok.sql': 'create table ok (id int);', '12_x.sql': 'select 1;' });

    await expect(migrateFolder(sql, dir)).rejects.toThrow(
      `${join(dir, '12_x.sql')}: migration files are named NNNN_name.sql`,
    );
    expect(await tableExists(sql, 'schema_migrations')).toBe(false);
  });

  it('refuses two files with the same number, naming both', async () => {
    const { sql } = await freshDatabase();
    const dir = await folder({ '0001_a.sql': 'select 1;', '0001_b.sql': 'select 2;' });

    await expect(migrateFolder(sql, dir)).rejects.toThrow(
      /0001_a\.sql and .*0001_b\.sql: two migrations share the number/,
    );
  });

  it('rolls back a failing file entirely, does not record it, and stops there', async () => {
    const { sql } = await freshDatabase();
    const dir = await folder({
      '0001_create-things.sql': 'create table things (id int);',
      '0002_broken.sql': 'create table half_done (id int);\ninsert into half_done values (1);\nselect 1/0;',
      '0003_create-later.sql': 'create table later (id int);',
    });

    await expect(migrateFolder(sql, dir)).rejects.toThrow(
      /0002_broken\.sql: migration failed.*division by zero/,
    );
    expect(await tableExists(sql, 'things')).toBe(true);
    expect(await tableExists(sql, 'half_done')).toBe(false);
    expect(await tableExists(sql, 'later')).toBe(false);
    expect((await recorded(sql)).map((row) => row.name)).toEqual(['0001_create-things.sql']);
  });

  it('applies each file exactly once when two runners start at the same time', async () => {
    const { connect } = await freshDatabase();
    const dir = await folder({
      '0001_create-runs.sql': 'create table runs (id serial primary key);',
      // The sleep holds the lock long enough that the second runner surely arrives while it is held.
      '0002_count-run.sql': 'insert into runs default values;\nselect pg_sleep(0.3);',
    });
    const [first, second] = [connect(), connect()];

    const results = await Promise.all([migrateFolder(first, dir), migrateFolder(second, dir)]);

    expect(results.flatMap((result) => result.applied).sort()).toEqual([
      '0001_create-runs.sql',
      '0002_count-run.sql',
    ]);
    expect(await first`select count(*)::int as n from runs`).toEqual([{ n: 1 }]);
    expect((await recorded(first)).map((row) => row.name)).toEqual([
      '0001_create-runs.sql',
      '0002_count-run.sql',
    ]);
  });
});
