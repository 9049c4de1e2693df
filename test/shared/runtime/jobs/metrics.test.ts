import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSql } from '#runtime/db.ts';
import { createWorkerMetrics } from '#runtime/jobs/metrics.ts';
import { addToOutbox } from '#runtime/jobs/outbox.ts';
import { createQueues } from '#runtime/jobs/queue.ts';
import { createMetricsRegistry, type MetricsServer, serveMetrics } from '#runtime/metrics-registry.ts';
import { migrate } from '#runtime/migrations.ts';
import flaky from '../../../fixtures/app/tasks/flaky.ts';
import recordItem from '../../../fixtures/app/tasks/record-item.ts';
import sleep from '../../../fixtures/app/tasks/sleep.ts';
import {
  captureLog,
  createTestApp,
  projectRoot,
  startTestWorker,
  type TestApp,
} from '../../../support/app.ts';
import { testConfig } from '../../../support/context.ts';
import { sampleValue } from '../../../support/metrics.ts';
import { createScratchDatabase } from '../../../support/processes.ts';
import { freePort } from '../../../support/services.ts';
import { recoverAsStalled } from './stalled.ts';

let t: TestApp;
const cleanups: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  // A short stall interval, so that stall recovery runs within the test's patience.
  t = await createTestApp({
    env: { RD_PREFIX: `wm${randomUUID().slice(0, 8)}`, WORKER_STALL_INTERVAL_MS: '500' },
  });
});
// Workers of one test would otherwise take the next test's jobs from the shared queues.
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => t.close());

const poll = { timeout: 15_000, interval: 100 };

