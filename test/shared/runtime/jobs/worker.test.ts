import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import flaky from '../../../fixtures/app/tasks/flaky.ts';
import recordItem from '../../../fixtures/app/tasks/record-item.ts';
import sleep from '../../../fixtures/app/tasks/sleep.ts';
import { createTestApp, startTestWorker, type TestApp, type TestWorker } from '../../../support/app.ts';

let t: TestApp;
const running = new Set<TestWorker>();
beforeAll(async () => {
  t = await createTestApp({ env: { RD_PREFIX: `wk${randomUUID().slice(0, 8)}` } });
});
// Workers of one test would otherwise take the next test's jobs from the shared queues.
afterEach(async () => {
  const workers = [...running];
  running.clear();
  await Promise.all(workers.map((started) => started.close(1_000)));
});
afterAll(() => t.close());

/** A worker on the test app's stores running only the named fixture tasks, with its log captured. */
async function worker(names: string[], env: Record<string, string> = {}) {
  const started = await startTestWorker(names, { env: { RD_PREFIX: t.config.redis.prefix, ...env } });
  running.add(started);
  return started;
}

const poll = { timeout: 10_000, interval: 50 };
const jobLines = (logs: Record<string, unknown>[], jobId: string) =>
  logs.filter((line) => line.jobId === jobId && line.msg === 'job');

describe('startWorker', () => {
  it('runs the job a request enqueued, writing to Postgres', async () => {
    await worker(['record-item']);
    const response = await t.request('POST', '/items', { body: { name: `w-${randomUUID()}`, qty: 2 } });
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as { id: string };
    await expect
      .poll(() => t.sql`select kind, attempts from fixture_item_events where item_id = ${id}`, poll)
      .toEqual([{ kind: 'created', attempts: 1 }]);
  });

  it('fails a job with an invalid payload at once, naming the task and the field', async () => {
    const w = await worker(['record-item']);
    const { id } = await t.enqueue(recordItem, { itemId: 'nope', kind: 'created' } as never);
    const queue = t.queues.producer('record-item');
    await expect.poll(async () => (await queue.getJob(id))?.status, poll).toBe('failed');
    const job = await queue.getJob(id);
    expect(await t.redis.sismember('q:record-item:failed', id)).toBe(1);
    expect(job.options.stacktraces).toHaveLength(1);
    const errorLine = w.logs.find((line) => line.jobId === id && line.level === 50);
    expect(errorLine).toMatchObject({ task: 'record-item', attempt: 1 });
    expect(errorLine?.errors).toEqual([expect.objectContaining({ field: 'payload.itemId' })]);
  });

  it('retries a failing job with the next attempt number until it succeeds', async () => {
    const w = await worker(['flaky']);
    const key = randomUUID();
    const { id } = await t.enqueue(flaky, { key, succeedOnAttempt: 3 });
    await expect
      .poll(() => jobLines(w.logs, id).map((line) => [line.attempt, line.outcome]), poll)
      .toEqual([
        [1, 'retrying'],
        [2, 'retrying'],
        [3, 'succeeded'],
      ]);
    expect(await t.redis.lrange(`flaky:${key}`, 0, -1)).toEqual(['1', '2', '3']);
    expect(await t.queues.producer('flaky').getJob(id)).toBeNull();
  });

  it('aborts a run past its timeout through its signal, retries it, then fails it', async () => {
    await worker(['flaky']);
    const key = randomUUID();
    const { id } = await t.enqueue(flaky, { key, succeedOnAttempt: 1, hang: true });
    await expect.poll(async () => (await t.queues.producer('flaky').getJob(id))?.status, poll).toBe('failed');
    expect(await t.redis.lrange(`flaky:${key}`, 0, -1)).toEqual(['1', '2', '3', '4']);
    await expect.poll(() => t.redis.llen(`flaky:${key}:aborted`), poll).toBe(4);
    for (const reason of await t.redis.lrange(`flaky:${key}:aborted`, 0, -1)) {
      expect(reason).toContain('timed out after 300 ms');
    }
  });

  it('runs each scheduled tick once however many workers run', async () => {
    // Only this file writes fixture_ticks, so every row left after the truncate is one of these workers'.
    await t.sql`truncate fixture_ticks`;
    // Each worker is composed with connections of its own, as two processes would be.
    const workers = [await worker(['tick']), await worker(['tick'])];
    try {
      await expect
        .poll(() => t.sql`select tick from fixture_ticks`.then((r) => r.length), poll)
        .toBeGreaterThanOrEqual(3);
    } finally {
      await Promise.all(workers.map((w) => w.close(2_000)));
    }
    const rows = await t.sql<
      { tick: string; runs: number }[]
    >`select tick, runs from fixture_ticks order by tick`;
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows.filter((row) => row.runs !== 1)).toEqual([]);
    const enqueued = workers.flatMap((w) => w.logs.filter((line) => line.msg === 'scheduled job enqueued'));
    expect(enqueued.map((line) => line.tick).sort()).toEqual(rows.map((row) => row.tick));
  });

  it('lets a running job finish when closed within the timeout', async () => {
    const w = await worker(['sleep']);
    const key = randomUUID();
    await t.enqueue(sleep, { key, ms: 500 });
    await expect.poll(() => t.redis.lrange(`sleep:${key}`, 0, -1), poll).toEqual(['started']);
    await w.close(5_000);
    expect(await t.redis.lrange(`sleep:${key}`, 0, -1)).toEqual(['started', 'done']);
  });

  it('puts a job still running at the close timeout back on its queue, to run again', async () => {
    const first = await worker(['sleep']);
    const key = randomUUID();
    const { id } = await t.enqueue(sleep, { key, ms: 1_500 });
    await expect.poll(() => t.redis.lrange(`sleep:${key}`, 0, -1), poll).toEqual(['started']);
    await first.close(100);
    const job = await t.queues.producer('sleep').getJob(id);
    expect(job.status).toBe('retrying');
    expect(job.options.retries).toBe(0);

    const second = await worker(['sleep']);
    await expect
      .poll(() => t.redis.lrange(`sleep:${key}`, 0, -1), poll)
      .toEqual(['started', 'started', 'done']);
    expect(jobLines(second.logs, id)).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'succeeded' }),
    ]);
  });
});
