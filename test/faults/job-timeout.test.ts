import { describe, expect, it } from 'vitest';
import { report, useFaultCluster } from './support/cluster.ts';
import { postAll, waitFor } from './support/traffic.ts';

const setup = useFaultCluster();

describe('fault: 20 jobs overrun their 500 ms timeout on the first try, on 2 workers', () => {
  it('fires each signal, retries each job, and applies each effect exactly once', async () => {
    const { cluster } = setup;
    const started = Date.now();
    const workers = [await cluster.startWorker(), await cluster.startWorker()];
    const jobs = Array.from({ length: 20 }, (_, i) => ({ key: `slow-${i}`, task: 'slow-first-try' }));
    const accepted = await postAll(cluster.base, jobs);
    expect(accepted.every((answer) => answer.status === 202)).toBe(true);

    const ledger = await waitFor(
      'every slow job finishing',
      async () => {
        const [row] = await cluster.sql<
          { jobs: number; finished: number; maxEffects: number; maxRuns: number }[]
        >`
          select count(*)::int as jobs,
                 count(finished_at)::int as finished,
                 coalesce(max(effects), 0)::int as "maxEffects",
                 coalesce(max(runs), 0)::int as "maxRuns"
          from ledger`;
        return row && row.finished === jobs.length ? row : undefined;
      },
      60_000,
    );
    // Read again once settled: no run still going could yet add a second effect or its aborted mark.
    const [after] = await cluster.sql<{ maxEffects: number; aborted: number }[]>`
      select coalesce(max(effects), 0)::int as "maxEffects", count(*) filter (where aborted)::int as aborted
      from ledger`;
    const timeouts = workers
      .flatMap((worker) => worker.generations.flatMap((child) => child.logs()))
      .filter((line) => line.msg === 'job' && /timed out after/.test(JSON.stringify(line.err ?? '')));

    report('job-timeout', {
      jobs: ledger.jobs,
      aborted: after?.aborted,
      timeoutsLogged: timeouts.length,
      effectsPerJobMax: Math.max(ledger.maxEffects, after?.maxEffects ?? 0),
      runsPerJobMax: ledger.maxRuns,
      finished: ledger.finished,
      lost: ledger.jobs - ledger.finished,
      seconds: (Date.now() - started) / 1000,
    });
    expect(ledger.jobs).toBe(jobs.length);
    expect(after?.aborted).toBe(jobs.length);
    expect(timeouts.length).toBeGreaterThanOrEqual(jobs.length);
    expect(ledger.maxEffects).toBe(1);
    expect(after?.maxEffects).toBe(1);
    expect(ledger.finished).toBe(jobs.length);
  });
});
