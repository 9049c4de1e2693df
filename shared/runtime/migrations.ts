import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReservedSql, Sql } from 'postgres';
import createJobs from './sql/0001_create-jobs.sql?raw';
import createIdempotencyKeys from './sql/0002_create-idempotency-keys.sql?raw';
import createOutbox from './sql/0003_create-outbox.sql?raw';

/** Anything with pino's `info(obj, msg)` shape. */
export type MigrationLog = { info(obj: object, msg?: string): void };

/**
 * One migration: its name in the ledger, where it came from (for messages), its SQL and checksum, and the
 * checksums of earlier versions of it that it stands for (see SUPERSEDES).
 */
export type MigrationFile = {
  name: string;
  path: string;
  text: string;
  checksum: string;
  supersedes: string[];
};

// Every replica takes this same session lock, so only one of them migrates at a time.
const MIGRATION_LOCK_ID = 7_250_019_338;
const MIGRATION_NAME = /^\d{4}_[a-z0-9][a-z0-9_-]*\.sql$/;
/**
 * `-- supersedes <sha256>` in a migration says that it was rewritten, and that a database which applied the
 * version with that checksum is up to date with it (as when the runtime took over tables an app file used to
 * create): the ledger takes the new checksum instead of refusing the file.
 */
const SUPERSEDES = /^-- supersedes ([0-9a-f]{64})\b/gm;

/** The runtime's own migrations (job records, idempotency keys, outbox), applied before the app's. */
const RUNTIME_MIGRATIONS: MigrationFile[] = [
  ['0001_create-jobs.sql', createJobs],
  ['0002_create-idempotency-keys.sql', createIdempotencyKeys],
  ['0003_create-outbox.sql', createOutbox],
].map(([name, text]) => migrationFile(`runtime/${name}`, `the runtime's sql/${name}`, text as string));

/**
 * Applies the runtime's pending migrations, then the app's `NNNN_name.sql` files in `dir` in file-name order,
 * each in its own transaction, under one Postgres advisory lock so that replicas starting together apply each
 * exactly once. Refuses to run if an applied file has changed since. `sql` must reach PostgreSQL itself, not
 * PgBouncer in transaction mode, which would not keep the session the lock belongs to (see createDirectSql).
 */
export async function migrate(sql: Sql, dir: string, log?: MigrationLog): Promise<{ applied: string[] }> {
  // Read and check the files before touching the database, so a bad folder changes nothing.
  return applyMigrations(sql, [...RUNTIME_MIGRATIONS, ...(await readMigrations(dir))], log);
}

/** Applies the pending ones of `files`, in the order given, under the migration lock (see migrate). */
export async function applyMigrations(
  sql: Sql,
  files: MigrationFile[],
  log?: MigrationLog,
): Promise<{ applied: string[] }> {
  const conn = await sql.reserve();
  try {
    await conn`select pg_advisory_lock(${MIGRATION_LOCK_ID}::bigint)`;
    try {
      await conn`
        create table if not exists schema_migrations (
          name text primary key,
          checksum text not null,
          applied_at timestamptz not null default now()
        )`;
      const rows = await conn<
        { name: string; checksum: string }[]
      >`select name, checksum from schema_migrations`;
      const recorded = new Map(rows.map((row) => [row.name, row.checksum]));
      const superseded = files.filter((file) => changedSinceApplied(file, recorded.get(file.name)));
      for (const file of superseded) {
        await conn`update schema_migrations set checksum = ${file.checksum} where name = ${file.name}`;
        log?.info({ migration: file.name }, 'migration rewritten since applied; its new checksum recorded');
      }
      const applied: string[] = [];
      for (const file of files) {
        if (recorded.has(file.name)) continue;
        await applyOne(conn, file);
        applied.push(file.name);
        log?.info({ migration: file.name }, 'migration applied');
      }
      return { applied };
    } finally {
      // A failed unlock means the connection is gone, and Postgres drops its session locks with it.
      await conn`select pg_advisory_unlock(${MIGRATION_LOCK_ID}::bigint)`.catch(() => {});
    }
  } finally {
    conn.release();
  }
}

/**
 * Whether an applied file was rewritten with a `supersedes` line for the version applied. Throws for a file
 * changed without one: its database may not be what the file now says.
 */
function changedSinceApplied(file: MigrationFile, checksum: string | undefined): boolean {
  if (checksum === undefined || checksum === file.checksum) return false;
  if (file.supersedes.includes(checksum)) return true;
  throw new Error(
    `${file.path}: this migration was changed after being applied (checksum differs from the one recorded ` +
      'in schema_migrations). Restore it and add a new migration file for the change instead.',
  );
}

async function applyOne(conn: ReservedSql, file: MigrationFile): Promise<void> {
  await conn`begin`;
  try {
    await conn.unsafe(file.text);
    await conn`insert into schema_migrations (name, checksum) values (${file.name}, ${file.checksum})`;
    await conn`commit`;
  } catch (error) {
    await conn`rollback`.catch(() => {});
    throw new Error(
      `${file.path}: migration failed and was rolled back: ${describeFailure(error, file.text)}`,
      {
        cause: error,
      },
    );
  }
}

/** The `NNNN_name.sql` files of `dir`, in name order; refuses a badly named file or a repeated number. */
export async function readMigrations(dir: string): Promise<MigrationFile[]> {
  const names = (await listFiles(dir)).filter((name) => /\.sql$/i.test(name)).sort();
  const byNumber = new Map<string, string>();
  for (const name of names) {
    if (!MIGRATION_NAME.test(name)) {
      throw new Error(
        `${join(dir, name)}: migration files are named NNNN_name.sql (four digits, underscore, lowercase name)`,
      );
    }
    const number = name.slice(0, 4);
    const other = byNumber.get(number);
    if (other !== undefined) {
      throw new Error(
        `${join(dir, other)} and ${join(dir, name)}: two migrations share the number ${number}`,
      );
    }
    byNumber.set(number, name);
  }
  return Promise.all(
    names.map(async (name) => {
      const path = join(dir, name);
      return migrationFile(name, path, await readFile(path, 'utf8'));
    }),
  );
}

function migrationFile(name: string, path: string, text: string): MigrationFile {
  const checksum = createHash('sha256').update(text).digest('hex');
  const supersedes = [...text.matchAll(SUPERSEDES)].map((match) => match[1] as string);
  return { name, path, text, checksum, supersedes };
}

async function listFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

function describeFailure(error: unknown, text: string): string {
  if (!(error instanceof Error)) return String(error);
  // Postgres reports a 1-based character offset into the file; a line number is what a reader needs.
  const position = Number((error as { position?: string }).position);
  if (!Number.isInteger(position) || position < 1) return error.message;
  const line = text.slice(0, position - 1).split('\n').length;
  return `${error.message} (line ${line})`;
}
