import type { AppModule } from '../app.ts';
import { type Commands, readCommand, requireArgs } from '../command-line.ts';
import { composeRuntime } from '../compose.ts';
import { loadConfig } from '../config.ts';
import { exitWithHealth, storeStates } from '../health.ts';
import { createLogger } from '../log.ts';
import { serveMetrics } from '../metrics-registry.ts';
import { onShutdownSignal, runMain } from '../process.ts';
import { failedJobsCommand, runCommand } from './commands.ts';
import { HEARTBEAT_INTERVAL_MS, heartbeatProblem, writeHeartbeat } from './heartbeat.ts';
import { createWorkerMetrics } from './metrics.ts';
import { RUNTIME_TASKS } from './purge.ts';
import type { NamedTask } from './queue.ts';
import { startWorker } from './worker.ts';

/** What the build hands the worker bundle: the app module and the discovered tasks. */
export type WorkerBundle = { app: AppModule; tasks: NamedTask[] };

const COMMANDS: Commands = {
  work: { does: "run every task, the app's and the runtime's own, until SIGTERM" },
  run: {
    usage: "<task> '<json payload>'",
    does: 'run one job of a task in this process, then exit 0, or 1 if it failed',
  },
  failed: { usage: '[task]', does: 'print the jobs that failed for good, one JSON line each' },
  retry: { usage: '<task> <id>', does: 'put one failed job back on its queue' },
  health: { does: "exit 0 when the running worker's heartbeat is fresh (a container healthcheck)" },
};

/**
 * The worker process's command line (`node dist/worker.mjs help` lists it); an unknown command exits 2 before
 * anything starts.
 */
export function main(bundle: WorkerBundle, argv = process.argv.slice(2)): void {
  const tasks = [...bundle.tasks, ...RUNTIME_TASKS];
  runMain(async () => {
    const { command, args } = readCommand('dist/worker.mjs', COMMANDS, 'work', argv);
    const counts = { work: [0, 0], run: [2, 2], failed: [0, 1], retry: [2, 2], health: [0, 0] } as const;
    const [min, max] = counts[command as keyof typeof counts];
    requireArgs('dist/worker.mjs', command, COMMANDS, args, { min, max });
    const config = loadConfig(undefined, bundle.app.settings);
    if (command === 'health') exitWithHealth(await heartbeatProblem(config.worker.heartbeatFile));
    if (command === 'failed' || command === 'retry') {
      process.exit(await failedJobsCommand(config, tasks, [command, ...args]));
    }
    if (command === 'run') process.exit(await runCommand(bundle.app, config, tasks, args));
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

    // No drain, unlike the HTTP process: nothing routes work to a worker (it takes jobs from Redis), so the
    // sooner it stops taking them, the sooner other workers have them.
    onShutdownSignal(log, async () => {
      clearInterval(heartbeat);
      await worker.close(config.shutdownTimeoutMs);
      await metricsServer?.close();
      await runtime.close();
    });
  });
}
