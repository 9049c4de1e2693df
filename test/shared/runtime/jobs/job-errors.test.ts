import { randomUUID } from 'node:crypto';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from '#runtime/errors.ts';
import { createEnqueue, type NamedTask } from '#runtime/jobs/queue.ts';
import { runJob } from '#runtime/jobs/runner.ts';
import { defineTask } from '#runtime/jobs/task.ts';
import { captureLog, createTestApp, type TestApp } from '../../../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { RD_PREFIX: `je${randomUUID().slice(0, 8)}` } });
});
afterAll(() => t.close());

/** Runs one tracked job of a task whose run throws `error`, and reads what its owner sees in the record. */
async function recordAfterFailure(error: Error) {
  const task: NamedTask = {
    name: `failing-${randomUUID().slice(0, 8)}`,
    definition: defineTask({
      payload: v.object({}),
      retries: 0,
      run: () => {
        throw error;
      },
    }),
  };
  const id = randomUUID();
  await t.sql`insert into jobs (id, owner, task) values (${id}, 'someone', ${task.name})`;
  const enqueue = createEnqueue(t.queues, { timeoutMs: 2_000, tasks: [task] });
  await enqueue(task.definition, {}, { jobId: id, tracked: true });
  const job = await t.queues.producer(task.name).getJob(id);
  const { lines, log } = captureLog();
  await runJob(task, job, { ...t.services, log }).catch(() => {});
  const [record] = await t.sql<
    { status: string; error: string }[]
  >`select status, error from jobs where id = ${id}`;
  return { id, record, lines };
}

describe("a failed job's record", () => {
  it("shows its owner no text of an unexpected error, and keeps that text in the worker's log", async () => {
    const { id, record, lines } = await recordAfterFailure(
      new Error(
        'duplicate key value violates unique constraint "users_email_lower_key" for bob@example.test',
      ),
    );
    expect(record).toEqual({
      status: 'failed',
      error: `The task failed; the worker's log has the cause under job id ${id}.`,
    });
    const logged = lines.find((line) => line.msg === 'job');
    expect(JSON.stringify(logged)).toContain('bob@example.test');
  });

  it('shows the message of an HttpError the task threw on purpose', async () => {
    const { record } = await recordAfterFailure(HttpError.conflict('The export was cancelled by its owner.'));
    expect(record?.error).toBe('The export was cancelled by its owner.');
  });
});
