import { describe, expect, it } from 'vitest';
import poisonTask from '../fixtures/faults/tasks/poison.ts';
import { runBundle } from '../support/processes.ts';
import { report, useFaultCluster } from './support/cluster.ts';
import { type Posted, postAll, queueReader, sleep, waitFor } from './support/traffic.ts';

const setup = useFaultCluster();

/** `worker.mjs failed <task>`, as an operator runs it beside the bundles: the failed jobs it prints. */
async function listFailed(task: string) {
  const command = runBundle(setup.cluster.dir, 'worker.mjs', ['failed', task], setup.cluster.env);
  const { code } = await Promise.race([
    command.exited,
    sleep(15_000).then(() => {
      command.child.kill('SIGKILL');
      return { code: -1 };
    }),
  ]);
  if (code !== 0) throw new Error(`worker.mjs failed ${task} exited ${code}:\n${command.output()}`);
  return command.logs().filter((line) => line.task === task && typeof line.id === 'string');
}

describe('fault: a job whose run exits its worker, among 200 good jobs on 2 supervised workers', () => {
  it('stops the poison job after retries + 1 starts, in the failed set with the reason, and finishes the rest', async () => {
    const { cluster } = setup;
    const started = Date.now();
    const workers = [await cluster.startWorker(), await cluster.startWorker()];
    const good = Array.from({ length: 200 }, (_, i) => ({ key: `good-${i}`, ms: 20 }));
    const poisoned = await postAll(cluster.base, [{ key: 'poison-1', task: 'poison' }]);
    expect(poisoned.map((answer) => answer.status)).toEqual([202]);
    // The good jobs trickle in over the seconds the poison job keeps killing workers.
    const accepted: Posted[] = [];
    for (let batch = 0; batch < 10; batch++) {
      accepted.push(...(await postAll(cluster.base, good.slice(batch * 20, batch * 20 + 20), { lanes: 4 })));
      await sleep(300);
    }
    expect(accepted.every((answer) => answer.status === 202)).toBe(true);

    // Each start of the poison job kills a worker; the supervisor restarts it and stall recovery hands the
    // job out again, until its count of starts says it has had enough.
    const queue = queueReader(cluster);
    try {
      await waitFor(
        'the poison job failing for good',
        async () => ((await queue.isFailed('poison', 'poison-1')) ? true : undefined),
        60_000,
      );
    } finally {
      await queue.close();
    }
    const failed = await listFailed('poison');
    const poisonFailedAt = new Date(String(failed[0]?.failedAt));
    const ledger = await waitFor(
      'every good job finishing',
      async () => {
        const [row] = await cluster.sql<
          { finished: number; finishedMeanwhile: number; duplicatedEffects: number }[]
        >`
          select count(finished_at)::int as finished,
                 count(*) filter (where finished_at < ${poisonFailedAt})::int as "finishedMeanwhile",
                 count(*) filter (where effects > 1)::int as "duplicatedEffects"
          from ledger where task = 'ledger-effect'`;
        return row && row.finished === good.length ? row : undefined;
      },
      60_000,
    );
    const [poison] = await cluster.sql<{ runs: number; finished: boolean }[]>`
      select runs, finished_at is not null as finished from ledger where key = 'poison-1'`;
    const restarts = workers.reduce((sum, worker) => sum + worker.starts - 1, 0);
    const { retries } = poisonTask;

    report('poison-job', {
      poisonStarts: poison?.runs,
      poisonLimit: retries + 1,
      workerRestarts: restarts,
      otherJobs: good.length,
      otherFinished: ledger.finished,
      otherFinishedWhilePoisonRan: ledger.finishedMeanwhile,
      otherLost: good.length - ledger.finished,
      duplicatedEffects: ledger.duplicatedEffects,
      failedReason: failed[0]?.error,
      seconds: (Date.now() - started) / 1000,
    });
    expect(poison).toEqual({ runs: retries + 1, finished: false });
    expect(restarts).toBe(retries + 1);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ task: 'poison', id: 'poison-1' });
    expect(String(failed[0]?.error)).toMatch(/started \d+ times without finishing/);
    expect(ledger.finished).toBe(good.length);
    expect(ledger.duplicatedEffects).toBe(0);
  });
});
