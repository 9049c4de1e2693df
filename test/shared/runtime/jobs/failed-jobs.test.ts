import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FailedJobsError, listFailedJobs, retryFailedJob } from '#runtime/jobs/failed-jobs.ts';
import { stallsOf } from '#runtime/jobs/starts.ts';
import flaky from '../../../fixtures/app/tasks/flaky.ts';
import recordItem from '../../../fixtures/app/tasks/record-item.ts';
import { createTestApp, startTestWorker, type TestApp, type TestWorker } from '../../../support/app.ts';

let t: TestApp;
let worker: TestWorker | undefined;
beforeAll(async () => {
  t = await createTestApp({ env: { RD_PREFIX: `fj${randomUUID().slice(0, 8)}` } });
});
afterEach(async () => {
  await worker?.close(1_000);
  worker = undefined;
});
afterAll(() => t.close());

const poll = { timeout: 10_000, interval: 50 };
const stores = () => ({ queues: t.queues, redis: t.redis, sql: t.sql });

/** Runs the named fixture tasks until `failed` holds every id given, then stops the worker. */
async function failAll(names: string[], ids: string[]) {
  worker = await startTestWorker(names, { env: { RD_PREFIX: t.config.redis.prefix } });
  const failed = async () => (await listFailedJobs(t.queues, t.tasks)).map((job) => job.id);
  await expect.poll(failed, poll).toEqual(expect.arrayContaining(ids));
  await worker.close(1_000);
  worker = undefined;
}

describe('listFailedJobs', () => {
  it('lists the failed jobs of every task, or of one, with attempts, the last error and the payload', async () => {
    const key = randomUUID();
    const failing = await t.enqueue(flaky, { key, succeedOnAttempt: 99 });
    const invalid = await t.enqueue(recordItem, { itemId: 'nope', kind: 'created' } as never);
    await failAll(['flaky', 'record-item'], [failing.id, invalid.id]);

    const all = await listFailedJobs(t.queues, t.tasks);
    expect(all).toEqual(
      expect.arrayContaining([
        {
          task: 'flaky',
          id: failing.id,
          failedAt: expect.any(String),
          attempts: 4,
          error: 'Error: attempt 4 fails on purpose',
          payload: { key, succeedOnAttempt: 99 },
        },
        {
          task: 'record-item',
          id: invalid.id,
          failedAt: expect.any(String),
          attempts: 1,
          error: expect.stringMatching(/^InvalidPayloadError: record-item: invalid payload: payload.itemId/),
          payload: { itemId: 'nope', kind: 'created' },
        },
      ]),
    );
    expect(Date.parse(String(all.find((job) => job.id === failing.id)?.failedAt))).not.toBeNaN();
    const onlyFlaky = await listFailedJobs(t.queues, t.tasks, 'flaky');
    expect(onlyFlaky.map((job) => job.task)).toEqual(onlyFlaky.map(() => 'flaky'));
    expect(onlyFlaky.map((job) => job.id)).toContain(failing.id);
  });

  it('names the known tasks when asked for an unknown one', async () => {
    const error = await listFailedJobs(t.queues, t.tasks, 'nope').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FailedJobsError);
    expect((error as Error).message).toMatch(/no task "nope".*flaky.*record-item/);
  });
});

describe('retryFailedJob', () => {
  it('puts a failed job back on waiting with its task’s retries, its count reset and its record queued', async () => {
    const id = randomUUID();
    const key = randomUUID();
    await t.sql`insert into jobs (id, task) values (${id}, 'flaky')`;
    await t.enqueue(flaky, { key, succeedOnAttempt: 99 }, { jobId: id, tracked: true });
    await failAll(['flaky'], [id]);
    expect(await t.sql`select status from jobs where id = ${id}`).toEqual([{ status: 'failed' }]);
    // As if stall recovery had counted runs of it that never ended (see starts.ts).
    const failedJob = await t.queues.producer('flaky').getJob(id);
    failedJob.options.stalls = 9;
    await t.redis.hset('q:flaky:jobs', id, (failedJob as unknown as { toData(): string }).toData());

    const retried = await retryFailedJob(stores(), t.tasks, 'flaky', id);
    expect(retried).toMatchObject({ task: 'flaky', id, retries: 3, tracked: true });
    expect(retried.message).toContain(`flaky job ${id} is waiting again with 3 retries`);
    const job = await t.queues.producer('flaky').getJob(id);
    expect(job.options.retries).toBe(3);
    expect(job.options.failedAt).toBeUndefined();
    expect(await t.redis.lrange('q:flaky:waiting', 0, -1)).toEqual([id]);
    expect(await t.redis.sismember('q:flaky:failed', id)).toBe(0);
    expect(stallsOf(job)).toBe(0);
    expect(await t.sql`select status, error from jobs where id = ${id}`).toEqual([
      { status: 'queued', error: null },
    ]);

    const again = await retryFailedJob(stores(), t.tasks, 'flaky', id).catch((caught: unknown) => caught);
    expect(again).toBeInstanceOf(FailedJobsError);
    expect((again as Error).message).toContain('has not failed');

    // A worker takes it again and runs all its attempts anew.
    await failAll(['flaky'], [id]);
    expect(await t.redis.llen(`flaky:${key}`)).toBe(8);
  });

  it('refuses an unknown task or job id, saying which', async () => {
    const unknownTask = await retryFailedJob(stores(), t.tasks, 'nope', '1').catch(
      (caught: unknown) => caught,
    );
    expect(unknownTask).toBeInstanceOf(FailedJobsError);
    expect((unknownTask as Error).message).toContain('no task "nope"');
    const unknownJob = await retryFailedJob(stores(), t.tasks, 'flaky', 'no-such-job').catch(
      (caught: unknown) => caught,
    );
    expect(unknownJob).toBeInstanceOf(FailedJobsError);
    expect((unknownJob as Error).message).toContain('flaky has no job no-such-job');
  });
});
