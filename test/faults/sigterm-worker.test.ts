import { describe, expect, it } from 'vitest';
import { report, useFaultCluster } from './support/cluster.ts';
import { finishedAmong, pollUntil, postAll, sleep } from './support/traffic.ts';

const SHUTDOWN_TIMEOUT_MS = 5_000;
// Past the shutdown timeout, so these are cut off and must run again elsewhere.
const LONG_JOB_MS = SHUTDOWN_TIMEOUT_MS + 2_000;
const SHORT_JOB_MS = 300;

const setup = useFaultCluster({ env: { SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) } });

async function inFlight(): Promise<number> {
  const [row] = await setup.cluster.sql<{ n: number }[]>`
    select count(*)::int as n from ledger where runs > 0 and finished_at is null`;
  return row?.n ?? 0;
}

describe('fault: SIGTERM a worker while jobs of 300 ms run on 2 workers', () => {
  it('exits 0 within SHUTDOWN_TIMEOUT_MS, and every job finishes elsewhere', async () => {
    const { cluster } = setup;
    const started = Date.now();
    // The victim starts alone and takes two jobs longer than the shutdown timeout, so that SIGTERM meets
    // both kinds: short jobs it should finish, long ones it must hand back.
    const victim = await cluster.startWorker();
    const long = await postAll(
      cluster.base,
      ['long-0', 'long-1'].map((key) => ({ key, ms: LONG_JOB_MS })),
      { timeoutMs: 5_000 },
    );
    expect(long.map((answer) => answer.status)).toEqual([202, 202]);
    expect(await pollUntil(inFlight, (n) => n === 2, 10_000)).toBe(2);
    const other = await cluster.startWorker();

    const shortKeys = Array.from({ length: 300 }, (_, i) => `short-${i}`);
    const posting = postAll(
      cluster.base,
      shortKeys.map((key) => ({ key, ms: SHORT_JOB_MS })),
      { timeoutMs: 5_000, lanes: 8 },
    );
    await sleep(1_500);
    const target = victim.current;
    const atSigterm = await inFlight();
    const sigtermAt = Date.now();
    target.child.kill('SIGTERM');
    const exit = await Promise.race([
      target.exited,
      sleep(SHUTDOWN_TIMEOUT_MS + 10_000).then(() => ({ code: null, signal: null })),
    ]);
    const secondsToExit = (Date.now() - sigtermAt) / 1000;
    const answers = await posting;
    const accepted = [...long, ...answers].filter((answer) => answer.status === 202).map((a) => a.key);

    const finished = await pollUntil(
      () => finishedAmong(cluster.sql, accepted),
      (n) => n === accepted.length,
      30_000,
    );
    const ledger = await cluster.ledger();
    const victimLogs = target.logs();
    const afterSigterm = victimLogs.slice(victimLogs.findIndex((line) => line.msg === 'shutting down'));
    const interrupted = afterSigterm.filter((line) => line.msg === 'job' && line.outcome === 'interrupted');
    // Short jobs the victim was running at SIGTERM and finished before it exited: each should have run once.
    const finishedThere = afterSigterm
      .filter((line) => line.msg === 'job' && line.outcome === 'succeeded')
      .map((line) => String(line.jobId));
    const rerunOfFinished = await cluster.sql<{ key: string }[]>`
      select key from ledger where key = any(${finishedThere}) and runs > 1`;
    report('sigterm-worker', {
      exitCode: exit.code,
      secondsToExit,
      inFlightAtSigterm: atSigterm,
      finishedBeforeExit: finishedThere.length,
      interrupted: interrupted.length,
      jobs: accepted.length,
      lost: accepted.length - finished,
      duplicatedRuns: ledger.duplicatedRuns,
      duplicatedEffects: ledger.duplicatedEffects,
      victimRestarts: victim.starts - 1,
      otherRestarts: other.starts - 1,
      seconds: (Date.now() - started) / 1000,
    });
    expect(exit.code).toBe(0);
    expect(secondsToExit).toBeLessThan(SHUTDOWN_TIMEOUT_MS / 1000 + 3);
    expect(target.logs().some((line) => line.msg === 'shutdown complete')).toBe(true);
    expect(accepted).toHaveLength(302);
    expect(finished).toBe(accepted.length);
    expect(ledger.duplicatedEffects).toBe(0);
    // The long jobs were cut off and handed back; the short ones in flight finished where they were, once.
    expect(interrupted.map((line) => line.jobId).sort()).toEqual(['long-0', 'long-1']);
    expect(finishedThere.length).toBeGreaterThan(0);
    expect(rerunOfFinished).toEqual([]);
  });
});
