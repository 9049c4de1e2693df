import type { Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, withDeadline } from '#runtime/db.ts';
import { testConfig } from '../../support/context.ts';
import { startPostgres, type ThrowawayPostgres } from '../../support/throwaway-servers.ts';

// This file stops its Postgres, so it owns one.
let server: ThrowawayPostgres;
let sql: Sql;

beforeAll(async () => {
  server = await startPostgres();
  const { postgres } = testConfig();
  sql = createSql({
    ...postgres,
    host: server.host,
    port: server.port,
    user: server.user,
    password: '',
    database: 'postgres',
    poolMax: 4,
  });
});
afterAll(async () => {
  await sql?.end({ timeout: 1 });
  await server?.stop();
});

describe('createSql', () => {
  it('fails fast while PostgreSQL is down and answers promptly once it is back', async () => {
    await sql`select 1`;
    const during: Promise<string>[] = [];
    await server.restart(async () => {
      // Every refused connect adds to postgres.js's wait before the pool's next one (up to 20 s by default),
      // and a query handed to a waiting connection waits with it.
      const until = Date.now() + 1_500;
      while (Date.now() < until) {
        during.push(
          withDeadline(sql`select 1`.execute(), 3_000, 'no answer').then(
            () => 'answered',
            (error: Error & { code?: string }) => error.code ?? error.message,
          ),
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await Promise.all(during);
    });
    const outcomes = new Set(await Promise.all(during));
    expect(outcomes).toContain('ECONNREFUSED');
    expect(outcomes).not.toContain('no answer within 3000 ms');
    const after = Array.from({ length: 4 }, () =>
      withDeadline(sql<{ one: number }[]>`select 1 as one`.execute(), 3_000, 'no answer'),
    );
    expect((await Promise.all(after)).map(([row]) => row?.one)).toEqual([1, 1, 1, 1]);
  });
});
