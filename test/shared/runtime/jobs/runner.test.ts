import { randomUUID } from 'node:crypto';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidPayloadError, JobTimeoutError, PoisonJobError } from '#runtime/jobs/job-errors.ts';
import { createEnqueue, type NamedTask } from '#runtime/jobs/queue.ts';
import { runJob } from '#runtime/jobs/runner.ts';
import { jobStarts } from '#runtime/jobs/starts.ts';
import { defineTask, type TaskContext } from '#runtime/jobs/task.ts';
import { captureLog, createTestApp, type TestApp } from '../../../support/app.ts';
import { recoverAsStalled } from './stalled.ts';

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
  return t.queues.producer(task.name).getJob(id);
}

function services() {
  const { lines, log } = captureLog();
  return { lines, services: { ...t.services, log } };
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

  it('spends no attempt when the database cannot be reached, and waits at least a second to try again', async () => {
    const unreachable = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    });
    const task = named('store-down', { retries: 0, run: () => Promise.reject(unreachable) });
    const job = await jobOf(task, { n: 1 });
    const { lines, services: s } = services();
    await expect(runJob(task, job, s)).rejects.toThrow('ECONNREFUSED');
    expect(job.options.retries).toBe(1);
    expect(job.options.backoff).toEqual({ strategy: 'fixed', delay: 1_000 });
    expect(lines.at(-1)).toMatchObject({ outcome: 'retrying', storeDown: true, attempt: 1 });
  });

  it('tells a run past its timeout through its signal, and reports it stuck when it ignores it', async () => {
    const task = named('stuck', { timeoutMs: 100, run: hang });
    const job = await jobOf(task, { n: 1 });
    let stuck = 0;
    const { lines, services: s } = services();
    const overrun = { graceMs: 200, onStuck: () => (stuck += 1) };
    await expect(runJob(task, job, s, { overrun })).rejects.toBeInstanceOf(JobTimeoutError);
    expect(stuck).toBe(1);
    expect(lines.find((line) => line.msg === 'run ignores its signal past its timeout: stuck')).toMatchObject(
      {
        task: 'stuck',
        graceMs: 200,
      },
    );
    const { signal } = seen.at(-1) as TaskContext<{ n: number }>;
    expect(signal.aborted).toBe(true);
    expect(String(signal.reason)).toContain('stuck: timed out after 100 ms');
  });

  it('gives an interrupted job its attempt back, so the queue runs it again', async () => {
    const task = named('interrupted', { retries: 0, run: hang });
    const job = await jobOf(task, { n: 1 });
    const stop = new AbortController();
    const { lines, services: s } = services();
    const running = runJob(task, job, s, { stop: stop.signal });
    await expect.poll(() => seen.at(-1)?.task).toBe('interrupted');
    stop.abort(new Error('worker shutting down'));
    await expect(running).rejects.toThrow('worker shutting down');
    expect(seen.at(-1)?.signal.aborted).toBe(true);
    expect(job.options.retries).toBe(1);
    expect(lines.at(-1)).toMatchObject({ task: 'interrupted', attempt: 1, outcome: 'interrupted' });
  });
  it('counts a run that failed by its attempt, and starts a retried job afresh once it finished', async () => {
    let fail = true;
    const task = named('counted', {
      run: () => (fail ? Promise.reject(new Error('not yet')) : 'done'),
    });
    const job = await jobOf(task, { n: 1 });
    await expect(runJob(task, job, services().services)).rejects.toThrow('not yet');
    // bee-queue takes the retry off when it writes the failed run back; the next start is the second.
    job.options.retries -= 1;
    expect(jobStarts(job, 2)).toBe(2);
    fail = false;
    const { lines, services: s } = services();
    expect(await runJob(task, job, s)).toBe('done');
    expect(lines.at(-1)).toMatchObject({ attempt: 2, outcome: 'succeeded' });

    fail = true;
    const last = await jobOf(task, { n: 2 });
    last.options.retries = 0;
    await expect(runJob(task, last, services().services)).rejects.toThrow('not yet');
    expect(Date.parse(last.options.failedAt)).not.toBeNaN();
  });

  it('gives back the attempt of a job interrupted by shutdown, so its next start counts as the same', async () => {
    const task = named('given-back', { run: hang });
    const job = await jobOf(task, { n: 1 });
    const stop = new AbortController();
    const running = runJob(task, job, services().services, { stop: stop.signal });
    await expect.poll(() => seen.at(-1)?.task).toBe('given-back');
    stop.abort(new Error('worker shutting down'));
    await expect(running).rejects.toThrow('worker shutting down');
    // bee-queue then takes one retry off as it requeues the job: the next start is attempt 1 again.
    expect(job.options.retries - 1).toBe(task.definition.retries);
    expect(jobStarts(job, 1)).toBe(1);
  });

  it('fails a job that started more often than its task allows at once, without running it', async () => {
    let ran = false;
    const task = named('poison', { run: () => (ran = true) });
    const id = randomUUID();
    await t.sql`insert into jobs (id, task) values (${id}, 'poison')`;
    const enqueue = createEnqueue(t.queues, { timeoutMs: 2_000, tasks: [task] });
    await enqueue(task.definition, { n: 1 }, { jobId: id, tracked: true });
    // Four starts (retries + 1) that never finished, as when each run killed its worker.
    const queue = t.queues.producer('poison');
    for (let stall = 0; stall < 4; stall++) expect(await recoverAsStalled(queue, t.redis, id)).toBe(1);
    const job = await queue.getJob(id);
    const { lines, services: s } = services();
    const error = await runJob(task, job, s).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PoisonJobError);
    expect((error as Error).message).toContain('started 4 times without finishing');
    expect(ran).toBe(false);
    expect(job.options.retries).toBe(0);
    expect(lines).toEqual([
      expect.objectContaining({ level: 50, task: 'poison', jobId: id, msg: (error as Error).message }),
    ]);
    const [record] = await t.sql`select status, error from jobs where id = ${id}`;
    expect(record).toEqual({ status: 'failed', error: (error as Error).message });
  });

  it('counts the starts of runs that never finish, and refuses the start past the limit', async () => {
    let runs = 0;
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const task = named('crashing', {
      retries: 1,
      run: async () => {
        runs += 1;
        await gate;
      },
    });
    const { id } = await jobOf(task, { n: 1 });
    // Stall recovery hands a job whose worker died to the next worker as it was stored (same retries left),
    // having counted the run that never ended.
    const queue = t.queues.producer('crashing');
    const stored = () => queue.getJob(id);
    const abandoned = [runJob(task, await stored(), services().services)];
    await expect.poll(() => runs).toBe(1);
    await recoverAsStalled(queue, t.redis, id);
    abandoned.push(runJob(task, await stored(), services().services));
    await expect.poll(() => runs).toBe(2);
    await recoverAsStalled(queue, t.redis, id);
    const error = await runJob(task, await stored(), services().services).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PoisonJobError);
    expect((error as Error).message).toContain('started 2 times without finishing');
    expect(runs).toBe(2);
    release();
    await Promise.all(abandoned);
  });
});
