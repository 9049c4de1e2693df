import * as v from 'valibot';
import { composeRuntime } from '#runtime/compose.ts';
import { loadConfig } from '#runtime/config.ts';
import { createWorkerMetrics } from '#runtime/jobs/metrics.ts';
import { defineTask } from '#runtime/jobs/task.ts';
import { startWorker } from '#runtime/jobs/worker.ts';
import { createLogger } from '#runtime/log.ts';
import { migrate } from '#runtime/migrations.ts';
import { phaseClocks, report, runLimited, runSettings } from './jobs.mjs';

// Our side: jobs go in through the composed runtime's enqueue, as a handler's does, and are run by startWorker, as
// dist/worker.mjs runs them (payload validation, start counting, timeout, a log line and metrics per job).
// Bundled and run by bench/queue-section.mjs (with BENCH_OURS, against that checkout's shared/runtime/).
const { jobs, inFlight, concurrency, latencyRate, latencySeconds } = runSettings();
const clocks = phaseClocks(jobs, latencyRate * latencySeconds);
const noop = defineTask({
  payload: v.object({ n: v.number() }),
  concurrency,
  run: ({ payload }) => clocks.started(payload.n),
});
const tasks = [{ name: 'noop', definition: noop }];

const config = loadConfig();
const log = createLogger(config.logLevel, { process: 'bench' });
// Composed as dist/worker.mjs composes its runtime, for an app that adds nothing.
const runtime = await composeRuntime({ app: {}, config, process: 'worker', log, tasks });
// The worker's outbox relay reads its table.
await migrate(runtime.sql, config.migrationsDir ?? 'sql');
const { enqueue } = runtime.services;
await runtime.queues.producer('noop').ready();
const enqueueStarted = performance.now();
await runLimited(jobs, inFlight, (n) => enqueue(noop, { n }));
const enqueuePerSecond = jobs / ((performance.now() - enqueueStarted) / 1000);

const metrics = createWorkerMetrics(['noop']);
const worker = startWorker({ tasks, runtime, metrics });
await clocks.drainDone;
await clocks.enqueueTimed(latencyRate, (n) => enqueue(noop, { n }));
await clocks.latencyDone;
await worker.close(5_000);
await runtime.close();
const latency = clocks.latency();
await report({
  enqueuePerSecond,
  drainPerSecond: clocks.drainRate(),
  latencyP50Ms: latency.p50Ms,
  latencyP99Ms: latency.p99Ms,
});
process.exit(0);
