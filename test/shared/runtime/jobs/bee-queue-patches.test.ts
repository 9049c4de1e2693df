import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { Sql } from 'postgres';
import * as v from 'valibot';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '#runtime/config.ts';
import { saveNow } from '#runtime/jobs/bee-queue-patches.ts';
import { createEnqueue, createQueues, type NamedTask, type Queues } from '#runtime/jobs/queue.ts';
import { defineTask, type Enqueue, taskRef } from '#runtime/jobs/task.ts';
import { createRedis } from '#runtime/redis.ts';
import { captureLog, startTestWorker, type TestWorker } from '../../../support/app.ts';
import { envOnRedis, testConfig, testSql } from '../../../support/context.ts';
import { startRedis, type ThrowawayRedis } from '../../../support/throwaway-servers.ts';

// SCRIPT FLUSH and restarts hit every client of a server, so this file owns its Redis.
let server: ThrowawayRedis;
let env: Record<string, string>;
let config: Config;
let redis: Redis;
let sql: Sql;
let queues: Queues;
let enqueue: Enqueue;
const workers: TestWorker[] = [];

const Probe = v.object({ key: v.string() });
const probe: NamedTask = {
  name: 'probe',
  definition: defineTask({
    payload: Probe,
    retries: 0,
    run: async ({ payload, redis: client }) => {
      await client.rpush(`probe:${payload.key}`, 'ran');
    },
  }),
};
const note = taskRef<{ n: number }>('note', {
  retries: 0,
  backoff: { strategy: 'immediate', delayMs: 0 },
  timeoutMs: 1_000,
});
const poll = { timeout: 10_000, interval: 50 };
// The loader bee-queue requires, holding the SHA of each script it calls.
const lua = createRequire(import.meta.url)('bee-queue/lib/lua/index.js') as { shas: Record<string, string> };

beforeAll(async () => {
  server = await startRedis();
  env = envOnRedis(server, { RD_PREFIX: `bp${randomUUID().slice(0, 8)}`, WORKER_STALL_INTERVAL_MS: '500' });
  config = testConfig(env);
  redis = createRedis(config.redis);
  sql = testSql();
  queues = createQueues(config, captureLog().log);
  enqueue = createEnqueue(queues, { timeoutMs: 2_000, tasks: [probe] });
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.close(1_000)));
});
afterAll(async () => {
  await queues?.close(1_000);
  await Promise.allSettled([redis?.quit(), sql?.end({ timeout: 5 })]);
  await server?.stop();
});

async function worker() {
  const started = await startTestWorker([probe], { env });
  workers.push(started);
  return started;
}

const scriptErrors = (logs: Record<string, unknown>[]) =>
  logs.filter((line) => /NOSCRIPT/.test(JSON.stringify(line.err ?? '')));

describe('saveNow', () => {
  it('saves as Job#save does, on a queue that has connected and on one that has not yet', async () => {
    const fresh = createQueues(config, captureLog().log);
    try {
      const unready = await saveNow(fresh.producer('note').createJob({ payload: { n: 6 } }));
      const queue = queues.producer('note');
      await queue.ready();
      const ready = await saveNow(queue.createJob({ payload: { n: 7 } }).setId(`given-${randomUUID()}`));
      expect(await redis.lrange('q:note:waiting', 0, -1)).toEqual(
        expect.arrayContaining([String(unready.id), String(ready.id)]),
      );
      expect((await queue.getJob(String(ready.id))).data).toEqual({ payload: { n: 7 } });
      // A second job with a given id is dropped, as save() drops it.
      const again = await saveNow(queue.createJob({ payload: { n: 8 } }).setId(String(ready.id)));
      expect(again.id).toBeNull();
    } finally {
      await fresh.close(1_000);
    }
  });

  it('rejects on a closed queue, as save() does', async () => {
    const closing = createQueues(config, captureLog().log);
    const queue = closing.producer('note');
    await queue.ready();
    await closing.close(1_000);
    await expect(saveNow(queue.createJob({ payload: { n: 9 } }))).rejects.toThrow();
  });
});

describe('bee-queue after its Lua scripts are gone from Redis', () => {
  it('reloads them after SCRIPT FLUSH, so the next enqueue succeeds', async () => {
    const first = await enqueue(note, { n: 1 });
    await redis.script('FLUSH');
    const second = await enqueue(note, { n: 2 });
    expect(await redis.lrange('q:note:waiting', 0, -1)).toEqual(
      expect.arrayContaining([first.id, second.id]),
    );
    const job = await queues.producer('note').getJob(second.id);
    expect(job.data.payload).toEqual({ n: 2 });
  });

  it('saves every job of a saveAll batch after SCRIPT FLUSH', async () => {
    const queue = queues.producer('note');
    const jobs = [queue.createJob({ payload: { n: 3 } }), queue.createJob({ payload: { n: 4 } })];
    await redis.script('FLUSH');
    const errors = await queue.saveAll(jobs);
    expect([...errors.values()]).toEqual([]);
    const ids = jobs.map((job) => String(job.id));
    expect(ids.every((id) => /^\d+$/.test(id))).toBe(true);
    expect(await redis.lrange('q:note:waiting', 0, -1)).toEqual(expect.arrayContaining(ids));
  });

  it('keeps a worker processing after SCRIPT FLUSH: delayed jobs are raised, stalled checks go on', async () => {
    const w = await worker();
    const key = randomUUID();
    await enqueue(probe.definition, { key }, { delayMs: 1_000 });
    // Only the worker calls scripts from here on: raising the delayed job and its stalled-job checks.
    await redis.script('FLUSH');
    await expect.poll(() => redis.lrange(`probe:${key}`, 0, -1), poll).toEqual(['ran']);
    await redis.script('FLUSH');
    const stalledCheck = String(lua.shas.checkStalledJobs);
    await expect
      .poll(async () => ((await redis.script('EXISTS', stalledCheck)) as number[])[0], poll)
      .toBe(1);
    expect(scriptErrors(w.logs)).toEqual([]);
  });

  it('enqueues again within 5 s of a restarted Redis coming back, and the worker runs the job', async () => {
    const w = await worker();
    await enqueue(note, { n: 5 });
    await server.restart();
    const back = Date.now();
    let saved: { id: string } | undefined;
    while (!saved && Date.now() - back < 5_000) {
      saved = await enqueue(probe.definition, { key: 'after-restart' }).catch(async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return undefined;
      });
    }
    expect(saved, 'no enqueue succeeded within 5 s of Redis coming back').toBeDefined();
    await expect.poll(() => redis.lrange('probe:after-restart', 0, -1), poll).toEqual(['ran']);
    expect(scriptErrors(w.logs)).toEqual([]);
  });
});
