import { randomUUID } from 'node:crypto';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidPayloadError, JobTimeoutError, runJob } from '../../shared/job-runner.ts';
import { createEnqueue, type NamedTask } from '../../shared/queue.ts';
import { defineTask, type TaskContext } from '../../shared/task.ts';
import { captureLog, createTestApp, type TestApp } from '../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { RD_PREFIX: `jr${randomUUID().slice(0, 8)}` } });
});
afterAll(() => t.close());

const Payload = v.object({ n: v.number() });
const seen: TaskContext<{ n: number }>[] = [];
const named = (name: string, input: Partial<Parameters<typeof defineTask<typeof Payload>>[0]> = {}) =>
  ({
    name,
    definition: defineTask({
      payload: Payload,
      retries: 3,
      backoff: { strategy: 'fixed', delayMs: 100 },
      timeoutMs: 1_000,
      run: (ctx) => {
        seen.push(ctx);
        return ctx.payload.n * 2;
      },
      ...input,
    }),
  }) satisfies NamedTask;

/** A run that never settles on its own, as a stuck task's would. */
function hang(ctx: TaskContext<{ n: number }>) {
  seen.push(ctx);
  return new Promise<never>(() => {});
}

/** A real job of `task` as bee-queue hands it to a worker: created by the enqueuer, read back from Redis. */
async function jobOf(task: NamedTask, payload: unknown) {
  const enqueue = createEnqueue(t.queues, { timeoutMs: 2_000, tasks: [task] });
  const { id } = await enqueue(task.definition, payload as never);
  return t.queues.get(task.name).getJob(id);
}

function services() {
  const { lines, log } = captureLog();
  return { lines, services: { sql: t.sql, redis: t.redis, log, config: t.config, enqueue: t.enqueue } };
}

describe('runJob', () => {
  it('runs the task with the parsed payload and logs the outcome with task, jobId and attempt', async () => {
    const task = named('double');
    const job = await jobOf(task, { n: 21 });
    const { lines, services: s } = services();
    expect(await runJob(task, job, s)).toBe(42);
    expect(seen.at(-1)).toMatchObject({ payload: { n: 21 }, jobId: job.id, task: 'double', attempt: 1 });
    expect(lines.filter((line) => line.msg === 'job')).toEqual([
      expect.objectContaining({ task: 'double', jobId: job.id, attempt: 1, outcome: 'succeeded' }),
    ]);
  });

  it('derives the attempt from the retries bee-queue has left', async () => {
    const task = named('attempts');
    const job = await jobOf(task, { n: 1 });
    expect(job.options.retries).toBe(3);
    job.options.retries = 1;
    await runJob(task, job, services().services);
    expect(seen.at(-1)?.attempt).toBe(3);
  });

  it('fails an invalid payload for good, naming each field, without running the task', async () => {
    let ran = false;
    const task = named('strict', { run: () => (ran = true) });
    const job = await jobOf(task, { n: 'one' });
    const { lines, services: s } = services();
    const error = await runJob(task, job, s).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidPayloadError);
    expect((error as InvalidPayloadError).fields.map((f) => f.field)).toEqual(['payload.n']);
    expect(job.options.retries).toBe(0);
    expect(ran).toBe(false);
    expect(lines).toEqual([
      expect.objectContaining({ task: 'strict', jobId: job.id, attempt: 1, errors: [expect.anything()] }),
    ]);
  });

  it('logs a failure as retrying while retries are left and as failed after the last', async () => {
    const task = named('broken', { retries: 1, run: () => Promise.reject(new Error('broken on purpose')) });
    const job = await jobOf(task, { n: 1 });
    const { lines, services: s } = services();
    await expect(runJob(task, job, s)).rejects.toThrow('broken on purpose');
    job.options.retries = 0;
    await expect(runJob(task, job, s)).rejects.toThrow('broken on purpose');
    expect(
      lines.map((line) => [line.attempt, line.outcome, (line.err as { message: string }).message]),
    ).toEqual([
      [1, 'retrying', 'broken on purpose'],
      [2, 'failed', 'broken on purpose'],
    ]);
  });

  it('settles at the timeout when the run ignores its signal, and tells the run through the signal', async () => {
    const task = named('stuck', { timeoutMs: 100, run: hang });
    const job = await jobOf(task, { n: 1 });
    await expect(runJob(task, job, services().services)).rejects.toBeInstanceOf(JobTimeoutError);
    const { signal } = seen.at(-1) as TaskContext<{ n: number }>;
    expect(signal.aborted).toBe(true);
    expect(String(signal.reason)).toContain('stuck: timed out after 100 ms');
  });

  it('gives an interrupted job its attempt back, so the queue runs it again', async () => {
    const task = named('interrupted', { retries: 0, run: hang });
    const job = await jobOf(task, { n: 1 });
    const stop = new AbortController();
    const { lines, services: s } = services();
    const running = runJob(task, job, s, stop.signal);
    await expect.poll(() => seen.at(-1)?.task).toBe('interrupted');
    stop.abort(new Error('worker shutting down'));
    await expect(running).rejects.toThrow('worker shutting down');
    expect(seen.at(-1)?.signal.aborted).toBe(true);
    expect(job.options.retries).toBe(1);
    expect(lines.at(-1)).toMatchObject({ task: 'interrupted', attempt: 1, outcome: 'interrupted' });
  });
});
