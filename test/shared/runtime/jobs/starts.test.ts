import { randomUUID } from 'node:crypto';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnqueue, type NamedTask } from '#runtime/jobs/queue.ts';
import { jobStarts, stallsOf } from '#runtime/jobs/starts.ts';
import { defineTask } from '#runtime/jobs/task.ts';
import { createTestApp, type TestApp } from '../../../support/app.ts';
import { recoverAsStalled } from './stalled.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { RD_PREFIX: `js${randomUUID().slice(0, 8)}` } });
});
afterAll(() => t.close());

const task = (name: string): NamedTask => ({
  name,
  definition: defineTask({ payload: v.unknown(), retries: 3, run: () => {} }),
});

async function enqueued(named: NamedTask, payload: unknown) {
  const { id } = await createEnqueue(t.queues, { timeoutMs: 2_000, tasks: [named] })(
    named.definition,
    payload,
  );
  return id;
}

const stored = (named: NamedTask, id: string) => t.redis.hget(`q:${named.name}:jobs`, id);

describe('the count of a job’s starts', () => {
  it('costs a healthy job nothing: no key, nothing added to its stored data', async () => {
    const named = task('healthy');
    const id = await enqueued(named, { n: 1 });
    const job = await t.queues.producer(named.name).getJob(id);
    expect(stallsOf(job)).toBe(0);
    expect(jobStarts(job, 1)).toBe(1);
    expect(await stored(named, id)).toMatch(/^\{"data":/);
    expect(await t.redis.keys('attempts:*')).toEqual([]);
  });

  it('is raised by stall recovery each time it brings the job back, leaving the payload as it was', async () => {
    const named = task('stalling');
    // Values a JSON decode and encode inside Redis would change.
    const payload = { f: 0.1 + 0.2, big: 2 ** 53 - 1, empty: [], nested: { list: [{}] }, text: 'é "q" }{' };
    const id = await enqueued(named, payload);
    const queue = t.queues.producer(named.name);
    const stalled: string[] = [];
    queue.on('stalled', (jobId: string) => stalled.push(jobId));
    expect(await recoverAsStalled(queue, t.redis, id)).toBe(1);
    expect(await recoverAsStalled(queue, t.redis, id)).toBe(1);
    const job = await queue.getJob(id);
    expect(stallsOf(job)).toBe(2);
    expect(jobStarts(job, 1)).toBe(3);
    expect(job.data.payload).toEqual(payload);
    expect(JSON.parse(String(await stored(named, id))).data.payload).toEqual(payload);
    expect(stalled).toEqual([id, id]);
    expect(await t.redis.lrange(`q:${named.name}:waiting`, 0, -1)).toEqual([id]);
  });

  it('keeps the stalls when the job is written back after a run, and adds later ones to them', async () => {
    const named = task('written-back');
    const id = await enqueued(named, { n: 1 });
    const queue = t.queues.producer(named.name);
    await recoverAsStalled(queue, t.redis, id);
    // As bee-queue writes a job back when a run fails and it is retried: its options, without the prefix.
    const job = await queue.getJob(id);
    job.options.retries -= 1;
    await t.redis.hset(`q:${named.name}:jobs`, id, (job as unknown as { toData(): string }).toData());
    expect(await stored(named, id)).toMatch(/^\{"data":/);
    await recoverAsStalled(queue, t.redis, id);
    const again = await queue.getJob(id);
    expect(stallsOf(again)).toBe(2);
    // Attempt 2 (one retry spent) plus two runs that never ended.
    expect(jobStarts(again, 2)).toBe(4);
  });

  it('counts only the jobs recovery moves back, not a stalling id missing from the active list', async () => {
    const named = task('not-active');
    const id = await enqueued(named, { n: 1 });
    const queue = t.queues.producer(named.name);
    await t.redis.multi().sadd(`q:${named.name}:stalling`, id).del(`q:${named.name}:stallBlock`).exec();
    expect(await queue.checkStalledJobs()).toBe(0);
    expect(stallsOf(await queue.getJob(id))).toBe(0);
  });
});
