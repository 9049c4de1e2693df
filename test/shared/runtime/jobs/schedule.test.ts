import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueTick } from '#runtime/jobs/schedule.ts';
import type { Enqueue } from '#runtime/jobs/task.ts';
import { captureLog, createTestApp, type TestApp } from '../../../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { RD_PREFIX: `sc${randomUUID().slice(0, 8)}` } });
});
afterAll(() => t.close());

/** The app's real enqueue, refusing its first `failures` calls as an unreachable Redis would. */
function failingFirst(failures: number): Enqueue {
  let calls = 0;
  return (task, payload, options) => {
    calls += 1;
    if (calls <= failures) return Promise.reject(new Error('Redis did not take the job within 2000 ms'));
    return t.enqueue(task, payload, options);
  };
}

const tickTask = () => {
  const task = t.tasks.find((named) => named.name === 'tick');
  if (!task) throw new Error('the fixture has a tick task');
  return task;
};

describe('enqueueTick', () => {
  it('retries a failed enqueue of the tick it claimed, so the tick still runs', async () => {
    const tick = new Date(Date.now() + Math.random() * 1e9).toISOString();
    const { log } = captureLog();
    const enqueued = await enqueueTick(
      tickTask(),
      tick,
      { redis: t.redis, log, enqueue: failingFirst(2) },
      5,
    );
    expect(enqueued).toEqual({ jobId: `tick@${tick}` });
    const job = await t.queues.producer('tick').getJob(`tick@${tick}`);
    expect(job?.data.payload).toEqual({ scheduledAt: tick });
  });

  it('enqueues each tick once however many workers claim it', async () => {
    const tick = new Date(Date.now() + Math.random() * 1e9).toISOString();
    const services = { redis: t.redis, log: captureLog().log, enqueue: t.enqueue };
    const results = await Promise.all([1, 2, 3].map(() => enqueueTick(tickTask(), tick, services, 5)));
    expect(results.filter(Boolean)).toEqual([{ jobId: `tick@${tick}` }]);
  });

  it('gives the claim back and logs the missed tick when every try fails', async () => {
    const tick = new Date(Date.now() + Math.random() * 1e9).toISOString();
    const { lines, log } = captureLog();
    const enqueued = await enqueueTick(
      tickTask(),
      tick,
      { redis: t.redis, log, enqueue: failingFirst(99) },
      1,
    );
    expect(enqueued).toBeUndefined();
    expect(await t.redis.exists(`schedule:tick:${tick}`)).toBe(0);
    expect(lines.filter((line) => line.msg === 'scheduled job not enqueued yet; retrying')).toHaveLength(4);
    expect(lines.at(-1)).toMatchObject({ level: 50, msg: 'scheduled job not enqueued; its tick is missed' });
  });
});
