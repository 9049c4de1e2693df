// The rehearsal's figures against their targets: printed as a table and as one JSON line, and judged.
import { tickRuns, ticksBetween } from './tally.mjs';

const CRON_TASK = 'purge-expired-refresh-tokens';
// The schedule deploy/replicas/docker-compose.replicas.yml gives it in TASK_SCHEDULES (*/10 * * * * *).
const TICK_MS = 10_000;

/** Prints the figures and returns `{ passed, missed }`, `missed` naming each target that was not met. */
export function summarize({
  client,
  migrated,
  restarts,
  mailsExpected,
  exportsAccepted,
  worker,
  jobs,
  mails,
  stored,
  window,
}) {
  const exportsSucceeded = exportsAccepted.filter((id) => jobs.get(id)?.status === 'succeeded');
  const exportsRerun = exportsAccepted.filter((id) => (jobs.get(id)?.attempts ?? 0) > 1);
  const exportsTwice = [...stored].filter(([, count]) => count > 1).map(([id]) => id);
  const mailsLost = mailsExpected.filter((to) => !mails.has(to));
  const mailsTwice = [...mails].filter(([, count]) => count > 1).map(([to]) => to);

  const ticks = tickRuns(worker, CRON_TASK);
  const expectedTicks = ticksBetween(window.from, window.to, TICK_MS);
  const ticksMissed = expectedTicks.filter((tick) => !ticks.get(tick)?.succeeded);
  const ticksTwice = [...ticks].filter(([, t]) => t.succeeded > 1 || t.enqueued > 1).map(([tick]) => tick);
  const runs = expectedTicks.map((tick) => ticks.get(tick)?.runs ?? 0);

  const { expected, ledger, applied, migrateExits, problems } = migrated;
  const ledgerWrong = expected.length !== ledger.length || expected.some((name) => !ledger.includes(name));
  const appliedWrong = ledger.filter((name) => applied.get(name) !== 1);
  const extraApplied = [...applied.keys()].filter((name) => !ledger.includes(name));
  const migrateFailed = migrateExits.filter((line) => !line.endsWith(' 0'));

  const rows = [
    ['requests failed', client.counts.failed, 0],
    ['requests total', client.counts.total, '-'],
    ['requests served while draining', drainedCounts(restarts), '-'],
    ['exports accepted (202)', exportsAccepted.length, '-'],
    ['exports succeeded', exportsSucceeded.length, exportsAccepted.length],
    ['exports lost', exportsAccepted.length - exportsSucceeded.length, 0],
    ['exports stored twice', exportsTwice.length, 0],
    ['exports run more than once', exportsRerun.length, '-'],
    ['welcome mails expected (201)', mailsExpected.length, '-'],
    ['welcome mails lost', mailsLost.length, 0],
    ['welcome mails sent twice', mailsTwice.length, 0],
    ['cron ticks in the window', expectedTicks.length, '-'],
    ['cron ticks missed', ticksMissed.length, 0],
    ['cron ticks enqueued or run twice', ticksTwice.length, 0],
    ['cron runs per tick (min-max)', `${Math.min(...runs)}-${Math.max(...runs)}`, '1-1'],
    [
      'migrate replicas (exit 0)',
      `${migrateExits.length - migrateFailed.length}/${migrateExits.length}`,
      '3/3',
    ],
    ['migrations in the ledger', ledger.length, expected.length],
    ['migrations not applied exactly once', appliedWrong.length + extraApplied.length, 0],
    ['migration warnings or errors in logs', problems.length, 0],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(`\n${'figure'.padEnd(width)}  ${'value'.padStart(9)}  target`);
  for (const [name, value, target] of rows)
    console.log(`${name.padEnd(width)}  ${String(value).padStart(9)}  ${target}`);
  console.log(`restarts: ${restarts.map((r) => `${r.name} ${r.seconds.toFixed(1)} s`).join(', ')}\n`);

  const missed = [
    client.counts.failed && `${client.counts.failed} of ${client.counts.total} requests failed`,
    exportsSucceeded.length < exportsAccepted.length && `exports lost: ${lostOf(exportsAccepted, jobs)}`,
    exportsTwice.length && `exports stored twice: ${exportsTwice.join(', ')}`,
    mailsLost.length && `welcome mails lost: ${mailsLost.join(', ')}`,
    mailsTwice.length && `welcome mails sent twice: ${mailsTwice.join(', ')}`,
    expectedTicks.length === 0 && 'no cron tick fell in the window',
    ticksMissed.length && `cron ticks missed: ${ticksMissed.join(', ')}`,
    ticksTwice.length && `cron ticks enqueued or run twice: ${ticksTwice.join(', ')}`,
    (migrateFailed.length || migrateExits.length !== 3) && `migrate replicas: ${migrateExits.join(', ')}`,
    ledgerWrong && `the ledger holds ${ledger.join(', ')}; expected ${expected.join(', ')}`,
    appliedWrong.length + extraApplied.length &&
      `migrations not applied exactly once: ${[...appliedWrong, ...extraApplied].map((n) => `${n} ×${applied.get(n) ?? 0}`).join(', ')}`,
    problems.length && `migration problems logged: ${problems.map((p) => p.msg).join('; ')}`,
  ].filter(Boolean);
  console.log(
    JSON.stringify({
      figures: Object.fromEntries(rows.map(([name, value]) => [name, value])),
      restarts: restarts.map(({ name, seconds, servedWhileDraining }) => ({
        name,
        seconds,
        servedWhileDraining,
      })),
    }),
  );
  return { passed: missed.length === 0, missed };
}

/** Per app restart, what its replica answered during SHUTDOWN_DRAIN_MS: "41, 38, 40". */
function drainedCounts(restarts) {
  return restarts
    .filter((r) => r.servedWhileDraining !== undefined)
    .map((r) => r.servedWhileDraining)
    .join(', ');
}

function lostOf(accepted, jobs) {
  return accepted
    .filter((id) => jobs.get(id)?.status !== 'succeeded')
    .map((id) => `${id} (${jobs.get(id)?.status ?? 'no job record'})`)
    .join(', ');
}
