import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '#runtime/config.ts';
import { HttpError } from '#runtime/errors.ts';
import { createEnqueue, createQueues, type Queues } from '#runtime/jobs/queue.ts';
import { type Enqueue, type JobPolicy, taskRef } from '#runtime/jobs/task.ts';
import { createRedis } from '#runtime/redis.ts';
import { captureLog } from '../../../support/app.ts';
import { testConfigOnRedis } from '../../../support/context.ts';
import { startRedis, type ThrowawayRedis } from '../../../support/throwaway-servers.ts';

// This file stops its Redis, so it owns one.
let server: ThrowawayRedis;
let config: Config;
let redis: Redis;
let queues: Queues;
let enqueue: Enqueue;

const policy: JobPolicy = { retries: 0, backoff: { strategy: 'immediate', delayMs: 0 }, timeoutMs: 1_000 };
const warm = taskRef<{ n: number }>('warm', policy);
const cold = taskRef<{ n: number }>('cold', policy);
const ENQUEUE_TIMEOUT_MS = 500;

beforeAll(async () => {
  server = await startRedis();
  config = testConfigOnRedis(server, {
    RD_PREFIX: `qo${randomUUID().slice(0, 8)}`,
    ENQUEUE_TIMEOUT_MS: String(ENQUEUE_TIMEOUT_MS),
  });
  redis = createRedis(config.redis);
  queues = createQueues(config, captureLog().log);
  enqueue = createEnqueue(queues, { timeoutMs: config.enqueueTimeoutMs });
});
afterAll(async () => {
  await queues?.close(1_000);
  await redis?.quit().catch(() => {});
  await server?.stop();
});

/** What an enqueue settled to, or 'still pending' if it had not settled by the deadline plus a margin. */
function settled(saving: Promise<unknown>) {
  return Promise.race([
    saving.then(
      () => 'saved',
      (error: unknown) => error,
    ),
    new Promise((resolve) => setTimeout(resolve, ENQUEUE_TIMEOUT_MS + 1_500, 'still pending')),
  ]);
}

/** Enqueues until one succeeds, for up to 10 s. */
async function enqueueOnceBack(task: typeof warm, n: number) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await enqueue(task, { n });
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('enqueue while Redis is down', () => {
  it('answers 503 with retry-after by the deadline, and the refused job never appears once Redis is back', async () => {
    await enqueue(warm, { n: 1 });
    const outcomes: unknown[] = [];
    await server.restart(async () => {
      // A queue that was connected, and one whose first connection finds Redis down.
      outcomes.push(await settled(enqueue(warm, { n: 2 }, { jobId: 'refused-warm' })));
      outcomes.push(await settled(enqueue(cold, { n: 3 }, { jobId: 'refused-cold' })));
    });
    for (const outcome of outcomes) {
      expect(outcome).toBeInstanceOf(HttpError);
      expect((outcome as HttpError).status).toBe(503);
      expect((outcome as HttpError).headers['retry-after']).toMatch(/^\d+$/);
    }

    // A connection sends what it held back, or a save it deferred, before anything new: once a new job
    // is in on each queue, a refused one would be too.
    const back = { warm: await enqueueOnceBack(warm, 4), cold: await enqueueOnceBack(cold, 5) };
    for (const [task, { id }] of Object.entries(back)) {
      expect(await redis.hkeys(`q:${task}:jobs`)).toEqual([id]);
      expect(await redis.lrange(`q:${task}:waiting`, 0, -1)).toEqual([id]);
    }
  });
});
