import BeeQueue from 'bee-queue';
import { phaseClocks, report, runLimited, runSettings } from './jobs.mjs';

// The baseline: bee-queue as its README shows it, with the few settings that change what each job costs in
// Redis set as our queues set them (shared/runtime/jobs/queue.ts): no stored jobs, no job events but the worker's, and
// finished jobs removed. Run by bench/queue-section.mjs.
const { jobs, inFlight, concurrency, latencyRate, latencySeconds } = runSettings();
const clocks = phaseClocks(jobs, latencyRate * latencySeconds);
const env = process.env;
const settings = (/** @type {boolean} */ isWorker) => ({
  prefix: `${env.RD_PREFIX}:q`,
  redis: { host: env.RD_HOST, port: Number(env.RD_PORT), password: env.RD_PASSWORD || undefined },
  isWorker,
  getEvents: false,
  storeJobs: false,
  sendEvents: isWorker,
  removeOnSuccess: true,
});

const producer = new BeeQueue('noop', settings(false));
await producer.ready();
const enqueueStarted = performance.now();
await runLimited(jobs, inFlight, (n) => producer.createJob({ n }).save());
const enqueuePerSecond = jobs / ((performance.now() - enqueueStarted) / 1000);

const worker = new BeeQueue('noop', settings(true));
worker.process(concurrency, async (job) => {
  clocks.started(job.data.n);
});
await clocks.drainDone;
await clocks.enqueueTimed(latencyRate, (n) => producer.createJob({ n }).save());
await clocks.latencyDone;
await Promise.all([producer.close(), worker.close(5_000)]);
const latency = clocks.latency();
await report({
  enqueuePerSecond,
  drainPerSecond: clocks.drainRate(),
  latencyP50Ms: latency.p50Ms,
  latencyP99Ms: latency.p99Ms,
});
process.exit(0);
