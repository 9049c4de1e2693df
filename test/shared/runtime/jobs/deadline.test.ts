import { describe, expect, it } from 'vitest';
import { runWithDeadline } from '#runtime/jobs/deadline.ts';
import overrunningTask from '../../../fixtures/app/tasks/overrun.ts';
import { startTestWorker } from '../../../support/app.ts';

const overrun = { graceMs: 5_000, onStuck: () => {} };
const timeoutError = () => new Error('timed out');

describe('runWithDeadline', () => {
  it('rejects at the timeout, but only once a run that overruns it has returned', async () => {
    let returnedAt = 0;
    const started = performance.now();
    const error = await runWithDeadline(
      async () => {
        // Ignores its signal for a while, as a task stuck in a call without one would.
        await new Promise((resolve) => setTimeout(resolve, 400));
        returnedAt = performance.now();
      },
      { timeoutMs: 50, timeoutError, overrun },
    ).catch((caught: Error) => caught);
    expect((error as Error).message).toBe('timed out');
    expect(returnedAt).toBeGreaterThan(started);
    expect(performance.now()).toBeGreaterThanOrEqual(returnedAt);
  });

  it('tells every run still under way at shutdown, and none that already ended', async () => {
    const stop = new AbortController();
    const options = { timeoutMs: 10_000, timeoutError, stop: stop.signal, overrun };
    const ended = await Promise.all([1, 2, 3].map((n) => runWithDeadline(() => n, options)));
    const hanging = [4, 5, 6].map((n) =>
      runWithDeadline(() => new Promise<number>(() => {}), options).catch(
        (error: Error) => `${n}: ${error.message}`,
      ),
    );
    const last = await runWithDeadline(() => 7, options);
    stop.abort(new Error('worker shutting down'));
    expect([...ended, last]).toEqual([1, 2, 3, 7]);
    expect(await Promise.all(hanging)).toEqual([
      '4: worker shutting down',
      '5: worker shutting down',
      '6: worker shutting down',
    ]);
  });

  it('does not wait for a run that shutdown cut short', async () => {
    const stop = new AbortController();
    let returned = false;
    const running = runWithDeadline(
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        returned = true;
      },
      { timeoutMs: 10_000, timeoutError, stop: stop.signal, overrun },
    );
    stop.abort(new Error('worker shutting down'));
    await expect(running).rejects.toThrow('worker shutting down');
    expect(returned).toBe(false);
  });

  it('reports a run stuck past the grace, and gives its place back', async () => {
    let stuck = 0;
    const error = await runWithDeadline(() => new Promise(() => {}), {
      timeoutMs: 20,
      timeoutError,
      overrun: { graceMs: 100, onStuck: () => (stuck += 1) },
    }).catch((caught: Error) => caught);
    expect((error as Error).message).toBe('timed out');
    expect(stuck).toBe(1);
  });
});

describe('a concurrency-1 task whose run ignores its timeout', () => {
  it('never has its retry running while the first run still runs', async () => {
    const worker = await startTestWorker(['overrun'], { env: { TASK_TIMEOUT_GRACE_MS: '5000' } });
    try {
      const key = `overrun-${Date.now()}`;
      await worker.enqueue(overrunningTask, { key });
      const runs = () => worker.runtime.redis.lrange(`overrun:${key}`, 0, -1);
      await expect.poll(runs, { timeout: 15_000, interval: 100 }).toHaveLength(4);
      // start 1, end 1, start 2, end 2: the retry starts only after the first run ended.
      expect((await runs()).map((entry) => entry.split(':')[0])).toEqual(['start', 'end', 'start', 'end']);
    } finally {
      await worker.close(2_000);
    }
  });
});
