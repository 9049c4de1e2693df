import { describe, expect, it } from 'vitest';
import { report, useFaultCluster } from './support/cluster.ts';
import { postAll, queueReader, sleep, waitFor } from './support/traffic.ts';

// Redis as Compose runs it: append-only, so what it acknowledged is still there after a restart.
const setup = useFaultCluster({ persistRedis: true });

type Figures = { finished: number; finishedAfterRestart: number; duplicatedEffects: number };

describe('fault: Redis restarts while 20 delayed jobs and 20 jobs in backoff wait, on 2 workers', () => {
  it('activates and finishes every one of them afterwards', async () => {
    const { cluster, redis } = setup;
    const started = Date.now();
    await cluster.startWorker();
    await cluster.startWorker();
    const delayed = Array.from({ length: 20 }, (_, i) => ({ key: `delayed-${i}`, delayMs: 2_000 + i * 100 }));
    const backoff = Array.from({ length: 20 }, (_, i) => ({ key: `backoff-${i}`, task: 'fail-first-try' }));
    const accepted = await postAll(cluster.base, [...backoff, ...delayed]);
    expect(accepted.every((answer) => answer.status === 202)).toBe(true);

    // The backoff jobs are in their backoff once their first try failed: bee-queue then has them delayed.
    const queue = queueReader(cluster);
    let waiting = { delayed: 0, backoff: 0 };
    try {
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline) {
        waiting = {
          delayed: await queue.delayed('ledger-effect'),
          backoff: await queue.delayed('fail-first-try'),
        };
        if (waiting.delayed === delayed.length && waiting.backoff === backoff.length) break;
        await sleep(25);
      }
    } finally {
      await queue.close();
    }
    const restartedAt = new Date();
    await redis.restart(() => sleep(2_500));

    const ledger = await waitFor(
      'every delayed and backed-off job finishing',
      async () => {
        const [row] = await cluster.sql<Figures[]>`
          select count(finished_at)::int as finished,
                 count(*) filter (where finished_at > ${restartedAt})::int as "finishedAfterRestart",
                 count(*) filter (where effects > 1)::int as "duplicatedEffects"
          from ledger`;
        return row && row.finished === accepted.length ? row : undefined;
      },
      45_000,
    ).catch(async (error: Error) => {
      const [row] = await cluster.sql<Figures[]>`
        select count(finished_at)::int as finished, 0 as "finishedAfterRestart", 0 as "duplicatedEffects"
        from ledger`;
      report('delayed-across-restart', { ...waiting, finished: row?.finished, error: error.message });
      throw error;
    });

    report('delayed-across-restart', {
      delayed: waiting.delayed,
      backoff: waiting.backoff,
      activated: ledger.finishedAfterRestart,
      lost: accepted.length - ledger.finished,
      duplicatedEffects: ledger.duplicatedEffects,
      seconds: (Date.now() - started) / 1000,
    });
    expect(waiting).toEqual({ delayed: delayed.length, backoff: backoff.length });
    expect(ledger.finishedAfterRestart).toBe(accepted.length);
    expect(ledger.finished).toBe(accepted.length);
    expect(ledger.duplicatedEffects).toBe(0);
  });
});
