import BeeQueue from 'bee-queue';
import type { Logger } from 'pino';
import './bee-queue-patches.ts';
import type { Config } from '../config.ts';
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

/**
 * What a job carries in Redis: the task's payload plus where it came from. When it was enqueued is bee-queue's
 * own `options.timestamp` (milliseconds), which every job has: the envelope does not say it twice.
 */
export type JobEnvelope = { payload: unknown; requestId?: string; tracked?: boolean };

/** A task known by name, as the worker and the tests load them. */
export type NamedTask = { name: string; definition: TaskDefinition };

/**
 * The bee-queue queues of one process, one per task, created on first use. Producer queues open no
 * subscriber connection; worker queues also recover stalled jobs and activate delayed ones.
 */
export function createQueues(config: Pick<Config, 'redis' | 'worker'>, log: Logger) {
  const producers = new Map<string, BeeQueue>();
  const workers = new Map<string, BeeQueue>();
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

  // One map per role, keyed by the task's name: no key is built on the enqueue path.
  const queueFor = (name: string, isWorker: boolean): BeeQueue => {
    const ofRole = isWorker ? workers : producers;
    let queue = ofRole.get(name);
    if (!queue) {
      queue = new BeeQueue(name, settings(isWorker));
      queue.on('error', (error) => log.warn({ task: name, err: error }, 'queue connection error'));
      ofRole.set(name, queue);
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
      const all = [...producers.values(), ...workers.values()];
      await Promise.allSettled(all.map((queue) => queue.close(Math.max(timeoutMs, 1))));
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
  // A definition's name and policy, read once: its policy is plain data that never changes.
  const known = new Map<unknown, Known>(
    options.tasks?.map((task) => [task.definition, { name: task.name, policy: jobPolicy(task.definition) }]),
  );
  return (task, payload, enqueueOptions = {}) => {
    try {
      const { name, policy } = knownAs(task, known);
      // Through the outbox, without Redis: the job commits or rolls back with `tx`, and a relay enqueues it.
      if (enqueueOptions.tx) {
        const { tx, ...jobOptions } = enqueueOptions;
        return addToOutbox(tx, {
          prefix: queues.prefix,
          task: name,
          payload,
          options: { ...jobOptions, policy },
        });
      }
      const envelope: JobEnvelope = { payload, requestId: enqueueOptions.requestId };
      if (enqueueOptions.tracked) envelope.tracked = true;
      const job = withPolicy(queues.producer(name).createJob(envelope), policy);
      if (enqueueOptions.jobId) job.setId(enqueueOptions.jobId);
      if (enqueueOptions.delayMs) job.delayUntil(Date.now() + enqueueOptions.delayMs);
      return saveWithin(job, options.timeoutMs, name);
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

type Known = { name: string; policy: JobPolicy };

function withPolicy(job: BeeQueue.Job<JobEnvelope>, policy: JobPolicy) {
  job.retries(policy.retries);
  if (policy.retries > 0 && policy.backoff.strategy !== 'immediate') {
    job.backoff(policy.backoff.strategy, policy.backoff.delayMs);
  }
  return job;
}

function knownAs(task: TaskHandle<never>, known: Map<unknown, Known>): Known {
  // A reference carries its name and policy itself.
  if (task.kind === 'task-ref') return task as TaskRef<never>;
  const found = known.get(task);
  if (!found) {
    throw new Error('enqueue was given a task definition this process does not know; import it from tasks/');
  }
  return found;
}
