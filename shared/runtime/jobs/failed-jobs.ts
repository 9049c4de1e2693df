import type BeeQueue from 'bee-queue';
import { pino } from 'pino';
import type { Config } from '../config.ts';
import { createSql, type Queryable } from '../db.ts';
import { createRedis, pingRedis } from '../redis.ts';
import { createQueues, type JobEnvelope, type NamedTask, type Queues } from './queue.ts';
import { forgetStalls } from './starts.ts';
import { jobPolicy } from './task.ts';

/** A job that failed for good, as `worker.mjs failed` prints it. */
export type FailedJob = {
  task: string;
  id: string;
  /** Written by the worker since jobs carry it; older failed jobs have none. */
  failedAt?: string;
  /** Runs that ended in a failure bee-queue recorded. */
  attempts: number;
  /** The first line of the last failure. */
  error: string;
  payload: unknown;
};

/** What `retryFailedJob` did, with a sentence saying so. */
export type RetriedJob = { task: string; id: string; retries: number; tracked: boolean; message: string };

/** An operator's mistake (an unknown task or job, a job that has not failed): its message says which. */
export class FailedJobsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FailedJobsError';
  }
}

/** The connections the commands need, with log lines on stderr so stdout holds only their answers. */
export async function openFailedJobStores(config: Config) {
  const log = pino({ level: 'warn' }, process.stderr);
  const redis = createRedis(config.redis);
  const queues = createQueues(config, log);
  const sql = createSql({ ...config.postgres, poolMax: 1 });
  const close = async () => {
    await queues.close(1_000);
    await Promise.allSettled([sql.end({ timeout: 5 }), redis.quit()]);
  };
  // bee-queue would wait for Redis without end.
  await pingRedis(redis, 5_000).catch(async (error: Error) => {
    await close();
    throw new FailedJobsError(
      `Redis at ${config.redis.host}:${config.redis.port} did not answer (${error.message})`,
    );
  });
  return { queues, redis, sql, close };
}

/** The failed jobs of one task, or of every task, oldest id first within each task. */
export async function listFailedJobs(
  queues: Queues,
  tasks: NamedTask[],
  task?: string,
): Promise<FailedJob[]> {
  const names = task === undefined ? tasks.map((named) => named.name) : [findTask(tasks, task).name];
  const lists = await Promise.all(
    names.map(async (name) => {
      const queue = queues.producer(name);
      const { failed } = await queue.checkHealth();
      if (failed === 0) return [];
      const jobs: BeeQueue.Job<JobEnvelope>[] = await queue.getJobs('failed', { size: failed });
      return jobs
        .map((job) => describe(name, job))
        .sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
    }),
  );
  return lists.flat();
}

/**
 * Moves a failed job back to waiting with the retries its task allows today, forgets its count of starts
 * (see starts.ts), and sets a tracked job's record back to queued.
 */
export async function retryFailedJob(
  stores: { queues: Queues; sql: Queryable },
  tasks: NamedTask[],
  task: string,
  id: string,
): Promise<RetriedJob> {
  const named = findTask(tasks, task);
  const queue = stores.queues.producer(task) as BeeQueue<JobEnvelope> & QueueInternals;
  const job = await queue.getJob(id);
  if (!job) {
    throw new FailedJobsError(
      `${task} has no job ${id}; \`worker.mjs failed ${task}\` lists its failed jobs`,
    );
  }
  if (!(await isFailed(queue, id))) {
    throw new FailedJobsError(
      `${task} job ${id} has not failed (bee-queue has it as ${job.status}); nothing to retry`,
    );
  }
  const { retries } = jobPolicy(named.definition);
  job.options.retries = retries;
  delete job.options.failedAt;
  job.status = 'created';
  job.progress = 0;
  const tracked = job.data?.tracked === true;
  // Written back with the job, so a worker that takes it at once starts from a clean slate.
  forgetStalls(job);
  if (tracked) {
    await stores.sql`
      update jobs set status = 'queued', progress = 0, error = null, updated_at = now() where id = ${id}`;
  }
  if (!(await requeue(queue, id, (job as unknown as { toData(): string }).toData()))) {
    throw new FailedJobsError(`${task} job ${id} was retried by someone else meanwhile`);
  }
  const record = tracked ? '; its job record is queued again' : '';
  const message = `${task} job ${id} is waiting again with ${retries} retries; its count of starts was reset${record}.`;
  return { task, id, retries, tracked, message };
}

/** The parts of bee-queue's queue the commands use that its types leave out: its own node_redis client. */
type QueueInternals = {
  client: {
    eval(...args: [...(string | number)[], Reply]): unknown;
    sismember(key: string, member: string, done: Reply): unknown;
  };
  toKey(key: string): string;
};
type Reply = (error: Error | null, reply: unknown) => void;

// In one step, so that two operators retrying one job cannot queue it twice.
const REQUEUE = `
if redis.call('srem', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('hset', KEYS[2], ARGV[1], ARGV[2])
redis.call('lpush', KEYS[3], ARGV[1])
return 1`;

async function requeue(queue: QueueInternals, id: string, data: string): Promise<boolean> {
  const keys = ['failed', 'jobs', 'waiting'].map((key) => queue.toKey(key));
  return (await call((done) => queue.client.eval(REQUEUE, keys.length, ...keys, id, data, done))) === 1;
}

async function isFailed(queue: QueueInternals, id: string): Promise<boolean> {
  return (await call((done) => queue.client.sismember(queue.toKey('failed'), id, done))) === 1;
}

function call(command: (done: Reply) => unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    command((error, reply) => (error ? reject(error) : resolve(reply)));
  });
}

function findTask(tasks: NamedTask[], name: string): NamedTask {
  const task = tasks.find((named) => named.name === name);
  if (!task) {
    const known = tasks.map((named) => named.name).join(', ') || 'none';
    throw new FailedJobsError(`there is no task ${JSON.stringify(name)}; the tasks are: ${known}`);
  }
  return task;
}

function describe(task: string, job: BeeQueue.Job<JobEnvelope>): FailedJob {
  const stacktraces: string[] = job.options.stacktraces ?? [];
  const failedAt: unknown = job.options.failedAt;
  return {
    task,
    id: String(job.id),
    ...(typeof failedAt === 'string' ? { failedAt } : {}),
    attempts: stacktraces.length,
    error: String(stacktraces[0] ?? '').split('\n')[0] ?? '',
    payload: job.data?.payload,
  };
}
