import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from '#runtime/errors.ts';
import { createEnqueue, createQueues } from '#runtime/jobs/queue.ts';
import { defineTask, type JobPolicy, taskRef } from '#runtime/jobs/task.ts';
import { createRedis } from '#runtime/redis.ts';
import recordItem from '../../../fixtures/app/tasks/record-item.ts';
import { captureLog, createTestApp, type TestApp } from '../../../support/app.ts';
import { testConfig } from '../../../support/context.ts';

const policy: JobPolicy = { retries: 0, backoff: { strategy: 'immediate', delayMs: 0 }, timeoutMs: 1_000 };

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { RD_PREFIX: `qu${randomUUID().slice(0, 8)}` } });
});
afterAll(() => t.close());

describe('createEnqueue', () => {
  it('saves the payload in an envelope with the task policy applied, and returns the job id', async () => {
    const itemId = randomUUID();
    const { id } = await t.enqueue(recordItem, { itemId, kind: 'created' }, { requestId: 'req-1' });
    expect(id).toMatch(/^\d+$/);
    const job = await t.queues.producer('record-item').getJob(id);
    expect(job.data).toEqual({ payload: { itemId, kind: 'created' }, requestId: 'req-1' });
    // When it was enqueued is bee-queue's own field.
    expect(Math.abs(Date.now() - (job.options as { timestamp: number }).timestamp)).toBeLessThan(60_000);
    expect(job.options.retries).toBe(2);
    expect(job.options.backoff).toEqual({ strategy: 'fixed', delay: 100 });
  });

  it('refuses a task definition it was not given, saying so', async () => {
    const stranger = defineTask({ payload: recordItem.payload, run: () => {} });
    await expect(t.enqueue(stranger, { itemId: randomUUID(), kind: 'created' })).rejects.toThrow(
      /task definition this process does not know/,
    );
  });

  it('enqueues a task reference under its own name with its own policy', async () => {
    const ref = taskRef<{ n: number }>('ref-only', {
      retries: 5,
      backoff: { strategy: 'exponential', delayMs: 250 },
      timeoutMs: 1_000,
    });
    const { id } = await t.enqueue(ref, { n: 7 });
    const job = await t.queues.producer('ref-only').getJob(id);
    expect(job.data.payload).toEqual({ n: 7 });
    expect(job.options.retries).toBe(5);
    expect(job.options.backoff).toEqual({ strategy: 'exponential', delay: 250 });
  });

  it('leaves out the backoff of a task that is never retried', async () => {
    const ref = taskRef<{ n: number }>('no-retry', {
      retries: 0,
      backoff: { strategy: 'fixed', delayMs: 250 },
      timeoutMs: 1_000,
    });
    const job = await t.queues.producer('no-retry').getJob((await t.enqueue(ref, { n: 1 })).id);
    expect(job.options.retries).toBe(0);
    expect(job.options.backoff).toBeUndefined();
  });

  it('creates one job for two enqueues with the same jobId', async () => {
    const jobId = `same-${randomUUID()}`;
    const payload = { itemId: randomUUID(), kind: 'touched' } as const;
    const first = await t.enqueue(recordItem, payload, { jobId });
    const second = await t.enqueue(recordItem, { ...payload, kind: 'created' }, { jobId });
    expect([first.id, second.id]).toEqual([jobId, jobId]);
    const job = await t.queues.producer('record-item').getJob(jobId);
    expect(job.data.payload.kind).toBe('touched');
    const waiting = await t.redis.lrange('q:record-item:waiting', 0, -1);
    expect(waiting.filter((id) => id === jobId)).toHaveLength(1);
  });

  it('keeps no enqueued job in memory, so a long-lived HTTP process does not grow', async () => {
    await t.enqueue(recordItem, { itemId: randomUUID(), kind: 'created' });
    expect(t.queues.producer('record-item').jobs.size).toBe(0);
  });

  it('answers 503 with retry-after when Redis does not take the job in time', async () => {
    const config = testConfig({ RD_PORT: String(await closedPort()), ENQUEUE_TIMEOUT_MS: '300' });
    const queues = createQueues(config, captureLog().log);
    const enqueue = createEnqueue(queues, { timeoutMs: config.enqueueTimeoutMs });
    try {
      const outcome = await Promise.race([
        enqueue(taskRef<{ n: number }>('unreachable', policy), { n: 1 }).then(
          () => 'saved',
          (error: unknown) => error,
        ),
        new Promise((resolve) => setTimeout(resolve, 5_000, 'still pending after 5 s')),
      ]);
      expect(outcome).toBeInstanceOf(HttpError);
      expect((outcome as HttpError).status).toBe(503);
      expect((outcome as HttpError).headers['retry-after']).toMatch(/^\d+$/);
      expect((outcome as HttpError).message).toContain('unreachable');
    } finally {
      await queues.close(100);
    }
  });

  it('accepts only the payload type of the task, checked by tsc', async () => {
    const typed = () => {
      // @ts-expect-error record-item needs itemId and kind, not an id
      void t.enqueue(recordItem, { id: 'x' });
      // @ts-expect-error kind is one of 'created' | 'touched'
      void t.enqueue(recordItem, { itemId: randomUUID(), kind: 'deleted' });
      // @ts-expect-error a task reference carries its payload type too
      void t.enqueue(taskRef<{ n: number }>('ref-only', policy), { n: 'seven' });
    };
    expect(typed).toBeTypeOf('function');
    const { id } = await t.enqueue(recordItem, { itemId: randomUUID(), kind: 'touched' });
    expect(id).toBeTruthy();
  });
});

describe('createQueues: worker queues', () => {
  it('activate a delayed job whose wake-up message was missed, within the stall interval', async () => {
    const config = testConfig({
      RD_PREFIX: `qd${randomUUID().slice(0, 8)}`,
      WORKER_STALL_INTERVAL_MS: '500',
    });
    const queues = createQueues(config, captureLog().log);
    const redis = createRedis(config.redis);
    const ran: string[] = [];
    const worker = queues.worker('missed-wake-up');
    worker.process(1, async (job) => {
      ran.push(String(job.id));
    });
    try {
      await worker.ready();
      // One delayed job that is heard of, so that the worker has made its own passes over the delayed jobs.
      const heard = queues.producer('missed-wake-up').createJob({ payload: {} });
      await heard
        .setId('heard')
        .delayUntil(Date.now() + 100)
        .save();
      await waitUntil(() => ran.includes('heard'));
      // What bee-queue's addDelayedJob writes, without its `earlierDelayed` message: the job a worker never
      // hears of when its subscriber connection was down (Redis restarting, a dropped connection).
      const job = queues.producer('missed-wake-up').createJob({ payload: {} });
      const data = (job as unknown as { toData(): string }).toData();
      await redis
        .multi()
        .hset('q:missed-wake-up:jobs', 'missed', data)
        .zadd('q:missed-wake-up:delayed', Date.now() + 100, 'missed')
        .exec();
      await waitUntil(() => ran.includes('missed'));
      expect(ran).toEqual(['heard', 'missed']);
    } finally {
      await queues.close(500);
      await redis.quit();
    }
  });
});

/** Polls `done` until it holds or 5 s passed. */
async function waitUntil(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** A port that refuses connections: one the OS just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
