import { describe, expect, it } from 'vitest';
import { report, useFaultCluster } from './support/cluster.ts';
import { type Outcome, queueReader, send, sleep, waitFor } from './support/traffic.ts';

const setup = useFaultCluster();

/** A request no answer may take longer than: well past the pool's 5 s connect timeout. */
const HUNG_MS = 8_000;

type Sent = { kind: 'db' | 'job'; sentAt: number; answeredAt: number; outcome: Outcome };

/** Lanes of GET /db and POST /jobs, one request at a time each, until `stop` says so. */
function steadyLoad(lanes: number, stop: () => boolean) {
  const sent: Sent[] = [];
  let next = 0;
  const { base } = setup.cluster;
  const lane = async (index: number) => {
    while (!stop()) {
      const kind = (next + index) % 2 === 0 ? 'db' : 'job';
      const sentAt = Date.now();
      const outcome =
        kind === 'db'
          ? await send(`${base}/db`, {}, HUNG_MS)
          : await send(`${base}/jobs`, { method: 'POST', body: { key: `load-${next++}` } }, HUNG_MS);
      sent.push({ kind, sentAt, answeredAt: Date.now(), outcome });
      // Keeps the load steady rather than as fast as refusals come back.
      await sleep(20);
    }
  };
  const done = Promise.all(Array.from({ length: lanes }, (_, index) => lane(index)));
  return { sent, done };
}

const SETTLE_MS = 500;

describe('fault: PostgreSQL restarts under steady GET /db and POST /jobs load', () => {
  it('answers 503 while it is down, never 500 nor a hang, recovers, and no process exits', async () => {
    const { cluster, pg } = setup;
    const started = Date.now();
    const workers = [await cluster.startWorker(), await cluster.startWorker()];
    const http = cluster.http;
    const pids = { http: http?.child.pid, workers: workers.map((worker) => worker.current.child.pid) };

    let stopLoad = false;
    const load = steadyLoad(4, () => stopLoad);
    await sleep(1_500);
    const downAt = Date.now();
    await pg.restart(() => sleep(2_000));
    const backAt = Date.now();

    // Recovered once a request sent after Postgres was back succeeded for each kind.
    const firstSuccess = (kind: Sent['kind']) =>
      load.sent.find(
        (r) => r.kind === kind && r.sentAt >= backAt && (r.outcome === 200 || r.outcome === 202),
      );
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !(firstSuccess('db') && firstSuccess('job'))) await sleep(100);
    const recoveredAt = Math.max(
      firstSuccess('db')?.answeredAt ?? Number.NaN,
      firstSuccess('job')?.answeredAt ?? Number.NaN,
    );
    await sleep(2_000);
    stopLoad = true;
    await load.done;

    const outcomes = load.sent.map((r) => r.outcome);
    const count = (match: (outcome: Outcome) => boolean) => outcomes.filter(match).length;
    const before = load.sent.filter((r) => r.answeredAt < downAt);
    // A pool connection may still meet the restart on its first use just after recovery: that request gets a
    // clean 503 too. From half a second on, every request must succeed.
    const after = load.sent.filter((r) => r.sentAt > recoveredAt + SETTLE_MS);
    const settling = load.sent.filter((r) => r.sentAt > recoveredAt && r.sentAt <= recoveredAt + SETTLE_MS);

    // Jobs the API accepted before the outage: a run that meets it waits for the database without spending
    // an attempt, so every one of them finishes and none fails.
    const queue = queueReader(cluster);
    const jobs = await waitFor(
      'every accepted job finishing or failing',
      async () => {
        const ledger = await cluster.ledger();
        const failed = await queue.failedCount('ledger-effect');
        return ledger.finished + failed === ledger.enqueued ? { ...ledger, failed } : undefined;
      },
      15_000,
    ).finally(() => queue.close());
    const exits = [...(http ? [http] : []), ...workers.flatMap((worker) => worker.generations)].filter(
      (child) => child.child.exitCode !== null || child.child.signalCode !== null,
    );
    const restarts = workers.reduce((sum, worker) => sum + worker.starts - 1, 0);

    report('postgres-restart', {
      requests: outcomes.length,
      ok: count((o) => o === 200 || o === 202),
      '503s': count((o) => o === 503),
      '500s': count((o) => o === 500),
      hung: count((o) => o === 'hung'),
      other: count((o) => ![200, 202, 503, 500, 'hung'].includes(o)),
      secondsDown: (backAt - downAt) / 1000,
      secondsToRecovery: (recoveredAt - backAt) / 1000,
      failedWhileSettling: settling.filter((r) => r.outcome !== 200 && r.outcome !== 202).length,
      failedAfterRecovery: after.filter((r) => r.outcome !== 200 && r.outcome !== 202).length,
      jobsAccepted: jobs.enqueued,
      jobsFinished: jobs.finished,
      jobsFailed: jobs.failed,
      processExits: exits.length,
      workerRestarts: restarts,
      seconds: (Date.now() - started) / 1000,
    });
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((r) => r.outcome === 200 || r.outcome === 202)).toBe(true);
    expect(count((o) => o === 503)).toBeGreaterThan(0);
    expect(outcomes.every((o) => o === 200 || o === 202 || o === 503)).toBe(true);
    expect(Number.isFinite(recoveredAt)).toBe(true);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((r) => r.outcome === 200 || r.outcome === 202)).toBe(true);
    expect(jobs.failed).toBe(0);
    expect(jobs.finished).toBe(jobs.enqueued);
    expect(exits).toHaveLength(0);
    expect(restarts).toBe(0);
    expect(cluster.http?.child.pid).toBe(pids.http);
    expect(workers.map((worker) => worker.current.child.pid)).toEqual(pids.workers);
  });
});
