import type BeeQueue from 'bee-queue';
import { Counter, Gauge, type Registry } from 'prom-client';
import { type Queryable, withDeadline } from '../db.ts';
import { createMetricsRegistry } from '../metrics-registry.ts';
import { type HistogramSeries, TalliedHistogram } from '../tallied-histogram.ts';
import { outboxBacklog } from './outbox.ts';
import type { Queues } from './queue.ts';
import { JOB_OUTCOMES, type JobObserver, type JobOutcome } from './runner.ts';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/** What the gauges read at each scrape: the worker's queues (after startWorker) and the outbox. */
export type WorkerMetricsSources = {
  queues: Queues;
  sql: Queryable;
  /** RD_PREFIX: the outbox rows this worker's relay moves. */
  prefix: string;
  /** How long a scrape waits for Redis or Postgres, so that a store that is down cannot hang it. */
  timeoutMs?: number;
};

/**
 * The worker's metrics: jobs by task and outcome, run times, retries and stall recoveries, and, read at each
 * scrape, each queue's jobs by state and the outbox backlog. A gauge whose store did not answer is left out
 * of that scrape rather than shown stale.
 */
export function createWorkerMetrics(tasks: string[], registry: Registry = createMetricsRegistry()) {
  const registers = [registry];
  // prom-client hashes and checks the labels of every call: each job is counted in a plain number of its task's,
  // added to the counter when it is read (at each scrape), and each task's label objects are made once.
  const labels = new Map<string, TaskLabels>();
  const labelsOf = (task: string) => {
    let known = labels.get(task);
    if (!known) {
      known = taskLabels(task, duration.series({ task }));
      labels.set(task, known);
    }
    return known;
  };
  const jobs = new Counter({
    name: 'jobs_total',
    help: 'Jobs that ended, by task and outcome (succeeded, retrying, failed, interrupted, poisoned, invalid).',
    labelNames: ['task', 'outcome'] as const,
    registers,
    collect() {
      for (const known of labels.values()) {
        for (const outcome of JOB_OUTCOMES) {
          const count = known.uncounted[outcome];
          if (count === 0) continue;
          known.uncounted[outcome] = 0;
          this.inc(known.outcomes[outcome], count);
        }
      }
    },
  });
  const duration = new TalliedHistogram(
    'job_duration_seconds',
    'How long runs of jobs took, by task (jobs failed without running are not timed).',
    [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers,
  );
  const retries = new Counter({
    name: 'job_retries_total',
    help: 'Runs of jobs past their first attempt, counted when the run ends, by task.',
    labelNames: ['task'] as const,
    registers,
  });
  const stalled = new Counter({
    name: 'stalled_jobs_total',
    help: 'Jobs put back on their queue by stall recovery (their worker stopped while running them), by task.',
    labelNames: ['task'] as const,
    registers,
  });
  // Every series exists from the start, so that rate() sees the first increment.
  for (const task of tasks) {
    for (const outcome of JOB_OUTCOMES) jobs.inc({ task, outcome }, 0);
    retries.inc({ task }, 0);
    stalled.inc({ task }, 0);
  }

  let sources: WorkerMetricsSources | undefined;
  new Gauge({
    name: 'queue_jobs',
    help: 'Jobs in each task queue, by state (waiting, active, delayed, failed), read at scrape time.',
    labelNames: ['task', 'state'] as const,
    registers,
    async collect() {
      const from = sources;
      const counts = from
        ? await Promise.all(tasks.map((task) => queueCounts(from.queues.worker(task), from.timeoutMs)))
        : [];
      this.reset();
      for (const [index, health] of counts.entries()) {
        const task = tasks[index] as string;
        for (const state of QUEUE_STATES) if (health) this.set({ task, state }, health[state]);
      }
    },
  });
  new Gauge({
    name: 'outbox_backlog',
    help: 'Outbox rows waiting for the relay to put them on their queues, read at scrape time.',
    registers,
    async collect() {
      const backlog = sources ? await readBacklog(sources) : undefined;
      if (backlog === undefined) this.remove({});
      else this.set(backlog);
    },
  });

  const jobEnded: JobObserver = ({ task, outcome, attempt, seconds }) => {
    const of = labelsOf(task);
    of.uncounted[outcome] += 1;
    if (seconds === undefined) return;
    of.runTimes.observe(seconds);
    if (attempt > 1) retries.inc(of.task);
  };
  return {
    registry,
    jobEnded,
    jobStalled(task: string) {
      stalled.inc({ task });
    },
    /** Gives the gauges what they read at each scrape. */
    watch(next: WorkerMetricsSources) {
      sources = next;
    },
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

type TaskLabels = {
  task: { task: string };
  outcomes: Record<JobOutcome, { task: string; outcome: JobOutcome }>;
  /** Jobs that ended since `jobs_total` was last read, by outcome. */
  uncounted: Record<JobOutcome, number>;
  runTimes: HistogramSeries;
};

function taskLabels(task: string, runTimes: HistogramSeries): TaskLabels {
  const outcomes = {} as TaskLabels['outcomes'];
  const uncounted = {} as TaskLabels['uncounted'];
  for (const outcome of JOB_OUTCOMES) {
    outcomes[outcome] = { task, outcome };
    uncounted[outcome] = 0;
  }
  return { task: { task }, outcomes, uncounted, runTimes };
}

type QueueCounts = Record<(typeof QUEUE_STATES)[number], number>;

async function queueCounts(queue: BeeQueue, timeoutMs = 2_000): Promise<QueueCounts | undefined> {
  // A worker queue's client buffers commands while Redis is away: a scrape must not pile up reads for later.
  if (!(queue as unknown as { client?: { ready?: boolean } }).client?.ready) return undefined;
  return withDeadline(queue.checkHealth(), timeoutMs, 'Redis did not report the queue').catch(
    () => undefined,
  );
}

async function readBacklog({ sql, prefix, timeoutMs = 2_000 }: WorkerMetricsSources) {
  try {
    return await withDeadline(outboxBacklog(sql, prefix), timeoutMs, 'PostgreSQL did not count the outbox');
  } catch (error) {
    // An app without the outbox migration has nothing waiting; any other failure leaves the value unknown.
    return (error as { code?: string }).code === '42P01' ? 0 : undefined;
  }
}
