import type { AppModule } from '../app.ts';
import { composeRuntime } from '../compose.ts';
import type { Config } from '../config.ts';
import { createLogger } from '../log.ts';
import { FailedJobsError, listFailedJobs, openFailedJobStores, retryFailedJob } from './failed-jobs.ts';
import type { NamedTask } from './queue.ts';
import { runOnce } from './run-once.ts';

/** `failed [task]` prints each failed job as a JSON line; `retry <task> <id>` puts one back on its queue. */
export async function failedJobsCommand(config: Config, tasks: NamedTask[], argv: string[]): Promise<number> {
  const [command, task, id] = argv;
  try {
    if (command === 'retry' && (!task || !id)) {
      throw new FailedJobsError('usage: worker.mjs retry <task> <id>');
    }
    const stores = await openFailedJobStores(config);
    try {
      if (command === 'retry') {
        process.stdout.write(`${(await retryFailedJob(stores, tasks, String(task), String(id))).message}\n`);
      } else {
        const jobs = await listFailedJobs(stores.queues, tasks, task);
        for (const job of jobs) process.stdout.write(`${JSON.stringify(job)}\n`);
      }
    } finally {
      await stores.close();
    }
    return 0;
  } catch (error) {
    const { message, stack } = error as Error;
    process.stderr.write(`${error instanceof FailedJobsError ? message : `${command} failed: ${stack}`}\n`);
    return 1;
  }
}

/**
 * `run <task> '<json>'` runs one job in this process through the worker's runner and prints its result as a
 * JSON line; exit 0 when it succeeded, 1 when it failed (its error is logged), 2 for a task or payload that
 * cannot be run at all.
 */
export async function runCommand(app: AppModule, config: Config, tasks: NamedTask[], args: string[]) {
  const [name, text] = args as [string, string];
  const task = tasks.find((candidate) => candidate.name === name);
  if (!task) {
    process.stderr.write(
      `worker.mjs run: no task ${JSON.stringify(name)}; the tasks are ${tasks.map((t) => t.name).join(', ')}\n`,
    );
    return 2;
  }
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    process.stderr.write(
      `worker.mjs run: the payload is not JSON (${(error as Error).message}); quote it: '{"key":"value"}'\n`,
    );
    return 2;
  }
  const log = createLogger(config.logLevel, { process: 'worker', command: 'run' });
  const runtime = await composeRuntime({ app, config, process: 'worker', log, tasks });
  try {
    const { result } = await runOnce(runtime, task, payload);
    process.stdout.write(`${JSON.stringify({ task: name, outcome: 'succeeded', result: result ?? null })}\n`);
    return 0;
  } catch (error) {
    process.stdout.write(
      `${JSON.stringify({ task: name, outcome: 'failed', error: (error as Error).message })}\n`,
    );
    return 1;
  } finally {
    await runtime.close();
  }
}
