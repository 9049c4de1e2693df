import type { Runtime } from '../compose.ts';
import type { OverrunPolicy } from './deadline.ts';
import type { NamedTask } from './queue.ts';
import { startOutboxRelay } from './relay.ts';
import { type JobObserver, runJob } from './runner.ts';
import { scheduleTask } from './schedule.ts';

export type WorkerOptions = {
  tasks: NamedTask[];
  /** The process's runtime (see composeRuntime), composed with these same tasks. */
  runtime: Runtime;
  /** What happens to a run that ignores its timeout (the worker main exits, so that it is restarted). */
  overrun?: OverrunPolicy;
  /** Counts jobs and stalls (see jobs/metrics.ts). */
  metrics?: { jobEnded: JobObserver; jobStalled(task: string): void };
};

/**
 * Starts processing every task on its own queue with the task's concurrency, recovers stalled jobs on a
 * schedule, enqueues scheduled tasks once per tick however many workers run, and relays the outbox (jobs
 * enqueued inside transactions) onto the queues.
 */
export function startWorker(options: WorkerOptions) {
  const { tasks, metrics } = options;
  const { config, queues, services } = options.runtime;
  const { sql, redis, log, enqueue } = services;
  const overrun = options.overrun ?? { graceMs: config.worker.timeoutGraceMs, onStuck: () => {} };
  const stopping = new AbortController();
  const crons: ReturnType<typeof scheduleTask>[] = [];
  const unknown = [...config.worker.scheduleOverrides.keys()].filter(
    (name) => !tasks.some((t) => t.name === name),
  );
  if (unknown.length > 0) {
    throw new Error(
      `TASK_SCHEDULES names tasks that do not exist: ${unknown.join(', ')}; check the names under tasks/`,
    );
  }

  for (const task of tasks) {
    const queue = queues.worker(task.name);
    // bee-queue's stall check emits one per job it put back on the queue because its worker stopped beating.
    if (metrics) queue.on('stalled', () => metrics.jobStalled(task.name));
    queue.process(task.definition.concurrency, (job) =>
      runJob(task, job, services, {
        stop: stopping.signal,
        observe: metrics?.jobEnded,
        overrun,
      }),
    );
    queue.checkStalledJobs(config.worker.stallIntervalMs).catch((error) => {
      log.warn({ task: task.name, err: error }, 'stalled-job check failed');
    });
    const schedule = config.worker.scheduleOverrides.get(task.name) ?? task.definition.schedule;
    if (schedule) crons.push(scheduleTask(task, schedule, { redis, log, enqueue }));
  }
  const outbox = startOutboxRelay({
    sql,
    log,
    prefix: config.redis.prefix,
    pollIntervalMs: config.worker.outboxPollIntervalMs,
    enqueue,
  });
  log.info({ tasks: tasks.map((task) => task.name) }, 'worker started');

  return {
    queues,
    enqueue,
    outbox,
    /** Takes no new jobs, lets running ones finish for up to `timeoutMs`, then tells the rest to stop. */
    async close(timeoutMs: number) {
      for (const cron of crons) cron.stop();
      const cutoff = setTimeout(() => stopping.abort(new Error('worker shutting down')), timeoutMs);
      // The relay enqueues through these queues: it stops first, so that no pass fails half-way on them.
      await outbox.close();
      await queues.close(timeoutMs + 500);
      clearTimeout(cutoff);
    },
  };
}
