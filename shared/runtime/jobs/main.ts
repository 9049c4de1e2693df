import type { AppModule } from '../app.ts';
import { composeRuntime } from '../compose.ts';
import { type Config, loadConfig } from '../config.ts';
import { exitWithHealth, storeStates } from '../health.ts';
import { createLogger } from '../log.ts';
import { serveMetrics } from '../metrics-registry.ts';
import { onShutdownSignal, runMain } from '../process.ts';
import { FailedJobsError, listFailedJobs, openFailedJobStores, retryFailedJob } from './failed-jobs.ts';
import { HEARTBEAT_INTERVAL_MS, heartbeatProblem, writeHeartbeat } from './heartbeat.ts';
import { createWorkerMetrics } from './metrics.ts';
import { RUNTIME_TASKS } from './purge.ts';
import type { NamedTask } from './queue.ts';
import { startWorker } from './worker.ts';

/** What the build hands the worker bundle: the app module and the discovered tasks. */
export type WorkerBundle = { app: AppModule; tasks: NamedTask[] };

/**
 * The worker process. `health` exits 0 when the running worker's heartbeat is fresh and its stores
 * answer (for Compose's healthcheck); `failed [task]` and `retry <task> <id>` inspect and retry failed jobs;
 * anything else runs every task, the app's and the runtime's own, until SIGTERM.
 */
export function main(bundle: WorkerBundle, argv = process.argv.slice(2)): void {
  const tasks = [...bundle.tasks, ...RUNTIME_TASKS];
  runMain(async () => {
    const config = loadConfig(undefined, bundle.app.settings);
    if (argv[0] === 'health') exitWithHealth(await heartbeatProblem(config.worker.heartbeatFile));
    if (argv[0] === 'failed' || argv[0] === 'retry') {
      process.exit(await failedJobsCommand(config, tasks, argv));
    }
    const log = createLogger(config.logLevel, { process: 'worker' });
    const runtime = await composeRuntime({ app: bundle.app, config, process: 'worker', log, tasks });
    const metrics = createWorkerMetrics(tasks.map((task) => task.name));
    const worker = startWorker({
      tasks,
      runtime,
      metrics,
      // A run that ignores its signal would hold its slot for ever, or, given back, overlap its own retry: the
      // worker exits instead, its supervisor starts it again, and stall recovery runs the job elsewhere.
      overrun: {
        graceMs: config.worker.timeoutGraceMs,
        onStuck: () => {
          log.fatal('a job run is stuck past its timeout; exiting so that the worker is restarted');
          process.exit(1);
        },
      },
    });
    metrics.watch({ queues: runtime.queues, sql: runtime.sql, prefix: config.redis.prefix });
    const metricsServer = await serveMetrics(metrics.registry, config.worker.metrics, log);

    const beat = async () => {
      const states = await storeStates(runtime.sql, runtime.redis);
      await writeHeartbeat(config.worker.heartbeatFile, { at: Date.now(), pid: process.pid, ...states });
    };
    const heartbeat = setInterval(
      () => beat().catch((error) => log.warn({ err: error }, 'heartbeat failed')),
      HEARTBEAT_INTERVAL_MS,
    );
    await beat().catch((error) => log.warn({ err: error }, 'heartbeat failed'));

    onShutdownSignal(log, async () => {
      clearInterval(heartbeat);
      await worker.close(config.shutdownTimeoutMs);
      await metricsServer?.close();
      await runtime.close();
    });
  });
}

/** `failed [task]` prints each failed job as a JSON line; `retry <task> <id>` puts one back on its queue. */
async function failedJobsCommand(config: Config, tasks: NamedTask[], argv: string[]): Promise<number> {
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
