import { describe, expect, it } from 'vitest';
import { report, useFaultCluster } from './support/cluster.ts';
import { type Posted, postAll, sleep, waitFor } from './support/traffic.ts';

const setup = useFaultCluster();

async function outboxRows(): Promise<number> {
  const [row] = await setup.cluster.sql<{ n: number }[]>`select count(*)::int as n from outbox`;
  return row?.n ?? 0;
}

describe('fault: Redis is down while POST /jobs/tx writes and enqueues through the outbox, on 2 workers', () => {
  it('accepts every write, runs the job of each committed one once Redis is back, and none of a rolled-back one', async () => {
    const { cluster, redis } = setup;
    const started = Date.now();
    const workers = [await cluster.startWorker(), await cluster.startWorker()];
    // Interleaved: 40 writes that commit, and 10 that fail after their enqueue (a duplicate key, 409).
    const bodies = Array.from({ length: 50 }, (_, i) =>
      i % 5 === 4 ? { key: `rolled-${i}`, failAfterEnqueue: true } : { key: `tx-${i}` },
    );
    const committedKeys = bodies.filter((body) => !('failAfterEnqueue' in body)).map((body) => body.key);
    const rolledBackKeys = new Set(
      bodies.filter((body) => 'failAfterEnqueue' in body).map((body) => body.key),
    );

    let outcomes: Posted[] = [];
    let waitingWhileDown = 0;
    await redis.restart(async () => {
      outcomes = await postAll(cluster.base, bodies, { path: '/jobs/tx', lanes: 8 });
      // The relays keep trying; give them time to show that nothing leaves while Redis is away.
      await sleep(1_000);
      waitingWhileDown = await outboxRows();
    });
    const committed = bodies.filter((_, i) => outcomes[i]?.status === 202).map((body) => body.key);
    const refused = outcomes.filter((outcome) => outcome.status === 409).length;

    const ledger = await waitFor(
      'every committed job running once Redis is back',
      async () => {
        const figures = await cluster.ledger();
        return figures.finished === figures.enqueued && (await outboxRows()) === 0 ? figures : undefined;
      },
      45_000,
    ).catch(async (error: Error) => {
      report('outbox', {
        committed: committed.length,
        refused,
        ran: (await cluster.ledger()).finished,
        error: error.message,
      });
      throw error;
    });
    // A relay finishes its pass before it deletes, so let any straggler run show up before looking for one.
    await sleep(500);
    const ranIds = new Set(
      workers
        .flatMap((worker) => worker.generations.flatMap((child) => child.logs()))
        .filter((line) => line.msg === 'job')
        .map((line) => String(line.jobId)),
    );
    const ranRolledBack = [...ranIds].filter((id) => rolledBackKeys.has(id));
    const [ghosts] = await cluster.sql<{ n: number }[]>`
      select count(*)::int as n from ledger where key like 'rolled-%'`;

    report('outbox', {
      committed: committed.length,
      refused,
      waitingWhileDown,
      ran: ledger.finished,
      ranRolledBack: ranRolledBack.length,
      lost: committed.length - ledger.finished,
      duplicatedEffects: ledger.duplicatedEffects,
      seconds: (Date.now() - started) / 1000,
    });
    expect(committed).toEqual(committedKeys);
    expect(refused).toBe(rolledBackKeys.size);
    expect(waitingWhileDown).toBe(committedKeys.length);
    expect(ledger.enqueued).toBe(committedKeys.length);
    expect(ledger.finished).toBe(committedKeys.length);
    expect(committedKeys.every((key) => ranIds.has(key))).toBe(true);
    expect(ranRolledBack).toEqual([]);
    expect(ghosts?.n).toBe(0);
    expect(ledger.duplicatedEffects).toBe(0);
  });
});
