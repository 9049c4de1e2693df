import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { TalliedHistogram } from '#runtime/tallied-histogram.ts';

const bounds = [0.01, 0.1, 1, 10];
const runs: [string, number][] = [
  ['mail', 0.004],
  ['mail', 0.01],
  ['mail', 0.5],
  ['export', 12],
  ['mail', 0.011],
  ['export', 1],
];

/** The same runs through prom-client's own Histogram and through TalliedHistogram, each in a registry of its own. */
function both() {
  const theirs = new Registry();
  const histogram = new Histogram({
    name: 'run_seconds',
    help: 'Runs.',
    labelNames: ['task'] as const,
    buckets: bounds,
    registers: [theirs],
  });
  const ours = new Registry();
  const runTimes = new TalliedHistogram('run_seconds', 'Runs.', bounds, [ours]);
  for (const [task, seconds] of runs) {
    histogram.observe({ task }, seconds);
    runTimes.series({ task }).observe(seconds);
  }
  return { theirs, ours, histogram, runTimes };
}

describe('TalliedHistogram', () => {
  it("is scraped as prom-client's Histogram of the same runs", async () => {
    const { theirs, ours } = both();
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('run_seconds_bucket{le="0.01",task="mail"} 2');
    expect(text).toContain('run_seconds_bucket{le="+Inf",task="export"} 2');
  });

  it("is read as JSON as prom-client's Histogram, and forgets every run when reset", async () => {
    const { theirs, ours } = both();
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
    ours.resetMetrics();
    theirs.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).not.toContain('run_seconds_count');
  });

  it('hands out one series per label set, which keeps counting after a reset', async () => {
    const { theirs, ours, histogram, runTimes } = both();
    const mail = runTimes.series({ task: 'mail' });
    expect(runTimes.series({ task: 'mail' })).toBe(mail);
    ours.resetMetrics();
    theirs.resetMetrics();
    mail.observe(0.2);
    histogram.observe({ task: 'mail' }, 0.2);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });
});
