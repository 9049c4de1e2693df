import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { report, useFaultCluster } from './support/cluster.ts';
import {
  finishedAmong,
  inLedger,
  jobIdsRun,
  type Posted,
  pollUntil,
  postJob,
  runsEndedSince,
  sleep,
  steadyLoad,
} from './support/traffic.ts';

const KILLS = 10;
const ENQUEUE_TIMEOUT_MS = 1_000;

const setup = useFaultCluster({ env: { ENQUEUE_TIMEOUT_MS: String(ENQUEUE_TIMEOUT_MS) } });
let killer: Redis;

// Registered after useFaultCluster's hooks, so the killer connects once Redis runs and disconnects before the
// cluster and the stores stop.
beforeAll(() => {
  killer = new Redis({ host: setup.redis.host, port: setup.redis.port, maxRetriesPerRequest: 1 });
});

afterAll(() => {
  killer?.disconnect();
});

/** Drops every client connection but the killer's own: commands, blocking waits and subscriptions. */
async function killClients(): Promise<number> {
  const normal = await killer.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
  const pubsub = await killer.call('CLIENT', 'KILL', 'TYPE', 'pubsub', 'SKIPME', 'yes');
  return Number(normal) + Number(pubsub);
}

describe('fault: Redis client connections killed 10 times while jobs flow', () => {
  it('resumes after every kill, and loses no job', async () => {
    const { cluster } = setup;
    const started = Date.now();
    const workers = [await cluster.startWorker(), await cluster.startWorker()];
    // Half straight to Redis (which may refuse one with 503 while the producer reconnects), half through the
    // outbox (which never refuses, and whose relay must get through the kills).
    const load = steadyLoad(cluster.base, {
      perSecond: 30,
      timeoutMs: ENQUEUE_TIMEOUT_MS + 5_000,
      body: (i) => ({ key: `job-${i}`, ms: 50 }),
      path: (i) => (i % 2 === 0 ? '/jobs' : '/jobs/tx'),
    });
    await sleep(1_000);

    let connectionsKilled = 0;
    let lastKillAt = 0;
    const markers: string[] = [];
    const resumeSeconds: number[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const killedAt = Date.now();
      lastKillAt = killedAt;
      connectionsKilled += await killClients();
      // A job enqueued after the kill must run: the workers took up their queues again. It is delayed, so
      // that its wake-up message goes out while the workers' subscribers may still be reconnecting.
      const marker = await pollUntil(
        async () => postJob(cluster.base, { key: `marker-${kill}`, delayMs: 300 }, 5_000),
        (answer) => answer.status === 202,
        10_000,
      );
      if (marker.status === 202) markers.push(marker.key);
      const finished = await pollUntil(
        () => finishedAmong(cluster.sql, [marker.key]),
        (n) => n === 1,
        15_000,
      );
      resumeSeconds.push(finished === 1 ? (Date.now() - killedAt) / 1000 : Number.POSITIVE_INFINITY);
      await sleep(killedAt + 1_000 - Date.now());
    }
    // Long enough after the last kill for both workers to show that they still take jobs.
    await sleep(3_000);
    const answers: Posted[] = await load.stop();

    const accepted = [
      ...markers,
      ...answers.filter((answer) => answer.status === 202).map((answer) => answer.key),
    ];
    const refused = answers.filter((answer) => answer.status === 503).map((answer) => answer.key);
    const finished = await pollUntil(
      () => finishedAmong(cluster.sql, accepted),
      (n) => n === accepted.length,
      30_000,
    );
    const runsAfterLastKill = workers.map((worker) => runsEndedSince(worker, lastKillAt + 1_000));
    const ran = jobIdsRun(workers);
    const refusedRan = refused.filter((key) => ran.has(key));
    const refusedInLedger = await inLedger(cluster.sql, refused);
    const ledger = await cluster.ledger();
    report('client-kill', {
      kills: KILLS,
      connectionsKilled,
      jobs: accepted.length,
      refused: refused.length,
      other: answers.length + markers.length - accepted.length - refused.length,
      lost: accepted.length - finished,
      refusedRan: refusedRan.length,
      duplicatedRuns: ledger.duplicatedRuns,
      duplicatedEffects: ledger.duplicatedEffects,
      maxSecondsToResume: Math.max(...resumeSeconds),
      runsAfterLastKill,
      workerRestarts: workers.reduce((sum, worker) => sum + worker.starts - 1, 0),
      seconds: (Date.now() - started) / 1000,
    });
    expect(resumeSeconds.every((seconds) => Number.isFinite(seconds))).toBe(true);
    expect(runsAfterLastKill.every((runs) => runs > 0)).toBe(true);
    expect(answers.length + markers.length - accepted.length - refused.length).toBe(0);
    expect(finished).toBe(accepted.length);
    expect(refusedRan).toEqual([]);
    expect(refusedInLedger).toEqual([]);
    expect(ledger.duplicatedEffects).toBe(0);
  });
});
