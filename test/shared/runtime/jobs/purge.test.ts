import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeRuntimeTables, RUNTIME_TASKS } from '#runtime/jobs/purge.ts';
import { createTestApp, projectRoot, type TestApp } from '../../../support/app.ts';

// The reference app's database: its exports share their job's id, so the cascade can be seen.
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot });
});
afterAll(() => t.close());

type Counts = { jobs: number; idempotencyKeys: number };
const purge = async () =>
  (await t.runTask(purgeRuntimeTables, { scheduledAt: new Date().toISOString() })).result as Counts;

async function job(owner: string, status: string, updated: string, withExport = false) {
  const id = randomUUID();
  await t.sql`
    insert into jobs (id, owner, task, status, created_at, updated_at)
    values (${id}, ${owner}, 'export-notes', ${status}, now() + ${updated}::interval, now() + ${updated}::interval)`;
  if (withExport) {
    const [user] = await t.sql<{ id: string }[]>`
      insert into users (email, password_hash) values (${`purge-${randomUUID()}@example.test`}, 'x') returning id`;
    await t.sql`
      insert into exports (id, user_id, format, completed_at)
      values (${id}, ${user?.id as string}, 'csv', now() + ${updated}::interval)`;
  }
  return id;
}

describe('runtime/purge', () => {
  it('runs hourly in every worker, under a name apps cannot take', () => {
    expect(purgeRuntimeTables.schedule).toMatch(/^\d+ \* \* \* \*$/);
    expect(RUNTIME_TASKS.map((task) => task.name)).toEqual(['runtime/purge']);
  });

  it('deletes idempotency keys older than 24 hours', async () => {
    const owner = randomUUID();
    await t.sql`
      insert into idempotency_keys (owner, key, request_hash, created_at) values
        (${owner}, 'old', 'h', now() - interval '25 hours'),
        (${owner}, 'recent', 'h', now() - interval '23 hours')`;
    const counts = await purge();
    expect(counts.idempotencyKeys).toBeGreaterThanOrEqual(1);
    const left = await t.sql`select key from idempotency_keys where owner = ${owner}`;
    expect(left).toEqual([{ key: 'recent' }]);
  });

  it('deletes finished jobs, and the app rows that cascade from them, untouched for over 7 days; keeps the rest', async () => {
    const owner = randomUUID();
    const oldExport = await job(owner, 'succeeded', '-8 days', true);
    await job(owner, 'failed', '-8 days');
    const kept = [
      await job(owner, 'succeeded', '-6 days', true),
      await job(owner, 'active', '-8 days'),
      await job(owner, 'queued', '-30 days'),
    ];
    const counts = await purge();
    expect(counts.jobs).toBeGreaterThanOrEqual(2);
    const jobs = await t.sql<{ id: string }[]>`select id from jobs where owner = ${owner}`;
    expect(jobs.map((row) => row.id).sort()).toEqual([...kept].sort());
    const exports = await t.sql<{ id: string }[]>`
      select id from exports where id in ${t.sql([oldExport, kept[0] as string])}`;
    expect(exports.map((row) => row.id)).toEqual([kept[0]]);
  });

  it('logs the counts it returns', async () => {
    const counts = await purge();
    const logged = t.logs.filter((line) => line.msg === 'runtime tables purged').at(-1);
    expect(logged).toMatchObject(counts);
  });
});
