import { describe, expect, it } from 'vitest';
import { report, useFaultCluster } from './support/cluster.ts';
import {
  finishedAmong,
  jobIdsRun,
  type Posted,
  pollUntil,
  postAll,
  runsEndedSince,
  sleep,
  steadyLoad,
} from './support/traffic.ts';

const ENQUEUE_TIMEOUT_MS = 1_000;
// What an answer may take beyond ENQUEUE_TIMEOUT_MS: the ledger insert and delete around the enqueue.
const MARGIN_MS = 1_000;
const DOWN_MS = 15_000;

const setup = useFaultCluster({ env: { ENQUEUE_TIMEOUT_MS: String(ENQUEUE_TIMEOUT_MS) } });

async function readyzStatus(): Promise<number> {
  try {
    const response = await fetch(`${setup.cluster.base}/readyz`, { signal: AbortSignal.timeout(3_000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

describe('fault: Redis down for 15 s while enqueues keep coming', () => {
  it('answers every enqueue 503 with Retry-After within its deadline, then recovers', async () => {
    const { cluster, redis } = setup;
    const started = Date.now();
    const workers = [await cluster.startWorker(), await cluster.startWorker()];
    // Jobs before the outage, so that the producer and the workers have live connections to lose.
    const before = await postAll(
      cluster.base,
      Array.from({ length: 40 }, (_, i) => ({ key: `before-${i}`, ms: 50 })),
      { timeoutMs: 5_000 },
    );
    const beforeKeys = before.filter((answer) => answer.status === 202).map((answer) => answer.key);
    await pollUntil(
      () => finishedAmong(cluster.sql, beforeKeys),
      (n) => n === beforeKeys.length,
      10_000,
    );

    // A client that gets no answer gives up well past the deadline, so a hang shows as status 0.
    const clientTimeoutMs = ENQUEUE_TIMEOUT_MS + MARGIN_MS + 5_000;
    let during: Posted[] = [];
    let readyzDuring = 0;
    const stoppedAt = Date.now();
    await redis.restart(async () => {
      const load = steadyLoad(cluster.base, {
        perSecond: 20,
        timeoutMs: clientTimeoutMs,
        // slow-first-try has had no job yet: its queue connects for the first time during the outage.
        body: (i) => ({ key: `during-${i}`, ms: 50, ...(i % 4 === 3 ? { task: 'slow-first-try' } : {}) }),
      });
      await sleep(DOWN_MS / 2);
      readyzDuring = await readyzStatus();
      // The last requests go out a deadline before Redis returns, so that each of them meets Redis down.
      await sleep(stoppedAt + DOWN_MS - (ENQUEUE_TIMEOUT_MS + MARGIN_MS) - Date.now());
      during = await load.stop();
      await sleep(stoppedAt + DOWN_MS - Date.now());
    });
    const backAt = Date.now();
    const readyAgain = await pollUntil(readyzStatus, (status) => status === 200, 15_000);
    const secondsToReady = (Date.now() - backAt) / 1000;
    // Retried as a client told Retry-After would, until one is accepted.
    let attempt = 0;
    const firstAccepted = await pollUntil(
      async () => postAllOne(`after-${attempt++}`),
      (answer) => answer.status === 202,
      15_000,
    );
    const secondsToRecovery = (firstAccepted.answeredAt - backAt) / 1000;
    const after = await postAll(
      cluster.base,
      Array.from({ length: 40 }, (_, i) => ({
        key: `after-more-${i}`,
        ms: 50,
        ...(i % 4 === 3 ? { task: 'slow-first-try' } : {}),
      })),
      { timeoutMs: 5_000 },
    );
    const afterKeys = [firstAccepted, ...after].filter((a) => a.status === 202).map((a) => a.key);
    const finishedAfter = await pollUntil(
      () => finishedAmong(cluster.sql, afterKeys),
      (n) => n === afterKeys.length,
      20_000,
    );

    const latencies = during.map((answer) => answer.answeredAt - answer.sentAt);
    const runsAfterBack = workers.map((worker) => runsEndedSince(worker, backAt));
    const ran = jobIdsRun(workers);
    const refusedRan = during.filter((answer) => ran.has(answer.key)).length;
    const ledger = await cluster.ledger();
    const statuses = countBy(during.map((answer) => answer.status));
    report('redis-down', {
      secondsDown: (backAt - stoppedAt) / 1000,
      requestsDuringOutage: during.length,
      statuses,
      all503: during.every((answer) => answer.status === 503),
      withRetryAfter: during.filter((answer) => answer.retryAfter !== null).length,
      maxLatencyMs: Math.max(...latencies),
      hung: statuses[0] ?? 0,
      readyzDuring,
      secondsToReady,
      secondsToRecovery,
      jobsAfter: afterKeys.length,
      lostAfter: afterKeys.length - finishedAfter,
      refusedRan,
      duplicatedEffects: ledger.duplicatedEffects,
      runsAfterBack,
      seconds: (Date.now() - started) / 1000,
    });
    expect(during.length).toBeGreaterThan(100);
    expect(statuses).toEqual({ 503: during.length });
    expect(during.every((answer) => answer.retryAfter !== null)).toBe(true);
    expect(Math.max(...latencies)).toBeLessThan(ENQUEUE_TIMEOUT_MS + MARGIN_MS);
    expect(readyzDuring).toBe(503);
    expect(readyAgain).toBe(200);
    expect(firstAccepted.status).toBe(202);
    expect(after.every((answer) => answer.status === 202)).toBe(true);
    expect(finishedAfter).toBe(afterKeys.length);
    expect(refusedRan).toBe(0);
    expect(ledger.duplicatedEffects).toBe(0);
    expect(runsAfterBack.every((runs) => runs > 0)).toBe(true);
  });
});

function postAllOne(key: string): Promise<Posted> {
  return postAll(setup.cluster.base, [{ key, ms: 50 }], { timeoutMs: 5_000 }).then(async ([answer]) => {
    if (answer?.status !== 202) await sleep(250);
    return answer as Posted;
  });
}

function countBy(values: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
