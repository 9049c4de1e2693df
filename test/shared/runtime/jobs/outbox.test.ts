import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '#runtime/config.ts';
import type { Queryable } from '#runtime/db.ts';
import { outboxBacklog } from '#runtime/jobs/outbox.ts';
import { createEnqueue, createQueues } from '#runtime/jobs/queue.ts';
import { type OutboxRelayOptions, startOutboxRelay } from '#runtime/jobs/relay.ts';
import type { Enqueue } from '#runtime/jobs/task.ts';
import { createRedis } from '#runtime/redis.ts';
import recordItem from '../../../fixtures/app/tasks/record-item.ts';
import { captureLog, createTestApp, startTestWorker, type TestApp } from '../../../support/app.ts';
import { testConfig } from '../../../support/context.ts';
import { freePort, startRedis } from '../../../support/services.ts';

let t: TestApp;
const cleanups: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  t = await createTestApp({ env: { RD_PREFIX: `ob${randomUUID().slice(0, 8)}` } });
});
afterEach(async () => {
  // Last started, first stopped: a relay before its queues, and both before the Redis they use.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});
afterAll(() => t.close());

const poll = { timeout: 15_000, interval: 50 };
/** Queues of their own per test, so that no relay of another test moves this test's rows. */
const ownConfig = (env: Record<string, string> = {}) =>
  testConfig({ RD_PREFIX: `ob${randomUUID().slice(0, 8)}`, ...env });

/** Queues of the relay's own, which the test closes, enqueueing straight to Redis and noting each job id. */
function queuesFor(config: Config, enqueued?: string[]): Enqueue {
  const queues = createQueues(config, captureLog().log);
  cleanups.push(() => queues.close(1));
  const direct = createEnqueue(queues, { timeoutMs: config.enqueueTimeoutMs });
  return async (task, payload, options) => {
    const job = await direct(task, payload, options);
    enqueued?.push(job.id);
    return job;
  };
}

function relay(config: Config, options: Partial<OutboxRelayOptions> = {}) {
  const started = startOutboxRelay({
    sql: t.sql,
    log: captureLog().log,
    prefix: config.redis.prefix,
    pollIntervalMs: 100,
    enqueue: queuesFor(config),
    ...options,
  });
  cleanups.push(() => started.close());
  return started;
}

/** The `enqueue` handlers get, for jobs that go through the outbox: it opens no Redis connection for them. */
const txEnqueue = (config: Config) =>
  createEnqueue(createQueues(config, captureLog().log), {
    timeoutMs: config.enqueueTimeoutMs,
    tasks: t.tasks,
  });

/** Creates an item and enqueues its record-item job through the outbox, in one transaction. */
async function createItem(enqueue: Enqueue, tx: Queryable, jobId?: string) {
  const [item] = await tx<{ id: string }[]>`
    insert into fixture_items (name, qty) values (${`ob-${randomUUID()}`}, 1) returning id`;
  const itemId = (item as { id: string }).id;
  const job = await enqueue(recordItem, { itemId, kind: 'created' }, { tx, jobId });
  return { itemId, jobId: job.id };
}

const waitingIds = async (config: Config) => {
  const redis = createRedis(config.redis);
  try {
    return await redis.lrange('q:record-item:waiting', 0, -1);
  } finally {
    redis.disconnect();
  }
};

describe('enqueue with { tx }', () => {
  it('writes the job to the outbox with its policy, returning the row id or the jobId, with no Redis', async () => {
    const config = ownConfig({ RD_PORT: String(await freePort()) });
    const enqueue = txEnqueue(config);
    const { jobId } = await t.sql.begin((tx) => createItem(enqueue, tx));
    const [row] =
      await t.sql`select id, task, options from outbox where queue_prefix = ${config.redis.prefix}`;
    expect(row).toEqual({ id: jobId, task: 'record-item', options: expect.any(Object) });
    expect(row?.options).toEqual({
      policy: { retries: 2, backoff: { strategy: 'fixed', delayMs: 100 }, timeoutMs: 5_000 },
    });
    const named = await t.sql.begin((tx) => createItem(enqueue, tx, `named-${randomUUID()}`));
    expect(named.jobId).toMatch(/^named-/);
    expect(await outboxBacklog(t.sql, config.redis.prefix)).toBe(2);
  });
});

describe('startOutboxRelay', () => {
  it('moves a committed transaction’s job to the queue, under the same id, and the worker runs it', async () => {
    const config = ownConfig();
    const worker = await startTestWorker(['record-item'], { env: { RD_PREFIX: config.redis.prefix } });
    cleanups.push(() => worker.close(1_000));
    const { itemId, jobId } = await t.sql.begin((tx) => createItem(worker.enqueue, tx));
    await expect
      .poll(() => t.sql`select kind, attempts from fixture_item_events where item_id = ${itemId}`, poll)
      .toEqual([{ kind: 'created', attempts: 1 }]);
    expect(worker.logs.find((line) => line.msg === 'job' && line.outcome === 'succeeded')?.jobId).toBe(jobId);
    expect(await outboxBacklog(t.sql, config.redis.prefix)).toBe(0);
  });

  it('leaves no job behind a rolled-back transaction', async () => {
    const config = ownConfig();
    relay(config);
    const enqueue = txEnqueue(config);
    const rolledBack = `rolled-back-${randomUUID()}`;
    await expect(
      t.sql.begin(async (tx) => {
        await createItem(enqueue, tx, rolledBack);
        throw new Error('the handler failed after enqueueing');
      }),
    ).rejects.toThrow('the handler failed');
    // A job committed after it: once the relay has moved that one, it would have seen the first.
    const committed = await t.sql.begin((tx) => createItem(enqueue, tx));
    await expect.poll(() => waitingIds(config), poll).toContain(committed.jobId);
    expect(await waitingIds(config)).not.toContain(rolledBack);
    expect(await t.sql`select id from outbox where options->>'jobId' = ${rolledBack}`).toEqual([]);
  });

  it('with Redis down commits every write and its job; retries without losing rows; enqueues all once back', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const config = ownConfig({ RD_HOST: redis.host, RD_PORT: String(redis.port), ENQUEUE_TIMEOUT_MS: '300' });
    relay(config, { retry: { initialMs: 50, maxMs: 200 } });
    const enqueue = txEnqueue(config);
    // Up first, so that the relay holds connections (and loaded scripts) that the restart then breaks.
    const before = await t.sql.begin((tx) => createItem(enqueue, tx));
    await expect.poll(() => waitingIds(config), poll).toContain(before.jobId);

    const committed: string[] = [];
    await redis.restart(async () => {
      for (let i = 0; i < 20; i++) committed.push((await t.sql.begin((tx) => createItem(enqueue, tx))).jobId);
      const rows = () =>
        t.sql<{ attempts: number; last_error: string | null }[]>`
          select attempts, last_error from outbox where queue_prefix = ${config.redis.prefix}`;
      await expect
        .poll(async () => Math.min(...(await rows()).map((row) => row.attempts)), poll)
        .toBeGreaterThanOrEqual(2);
      expect(await rows()).toHaveLength(20);
      expect((await rows()).every((row) => row.last_error)).toBe(true);
      expect(await outboxBacklog(t.sql, config.redis.prefix)).toBe(20);
    });

    await expect.poll(() => outboxBacklog(t.sql, config.redis.prefix), poll).toBe(0);
    const waiting = await waitingIds(config);
    expect(waiting.filter((id) => committed.includes(id)).sort()).toEqual([...committed].sort());
  });

  it('enqueues each row once when two relays run at once', async () => {
    const config = ownConfig();
    const enqueued: string[] = [];
    const options = { batchSize: 5, enqueue: queuesFor(config, enqueued) };
    const relays = [relay(config, options), relay(config, options)];
    await Promise.all(relays.map((started) => started.ready));
    const enqueue = txEnqueue(config);
    const committed = await t.sql.begin(async (tx) => {
      const ids: string[] = [];
      for (let i = 0; i < 60; i++) ids.push((await createItem(enqueue, tx)).jobId);
      return ids;
    });
    await expect.poll(() => outboxBacklog(t.sql, config.redis.prefix), poll).toBe(0);
    expect([...enqueued].sort()).toEqual([...committed].sort());
    expect(await waitingIds(config)).toHaveLength(60);
  });

  it('keeps a delayed job delayed when it relays it', async () => {
    const config = ownConfig();
    relay(config);
    const enqueue = txEnqueue(config);
    const jobId = await t.sql.begin(async (tx) => {
      const job = await enqueue(
        recordItem,
        { itemId: randomUUID(), kind: 'touched' },
        { tx, delayMs: 60_000 },
      );
      return job.id;
    });
    const redis = createRedis(config.redis);
    cleanups.push(async () => redis.disconnect());
    await expect.poll(() => redis.zscore('q:record-item:delayed', jobId), poll).not.toBeNull();
    expect(Number(await redis.zscore('q:record-item:delayed', jobId))).toBeGreaterThan(Date.now() + 30_000);
    expect(await waitingIds(config)).not.toContain(jobId);
  });

  it('wakes on the commit’s notification, long before its poll interval', async () => {
    const config = ownConfig();
    const started = relay(config, { pollIntervalMs: 3_600_000 });
    await started.ready;
    const enqueue = txEnqueue(config);
    const { jobId } = await t.sql.begin((tx) => createItem(enqueue, tx));
    // The poll would not come for an hour: only the notification can bring the job to the queue in time.
    await expect.poll(() => waitingIds(config), poll).toContain(jobId);
  });
});
