import { randomUUID } from 'node:crypto';
import type { Runtime } from '../compose.ts';
import type { JobEnvelope, NamedTask } from './queue.ts';
import { runJob } from './runner.ts';

/**
 * Runs one job of `task` in this process, through the same runner a worker uses (payload validated, context,
 * timeout, start count, log line), without a queue taking it: for `worker.mjs run`, and for tests. The job is
 * never saved; `attempt` says which try it is. Resolves with the task's result and the progress it reported.
 */
export async function runOnce(
  runtime: Runtime,
  task: NamedTask,
  payload: unknown,
  options: { attempt?: number; jobId?: string } = {},
): Promise<{ result: unknown; progress: number[] }> {
  const envelope: JobEnvelope = { payload };
  const job = runtime.queues
    .producer(task.name)
    .createJob(envelope)
    .setId(options.jobId ?? `run-${randomUUID()}`);
  job.retries(task.definition.retries - ((options.attempt ?? 1) - 1));
  const progress: number[] = [];
  const report = job.reportProgress.bind(job);
  job.reportProgress = (percent: number) => {
    progress.push(percent);
    return report(percent);
  };
  const result = await runJob(task, job, runtime.services, {
    overrun: { graceMs: runtime.config.worker.timeoutGraceMs, onStuck: () => {} },
  });
  return { result, progress };
}
