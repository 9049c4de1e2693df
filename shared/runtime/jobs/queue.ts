import BeeQueue from 'bee-queue';
import type { Logger } from 'pino';
import './bee-queue-patches.ts';
import type { Config } from '../config.ts';
import { HttpError } from '../errors.ts';
import { beeQueueRedisSettings } from '../redis.ts';
import { addToOutbox } from './outbox.ts';
import { saveWithin } from './save-within.ts';
import {
  type Enqueue,
  type JobPolicy,
  jobPolicy,
  type TaskDefinition,
  type TaskHandle,
  type TaskRef,
} from './task.ts';

/** What a job carries in Redis: the task's payload plus where it came from. */
export type JobEnvelope = { payload: unknown; enqueuedAt: string; requestId?: string; tracked?: boolean };

/** A task known by name, as the worker and the tests load them. */
export type NamedTask = { name: string; definition: TaskDefinition };

/**
 * The bee-queue queues of one process, one per task, created on first use. Producer queues open no
 * subscriber connection; worker queues also recover stalled jobs and activate delayed ones.
 */
export function createQueues(config: Pick<Config, 'redis' | 'worker'>, log: Logger) {
  const queues = new Map<string, BeeQueue>();
  const settings = (isWorker: boolean): BeeQueue.QueueSettings => ({
    prefix: `${config.redis.prefix}:q`,
    // A producer must not buffer a job while Redis is away, or a job its caller was refused appears later.
    // Workers keep the buffer: their completions and blocking waits should run once Redis is back.
    redis: beeQueueRedisSettings(config.redis, { offlineQueue: isWorker }) as BeeQueue.QueueSettings['redis'],
    isWorker,
    getEvents: false,
    // bee-queue only forgets a stored job when an event for it arrives, and no queue here listens: storing
    // them would keep every job ever enqueued in memory.
    storeJobs: false,
    sendEvents: isWorker,
    activateDelayedJobs: isWorker,
    removeOnSuccess: true,
    removeOnFailure: false,
    stallInterval: config.worker.stallIntervalMs,
    // A worker learns of a delayed job from a pub/sub message, which it misses while its subscriber reconnects;
    // every later delayed job then waits behind the unseen one (only a new head is announced) until this poll,
    // which bee-queue makes every 20 min.
    nearTermWindow: config.worker.stallIntervalMs,
  });

  const queueFor = (name: string, isWorker: boolean): BeeQueue => {
    const key = `${isWorker ? 'w' : 'p'}:${name}`;
    let queue = queues.get(key);
    if (!queue) {
      queue = new BeeQueue(name, settings(isWorker));
      queue.on('error', (error) => log.warn({ task: name, err: error }, 'queue connection error'));
      queues.set(key, queue);
    }
    return queue;
  };

  return {
    /** RD_PREFIX: outbox rows are written for it, and only relays of the same prefix move them. */
    prefix: config.redis.prefix,
    /** The queue a task's jobs are added through: it opens no subscriber connection and takes no jobs. */
    producer(name: string): BeeQueue {
      return queueFor(name, false);
    },
    /** The queue a worker takes a task's jobs from (and recovers stalled and delayed ones on). */
    worker(name: string): BeeQueue {
      return queueFor(name, true);
    },
    /** Stops taking jobs, waits up to `timeoutMs` for running ones, and closes every connection. */
    async close(timeoutMs: number) {
      await Promise.allSettled([...queues.values()].map((queue) => queue.close(Math.max(timeoutMs, 1))));
    },
  };
}

export type Queues = ReturnType<typeof createQueues>;

/**
 * Builds `enqueue`. A task reference carries its own name; a full definition is named by `tasks`.
 * Saving is bounded by `timeoutMs` so a request never waits on an unreachable Redis: it gets a 503.
 * A plain function that returns the save's own promise chain (errors thrown before it become rejections, as
 * from an async function): each promise an async wrapper adds is paid on every enqueue.
 */
export function createEnqueue(queues: Queues, options: { timeoutMs: number; tasks?: NamedTask[] }): Enqueue {
  const names = new Map<unknown, string>(options.tasks?.map((task) => [task.definition, task.name]));
  return (task, payload, enqueueOptions = {}) => {
    try {
      const name = nameOf(task, names);
      // Through the outbox, without Redis: the job commits or rolls back with `tx`, and a relay enqueues it.
      if (enqueueOptions.tx) {
        const { tx, ...jobOptions } = enqueueOptions;
        const policy = jobPolicy(task);
        return addToOutbox(tx, {
          prefix: queues.prefix,
          task: name,
          payload,
          options: { ...jobOptions, policy },
        });
      }
      const envelope: JobEnvelope = { payload, enqueuedAt: isoNow(), requestId: enqueueOptions.requestId };
      if (enqueueOptions.tracked) envelope.tracked = true;
      const job = withPolicy(queues.producer(name).createJob(envelope), jobPolicy(task));
      if (enqueueOptions.jobId) job.setId(enqueueOptions.jobId);
      if (enqueueOptions.delayMs) job.delayUntil(Date.now() + enqueueOptions.delayMs);
      return saveWithin(job, options.timeoutMs, name).then(
        (saved) => ({ id: String(saved.id ?? enqueueOptions.jobId) }),
        (error: unknown) => {
          throw HttpError.unavailable(
            `The job queue is unavailable (${(error as Error).message}). Try again shortly.`,
            2,
          );
        },
      );
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

// Enqueues in the same millisecond share one timestamp string.
let lastMs = 0;
let lastIso = '';

function isoNow(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

function withPolicy(job: BeeQueue.Job<JobEnvelope>, policy: JobPolicy) {
  job.retries(policy.retries);
  if (policy.retries > 0 && policy.backoff.strategy !== 'immediate') {
    job.backoff(policy.backoff.strategy, policy.backoff.delayMs);
  }
  return job;
}

function nameOf(task: TaskHandle<never>, names: Map<unknown, string>): string {
  if (task.kind === 'task-ref') return (task as TaskRef<never>).name;
  const name = names.get(task);
  if (!name) {
    throw new Error('enqueue was given a task definition this process does not know; import it from tasks/');
  }
  return name;
}
