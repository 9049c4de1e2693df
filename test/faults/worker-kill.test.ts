import { describe, expect, it } from 'vitest';
import { report, useFaultCluster } from './support/cluster.ts';
import { postAll, sleep, waitFor } from './support/traffic.ts';

const setup = useFaultCluster();

describe('fault: kill -9 a worker 5 times while 2,000 jobs run on 2 workers', () => {
  it('loses no job, duplicates no effect, and finishes every job', async () => {
    const { cluster } = setup;
    const started = Date.now();
    const [first, second] = [await cluster.startWorker(), await cluster.startWorker()];
    const jobs = Array.from({ length: 2_000 }, (_, i) => ({ key: `job-${i}`, ms: 40 }));
    const accepted = (await postAll(cluster.base, jobs)).filter((answer) => answer.status === 202);
    expect(accepted).toHaveLength(2_000);

    let kills = 0;
    while (kills < 5) {
      await sleep(700);
      const victim = (kills % 2 === 0 ? first : second)?.current;
      victim?.child.kill('SIGKILL');
      await victim?.exited;
      kills += 1;
    }
    const figures = await waitFor(
      'every job finishing',
      async () => {
        const ledger = await cluster.ledger();
        return ledger.finished === ledger.enqueued ? ledger : undefined;
      },
      120_000,
    );
    report('worker-kill', {
      jobs: accepted.length,
      kills,
      restarts: (first?.starts ?? 0) + (second?.starts ?? 0) - 2,
      lost: figures.enqueued - figures.finished,
      duplicatedRuns: figures.duplicatedRuns,
      duplicatedEffects: figures.duplicatedEffects,
      seconds: (Date.now() - started) / 1000,
    });
    expect(figures.enqueued).toBe(2_000);
    expect(figures.finished).toBe(2_000);
    expect(figures.duplicatedEffects).toBe(0);
  });
});
