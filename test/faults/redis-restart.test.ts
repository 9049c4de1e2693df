import { describe, expect, it } from 'vitest';
import { report, useFaultCluster } from './support/cluster.ts';
import {
  finishedAmong,
  inLedger,
  jobIdsRun,
  pollUntil,
  postAll,
  runsEndedSince,
  sleep,
  steadyLoad,
} from './support/traffic.ts';

const ENQUEUE_TIMEOUT_MS = 1_000;
const DOWN_MS = 2_000;

// Persisting, as in production (append-only, synced): a job Redis acknowledged survives the restart.
const setup = useFaultCluster({
  persistRedis: true,
  env: { ENQUEUE_TIMEOUT_MS: String(ENQUEUE_TIMEOUT_MS) },
});

async function unfinished(): Promise<number> {
  const [row] = await setup.cluster.sql<
    { n: number }[]
  >`select count(*)::int as n from ledger where finished_at is null`;
  return row?.n ?? 0;
}

describe('fault: Redis restarts (down 2 s, data kept) under 20 enqueues a second', () => {
  it('enqueues again within 5 s of Redis being back, runs every accepted job, and never a refused one', async () => {
    const { cluster, redis } = setup;
    const started = Date.now();
    const workers = [await cluster.startWorker(), await cluster.startWorker()];
    const load = steadyLoad(cluster.base, {
      perSecond: 20,
      timeoutMs: ENQUEUE_TIMEOUT_MS + 4_000,
      body: (i) => ({ key: `job-${i}`, ms: 100 }),
    });
    await sleep(1_000);
    // A backlog waiting in Redis when it stops: only persistence keeps these jobs.
    const burst = await postAll(
      cluster.base,
      Array.from({ length: 200 }, (_, i) => ({ key: `burst-${i}`, ms: 200 })),
      { timeoutMs: ENQUEUE_TIMEOUT_MS + 4_000 },
    );
    const backlogAtStop = await unfinished();
    const stoppedAt = Date.now();
    await redis.restart(() => sleep(DOWN_MS));
    const backAt = Date.now();
    // The load goes on until a job was accepted after the restart (or 10 s passed), then 2 s more.
    await pollUntil(
      async () => load.answered().some((answer) => answer.status === 202 && answer.sentAt >= backAt),
      (acceptedAgain) => acceptedAgain,
      10_000,
    );
    await sleep(2_000);
    const answers = [...burst, ...(await load.stop())];

    const accepted = answers.filter((answer) => answer.status === 202).map((answer) => answer.key);
    const refused = answers.filter((answer) => answer.status === 503);
    const firstAfterBack = answers
      .filter((answer) => answer.status === 202 && answer.sentAt >= backAt)
      .sort((a, b) => a.answeredAt - b.answeredAt)[0];
    const finished = await pollUntil(
      () => finishedAmong(cluster.sql, accepted),
      (n) => n === accepted.length,
      30_000,
    );
    const refusedKeys = refused.map((answer) => answer.key);
    const refusedInLedger = await inLedger(cluster.sql, refusedKeys);
    const runsAfterBack = workers.map((worker) => runsEndedSince(worker, backAt));
    const ran = jobIdsRun(workers);
    const refusedRan = refusedKeys.filter((key) => ran.has(key));
    const ledger = await cluster.ledger();
    report('redis-restart', {
      requests: answers.length,
      accepted: accepted.length,
      refused: refused.length,
      other: answers.length - accepted.length - refused.length,
      backlogAtStop,
      secondsDown: (backAt - stoppedAt) / 1000,
      secondsToFirstSuccess: firstAfterBack ? (firstAfterBack.answeredAt - backAt) / 1000 : null,
      lost: accepted.length - finished,
      refusedInLedger: refusedInLedger.length,
      refusedRan: refusedRan.length,
      duplicatedRuns: ledger.duplicatedRuns,
      runsAfterBack,
      seconds: (Date.now() - started) / 1000,
    });
    expect(answers.length - accepted.length - refused.length).toBe(0);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((answer) => answer.retryAfter !== null)).toBe(true);
    expect(burst.every((answer) => answer.status === 202)).toBe(true);
    expect(backlogAtStop).toBeGreaterThan(0);
    expect(firstAfterBack).toBeDefined();
    expect(((firstAfterBack?.answeredAt ?? Number.POSITIVE_INFINITY) - backAt) / 1000).toBeLessThan(5);
    expect(finished).toBe(accepted.length);
    expect(refusedInLedger).toEqual([]);
    expect(refusedRan).toEqual([]);
    expect(ledger.duplicatedEffects).toBe(0);
    expect(runsAfterBack.every((runs) => runs > 0)).toBe(true);
  });
});
