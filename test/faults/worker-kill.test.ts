import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startPostgres,
  startRedis,
  type ThrowawayPostgres,
  type ThrowawayRedis,
} from '../support/throwaway-servers.ts';
import { type Cluster, report, startCluster, waitFor } from './support/cluster.ts';

let pg: ThrowawayPostgres;
let redis: ThrowawayRedis;
let cluster: Cluster;

beforeAll(async () => {
  [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  cluster = await startCluster({ pg, redis });
  await cluster.startHttp();
});

afterAll(async () => {
  await cluster?.stop();
  await Promise.all([pg?.stop(), redis?.stop()]);
});

/** Posts `count` jobs with `concurrency` requests in flight; returns the keys the API accepted. */
async function enqueueMany(count: number, ms: number, concurrency = 16): Promise<string[]> {
  const accepted: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const key = `job-${next++}`;
      const response = await fetch(`${cluster.base}/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key, ms }),
      });
      if (response.status === 202) accepted.push(key);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return accepted;
}

describe('fault: kill -9 a worker 5 times while 2,000 jobs run on 2 workers', () => {
  it('loses no job, duplicates no effect, and finishes every job', async () => {
    const started = Date.now();
    const [first, second] = [await cluster.startWorker(), await cluster.startWorker()];
    const accepted = await enqueueMany(2_000, 40);
    expect(accepted).toHaveLength(2_000);

    let kills = 0;
    while (kills < 5) {
      await new Promise((resolve) => setTimeout(resolve, 700));
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
