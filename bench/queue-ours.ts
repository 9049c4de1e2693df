import * as v from 'valibot';
import { loadConfig } from '#runtime/config.ts';
import { createSql } from '#runtime/db.ts';
import { createWorkerMetrics } from '#runtime/jobs/metrics.ts';
import { createEnqueue, createQueues } from '#runtime/jobs/queue.ts';
import { defineTask } from '#runtime/jobs/task.ts';
import { startWorker } from '#runtime/jobs/worker.ts';
import { createLogger } from '#runtime/log.ts';
import { migrate } from '#runtime/migrations.ts';
import { createRedis } from '#runtime/redis.ts';
import { processingClock, report, runLimited, runSettings } from './jobs.mjs';

// Our side: jobs go in through createEnqueue, as a handler's enqueue does, and are run by startWorker, as
// dist/worker.mjs runs them (payload validation, start counting, timeout, a log line and metrics per job).
// Bundled and run by bench/queue.mjs.
const { jobs, inFlight, concurrency } = runSettings();
const clock = processingClock(jobs);
const noop = defineTask({ payload: v.object({ n: v.number() }), concurrency, run: () => clock.tick() });
const tasks = [{ name: 'noop', definition: noop }];

const config = loadConfig();
const log = createLogger(config.logLevel, { process: 'bench' });
const sql = createSql(config.postgres);
// The worker's outbox relay reads its table.
await migrate(sql, config.migrationsDir ?? 'sql');
const redis = createRedis(config.redis, log);

const queues = createQueues(config, log);
const enqueue = createEnqueue(queues, { timeoutMs: config.enqueueTimeoutMs, tasks });
await queues.get('noop').ready();
const enqueueStarted = performance.now();
await runLimited(jobs, inFlight, (n) => enqueue(noop, { n }));
const enqueuePerSecond = jobs / ((performance.now() - enqueueStarted) / 1000);

const metrics = createWorkerMetrics(['noop']);
const worker = startWorker({ tasks, config, sql, redis, log, metrics });
await clock.done;
await worker.close(5_000);
await Promise.all([queues.close(1_000), sql.end({ timeout: 5 }), redis.quit()]);
await report({ enqueuePerSecond, processPerSecond: clock.rate() });
process.exit(0);
