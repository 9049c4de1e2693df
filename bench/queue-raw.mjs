import BeeQueue from 'bee-queue';
import { processingClock, report, runLimited, runSettings } from './jobs.mjs';

// The baseline: bee-queue as its README shows it, with the few settings that change what each job costs in
// Redis set as our queues set them (shared/runtime/jobs/queue.ts): no stored jobs, no job events but the worker's, and
// finished jobs removed. Run by bench/queue.mjs.
const { jobs, inFlight, concurrency } = runSettings();
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

const clock = processingClock(jobs);
const worker = new BeeQueue('noop', settings(true));
worker.process(concurrency, async () => {
  clock.tick();
});
await clock.done;
await Promise.all([producer.close(), worker.close(5_000)]);
await report({ enqueuePerSecond, processPerSecond: clock.rate() });
process.exit(0);