/** A worker of the named fixture tasks with its metrics served on a free port, as worker-main wires them. */
async function worker(names: string[]) {
  const metrics = createWorkerMetrics(names, createMetricsRegistry({ processMetrics: false }));
  const started = await startTestWorker(names, { env: { RD_PREFIX: t.config.redis.prefix }, metrics });
  cleanups.push(() => started.close(1_000));
  metrics.watch({ queues: started.queues, sql: t.sql, prefix: t.config.redis.prefix });
  const server = (await serveMetrics(
    metrics.registry,
    { host: '127.0.0.1', port: 0 },
    started.runtime.log,
  )) as MetricsServer;
  cleanups.push(() => server.close());
  const scrape = async () => (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
  return { ...started, scrape, port: server.port };
}

describe('the worker metrics', () => {
  it('count jobs by task and outcome, with their run times and retries', async () => {
    const poisoned = `poison-${randomUUID()}`;
    await t.enqueue(flaky, { key: randomUUID(), succeedOnAttempt: 1 });
    await t.enqueue(flaky, { key: randomUUID(), succeedOnAttempt: 3 });
    await t.enqueue(flaky, { key: randomUUID(), succeedOnAttempt: 99 });
    await t.enqueue(flaky, { key: randomUUID(), succeedOnAttempt: 1 }, { jobId: poisoned });
    // Its runs killed their workers more often than its retries allow (stall recovery counted each).
    for (let stall = 0; stall <= flaky.retries; stall++) {
      await recoverAsStalled(t.queues.producer('flaky'), t.redis, poisoned);
    }
    await t.enqueue(recordItem, { itemId: 'nope', kind: 'created' } as never);
    const w = await worker(['flaky', 'record-item']);

    const jobs = (task: string, outcome: string) => sampleValue(text, 'jobs_total', { task, outcome });
    let text = '';
    await expect
      .poll(async () => {
        text = await w.scrape();
        return [jobs('flaky', 'succeeded'), jobs('flaky', 'failed'), jobs('record-item', 'invalid')];
      }, poll)
      .toEqual([2, 1, 1]);
    expect(jobs('flaky', 'retrying')).toBe(2 + 3);
    expect(jobs('flaky', 'poisoned')).toBe(1);
    expect(jobs('flaky', 'interrupted')).toBe(0);
    expect(jobs('record-item', 'succeeded')).toBe(0);
    // Runs after the first attempt: two of the job that succeeds on its third, three of the one that fails.
    expect(sampleValue(text, 'job_retries_total', { task: 'flaky' })).toBe(5);
    // Every run is timed; the invalid and the poisoned job never ran.
    expect(sampleValue(text, 'job_duration_seconds_count', { task: 'flaky' })).toBe(2 + 5 + 1);
    expect(sampleValue(text, 'job_duration_seconds_bucket', { task: 'flaky', le: '+Inf' })).toBe(8);
    expect(sampleValue(text, 'job_duration_seconds_count', { task: 'record-item' })).toBeUndefined();
    expect(sampleValue(text, 'stalled_jobs_total', { task: 'flaky' })).toBe(0);
  });

  it('count each job once however often they are read, a task named late too', async () => {
    const { registry, jobEnded } = createWorkerMetrics(['mail']);
    jobEnded({ task: 'mail', outcome: 'succeeded', attempt: 1, seconds: 0.02 });
    jobEnded({ task: 'mail', outcome: 'retrying', attempt: 1, seconds: 0.5 });
    const first = await registry.metrics();
    expect(sampleValue(first, 'jobs_total', { task: 'mail', outcome: 'succeeded' })).toBe(1);
    jobEnded({ task: 'mail', outcome: 'succeeded', attempt: 2, seconds: 0.02 });
    jobEnded({ task: 'late', outcome: 'failed', attempt: 4, seconds: 1 });
    await registry.metrics();
    const text = await registry.metrics();
    expect(sampleValue(text, 'jobs_total', { task: 'mail', outcome: 'succeeded' })).toBe(2);
    expect(sampleValue(text, 'jobs_total', { task: 'mail', outcome: 'retrying' })).toBe(1);
    expect(sampleValue(text, 'jobs_total', { task: 'mail', outcome: 'failed' })).toBe(0);
    expect(sampleValue(text, 'jobs_total', { task: 'late', outcome: 'failed' })).toBe(1);
    expect(sampleValue(text, 'job_duration_seconds_count', { task: 'mail' })).toBe(3);
    expect(sampleValue(text, 'job_retries_total', { task: 'mail' })).toBe(1);
    expect(sampleValue(text, 'job_retries_total', { task: 'late' })).toBe(1);
  });

  it("read each queue's jobs by state at scrape time, and count a job cut off by shutdown", async () => {
    await t.enqueue(sleep, { key: 'bad' } as never);
    await t.enqueue(sleep, { key: randomUUID(), ms: 8_000 });
    await t.enqueue(sleep, { key: randomUUID(), ms: 8_000 });
    await t.enqueue(sleep, { key: randomUUID(), ms: 1 }, { delayMs: 600_000 });
    const w = await worker(['sleep']);
    const states = async () => {
      const text = await w.scrape();
      const count = (state: string) => sampleValue(text, 'queue_jobs', { task: 'sleep', state });
      return {
        waiting: count('waiting'),
        active: count('active'),
        delayed: count('delayed'),
        failed: count('failed'),
      };
    };
    await expect.poll(states, poll).toEqual({ waiting: 1, active: 1, delayed: 1, failed: 1 });

    await w.close(100);
    const text = await w.scrape();
    expect(sampleValue(text, 'jobs_total', { task: 'sleep', outcome: 'interrupted' })).toBe(1);
    expect(sampleValue(text, 'jobs_total', { task: 'sleep', outcome: 'invalid' })).toBe(1);
    // Its queues are closed: the gauge is left out rather than shown stale.
    expect(sampleValue(text, 'queue_jobs', { task: 'sleep', state: 'waiting' })).toBeUndefined();
  });

  it('count jobs that stall recovery put back on their queue', async () => {
    // A job a worker took and then died running: active, and already marked as stalling by an earlier check.
    const { id } = await t.enqueue(flaky, { key: randomUUID(), succeedOnAttempt: 1 });
    await t.redis.lrem('q:flaky:waiting', 0, id);
    await t.redis.lpush('q:flaky:active', id);
    await t.redis.sadd('q:flaky:stalling', id);
    const w = await worker(['flaky']);
    await expect
      .poll(async () => {
        const text = await w.scrape();
        return [
          sampleValue(text, 'stalled_jobs_total', { task: 'flaky' }),
          sampleValue(text, 'jobs_total', { task: 'flaky', outcome: 'succeeded' }),
        ];
      }, poll)
      .toEqual([1, 1]);
  });

  it('leave the queue gauges out, without waiting, when Redis does not answer', async () => {
    const { log } = captureLog();
    const queues = createQueues(testConfig({ RD_PORT: String(await freePort()) }), log);
    cleanups.push(() => queues.close(100));
    const metrics = createWorkerMetrics(['flaky'], createMetricsRegistry({ processMetrics: false }));
    metrics.watch({ queues, sql: t.sql, prefix: t.config.redis.prefix, timeoutMs: 60_000 });
    const text = await metrics.registry.metrics();
    expect(text).toContain('# TYPE queue_jobs gauge');
    expect(sampleValue(text, 'queue_jobs', { task: 'flaky', state: 'waiting' })).toBeUndefined();
  });
});

describe('outbox_backlog', () => {
  it("counts this prefix's waiting rows, 0 without an outbox table, and is left out when Postgres is down", async () => {
    const database = await createScratchDatabase();
    const sql = createSql({ ...t.config.postgres, database: database.name, poolMax: 1 });
    cleanups.push(
      () => database.drop(),
      () => sql.end({ timeout: 1 }),
    );
    const metrics = createWorkerMetrics([], createMetricsRegistry({ processMetrics: false }));
    const backlog = async () => sampleValue(await metrics.registry.metrics(), 'outbox_backlog');
    metrics.watch({ queues: t.queues, sql, prefix: 'mine' });
    expect(await backlog()).toBe(0);

    await migrate(sql, path.join(projectRoot, 'sql'));
    const policy = { retries: 0, backoff: { strategy: 'immediate' as const, delayMs: 0 }, timeoutMs: 1_000 };
    for (const prefix of ['mine', 'mine', 'other']) {
      await addToOutbox(sql, { prefix, task: 'x', payload: {}, options: { policy } });
    }
    expect(await backlog()).toBe(2);

    const down = createSql({ ...t.config.postgres, port: await freePort(), poolMax: 1 });
    cleanups.push(() => down.end({ timeout: 1 }));
    metrics.watch({ queues: t.queues, sql: down, prefix: 'mine', timeoutMs: 5_000 });
    expect(await backlog()).toBeUndefined();
  });
});

describe('serveMetrics', () => {
  it('answers 404 to anything but GET /metrics', async () => {
    const w = await worker([]);
    expect((await fetch(`http://127.0.0.1:${w.port}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${w.port}/metrics`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${w.port}/metrics?x=1`)).status).toBe(200);
  });

  it('logs a warning and serves nothing when the port is taken, so that the worker still runs', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => taken.close(resolve)));
    const { port } = taken.address() as { port: number };
    const { lines, log } = captureLog();
    const registry = createMetricsRegistry({ processMetrics: false });
    expect(await serveMetrics(registry, { host: '127.0.0.1', port }, log)).toBeUndefined();
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        port,
        msg: expect.stringMatching(/EADDRINUSE.*the process runs without them/),
      }),
    ]);
  });
});
