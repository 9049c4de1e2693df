import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnqueue, createQueues, type Queues } from '#runtime/jobs/queue.ts';
import type { Enqueue } from '#runtime/jobs/task.ts';
import flaky from '../fixtures/app/tasks/flaky.ts';
import recordItem from '../fixtures/app/tasks/record-item.ts';
import { captureLog, fixtureRoot, loadRoot } from '../support/app.ts';
import { testConfig } from '../support/context.ts';
import {
  type BuiltApp,
  type BundleProcess,
  installBuiltAppWithDatabase,
  runBundle,
  stopProcess,
} from '../support/processes.ts';

let app: BuiltApp;
let env: Record<string, string>;
let queues: Queues;
let enqueue: Enqueue;
let worker: BundleProcess | undefined;
const ids: { flaky?: string; invalid?: string } = {};
const key = randomUUID();

beforeAll(async () => {
  app = await installBuiltAppWithDatabase(fixtureRoot, 'e2f');
  env = { ...app.env, WORKER_HEARTBEAT_FILE: path.join(app.dir, 'heartbeat.json') };
  expect((await runBundle(app.dir, 'http.mjs', ['migrate'], env).exited).code).toBe(0);
  const config = testConfig(env);
  queues = createQueues(config, captureLog().log);
  enqueue = createEnqueue(queues, { timeoutMs: 2_000, tasks: (await loadRoot(fixtureRoot)).tasks });
}, 120_000);

afterAll(async () => {
  await stopProcess(worker);
  await queues?.close(1_000);
  await app?.cleanup();
});

/** Runs `node dist/worker.mjs ...args` to its end. */
async function cli(...args: string[]) {
  const run = runBundle(app.dir, 'worker.mjs', args, env);
  const { code } = await run.exited;
  const lines = run
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { code, output: run.output(), lines };
}

/** Runs the worker bundle until the CLI lists every id given as failed, then stops it. */
async function runWorkerUntilFailed(expected: string[]) {
  worker = runBundle(app.dir, 'worker.mjs', [], env);
  await worker.waitForLog((line) => line.msg === 'worker started');
  const deadline = Date.now() + 20_000;
  for (;;) {
    const listed = (await cli('failed')).lines.map((line) => line.id);
    if (expected.every((id) => listed.includes(id))) break;
    if (Date.now() > deadline) throw new Error(`not all of ${expected} failed; listed ${listed}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  worker.child.kill('SIGTERM');
  expect((await worker.exited).code).toBe(0);
}

describe('worker.mjs failed and retry, run from the built bundle', () => {
  it('`failed` prints one JSON line per failed job across all tasks, and `failed <task>` those of one', async () => {
    ids.flaky = (await enqueue(flaky, { key, succeedOnAttempt: 99 })).id;
    ids.invalid = (await enqueue(recordItem, { itemId: 'nope', kind: 'created' } as never)).id;
    await runWorkerUntilFailed([ids.flaky, ids.invalid]);

    const all = await cli('failed');
    expect(all.code).toBe(0);
    expect(all.lines).toEqual([
      {
        task: 'flaky',
        id: ids.flaky,
        failedAt: expect.any(String),
        attempts: 4,
        error: 'Error: attempt 4 fails on purpose',
        payload: { key, succeedOnAttempt: 99 },
      },
      expect.objectContaining({
        task: 'record-item',
        id: ids.invalid,
        attempts: 1,
        error: expect.stringContaining('invalid payload'),
      }),
    ]);
    const one = await cli('failed', 'record-item');
    expect(one.lines.map((line) => [line.task, line.id])).toEqual([['record-item', ids.invalid]]);
  });

  it('`retry <task> <id>` puts the job back on its queue with its retries, and the worker runs it again', async () => {
    const retried = await cli('retry', 'flaky', String(ids.flaky));
    expect(retried.code).toBe(0);
    expect(retried.output).toContain(`flaky job ${ids.flaky} is waiting again with 3 retries`);
    const job = await queues.producer('flaky').getJob(String(ids.flaky));
    expect(job.options.retries).toBe(3);
    expect((await cli('failed', 'flaky')).lines).toEqual([]);

    await runWorkerUntilFailed([String(ids.flaky)]);
    const [again] = (await cli('failed', 'flaky')).lines;
    expect(again).toMatchObject({ id: ids.flaky, attempts: 8 });
  });

  it('exits 1 with a clear message for an unknown task or job, and 2 for a missing argument', async () => {
    const unknownTask = await cli('failed', 'nope');
    expect(unknownTask.code).toBe(1);
    expect(unknownTask.output).toContain('there is no task "nope"; the tasks are: ');
    const unknownRetry = await cli('retry', 'nope', '1');
    expect(unknownRetry.code).toBe(1);
    expect(unknownRetry.output).toContain('there is no task "nope"');
    const unknownJob = await cli('retry', 'flaky', '999999');
    expect(unknownJob.code).toBe(1);
    expect(unknownJob.output).toContain('flaky has no job 999999');
    // A usage mistake is the command line's (exit 2, as for an unknown command), not the job's.
    const missing = await cli('retry', 'flaky');
    expect(missing.code).toBe(2);
    expect(missing.output).toContain('usage: node dist/worker.mjs retry <task> <id>');
  });
});
