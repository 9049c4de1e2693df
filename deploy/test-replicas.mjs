// `npm run test:replicas`: the replica rehearsal. It runs the compose stack with 3 migrate, 3 app and 3 worker
// replicas behind nginx (deploy/replicas/), drives requests and jobs through nginx while it restarts every app
// replica and then every worker replica, one at a time, and reports failed requests, lost jobs, duplicated
// effects, runs per cron tick and migrations applied. It exits non-zero when a target is missed, and always
// removes what it made.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { containersOf, dockerFor, restartUntilHealthy } from './replicas/docker.mjs';
import { freePort, makeKeysFolder } from './replicas/host.mjs';
import { createClient, exportLoop, notesLoop, signUpLoop, signUpUsers, sleep } from './replicas/load.mjs';
import { summarize } from './replicas/summary.mjs';
import {
  exportsStored,
  logRecords,
  mailsPerAddress,
  migrationProblems,
  migrationsApplied,
  servedWhileDraining,
} from './replicas/tally.mjs';

// The whole run, build included, is killed and cleaned up past this.
const HARD_LIMIT_MS = 10 * 60_000;
// `docker restart -t`: longer than the compose file's stop_grace_period (25 s), which covers drain + shutdown.
const GRACE_SECONDS = 30;
const LOAD_USERS = 3;

const root = fileURLToPath(new URL('..', import.meta.url));
const tag = randomBytes(3).toString('hex');
const project = `hk-replicas-${tag}`;
const image = `handler-kit:${project}`;
const started = Date.now();
const steps = [];

const keysDir = await makeKeysFolder(project);

const [lbPort, pgPort, rdPort] = await Promise.all([freePort(), freePort(), freePort()]);
const env = {
  ...process.env,
  IMAGE_TAG: project,
  LB_PUBLISHED_PORT: String(lbPort),
  PG_PUBLISHED_PORT: String(pgPort),
  RD_PUBLISHED_PORT: String(rdPort),
  KEYS_SOURCE: keysDir,
  KEYS_MODE: 'ro',
  LOG_LEVEL: 'info',
};
const { compose, docker, cleanUp } = dockerFor({ root, env, project });
const client = createClient(`http://127.0.0.1:${lbPort}`);

const watchdog = setTimeout(() => {
  console.error(
    `FAILED: the rehearsal ran past its hard limit of ${HARD_LIMIT_MS / 60_000} min; cleaning up`,
  );
  finish();
  process.exit(1);
}, HARD_LIMIT_MS);

async function step(name, run) {
  const at = Date.now();
  const value = await run();
  steps.push({ step: name, seconds: (Date.now() - at) / 1000 });
  console.log(`ok  ${name} (${((Date.now() - at) / 1000).toFixed(1)} s)`);
  return value;
}

async function psql(query) {
  const command = 'exec psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -v ON_ERROR_STOP=1 -Atc "$0"';
  const out = await compose(['exec', '-T', 'postgres', 'sh', '-c', command, query]);
  return out.split('\n').filter(Boolean);
}

const logsOf = async (service) =>
  logRecords(await compose(['logs', '--no-color', '--no-log-prefix', service]));

// Healthy inside does not yet mean reachable through nginx: wait for that too.
async function up() {
  await compose(['up', '-d', '--wait', '--wait-timeout', '180'], { timeoutMs: 240_000 });
  for (const deadline = Date.now() + 30_000; ; await sleep(250)) {
    const answer = await fetch(`http://127.0.0.1:${lbPort}/readyz`).catch(() => undefined);
    if (answer?.ok) return;
    if (Date.now() > deadline) throw new Error('/readyz did not answer 200 through nginx within 30 s');
  }
}

async function migrations() {
  const runtime = (await readdir(path.join(root, 'shared/runtime/sql'))).filter((f) => f.endsWith('.sql'));
  const app = (await readdir(path.join(root, 'sql'))).filter((f) => f.endsWith('.sql'));
  const expected = [...runtime.map((f) => `runtime/${f}`), ...app];
  const ledger = await psql('select name from schema_migrations order by name');
  const applied = migrationsApplied(await logsOf('migrate'));
  const exits = await compose(['ps', '-a', '--format', '{{.Name}} {{.ExitCode}}', 'migrate']);
  const problems = migrationProblems([...(await logsOf('migrate')), ...(await logsOf('app'))]);
  return { expected, ledger, applied, migrateExits: exits.split('\n').filter(Boolean), problems };
}

/** Waits (bounded) until every accepted mail and export is done, so that what is missing then is lost. */
async function drained(mailsExpected, exportsAccepted) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const worker = await logsOf('worker');
    const rows = await psql(
      "select id || ' ' || status || ' ' || attempts from jobs where task = 'export-notes'",
    );
    const jobs = new Map(
      rows
        .map((row) => row.split(' '))
        .map(([id, status, attempts]) => [id, { status, attempts: Number(attempts) }]),
    );
    const mails = mailsPerAddress(worker);
    const done =
      mailsExpected.every((to) => mails.has(to)) &&
      exportsAccepted.every((id) => jobs.get(id)?.status === 'succeeded');
    if (done || Date.now() > deadline) return { worker, jobs, mails, stored: exportsStored(worker) };
    await sleep(2_000);
  }
}

let failed = false;
try {
  await step('compose config -q', () => compose(['config', '-q']));
  await step('build the image', () => compose(['build', '--quiet', 'app'], { timeoutMs: 480_000 }));
  await step('up --wait: 3 migrate, 3 app and 3 worker replicas, nginx', up);
  const migrated = await step('read the migration ledger and logs', migrations);
  const users = await step(`register and sign in ${LOAD_USERS} load accounts`, () =>
    signUpUsers(client, LOAD_USERS, tag),
  );

  const stop = new AbortController();
  const signUps = [];
  const exportsAccepted = [];
  let loopError;
  const loadStarted = Date.now();
  const loops = [
    ...users.map((user) => notesLoop(client, user, stop.signal)),
    ...users.map((user) =>
      exportLoop(client, user, stop.signal, { accepted: exportsAccepted, pollForMs: 90_000 }),
    ),
    signUpLoop(client, stop.signal, { tag, everyMs: 500, accepted: signUps }),
  ].map((loop) => loop.catch((error) => (loopError ??= error)));
  await step('load before the restarts', () => sleep(8_000));
  const restarts = [];
  for (const service of ['app', 'worker']) {
    for (const container of await containersOf(compose, service)) {
      const seconds = await step(`restart ${container.name} under load, until healthy`, () =>
        restartUntilHealthy(docker, container, { graceSeconds: GRACE_SECONDS }),
      );
      restarts.push({ service, ...container, seconds });
    }
  }
  await step('load after the restarts', () => sleep(12_000));
  const loadEnded = Date.now();
  stop.abort();
  await step('stop the load; poll running exports to their end', () => Promise.all(loops));
  if (loopError) throw loopError;

  const mailsExpected = [...users.map((user) => user.email), ...signUps];
  const after = await step('wait for the queues to drain', () => drained(mailsExpected, exportsAccepted));
  for (const restart of restarts.filter((r) => r.service === 'app')) {
    restart.servedWhileDraining = servedWhileDraining(logRecords(await docker(['logs', restart.id])));
  }
  const summary = summarize({
    client,
    migrated,
    restarts,
    mailsExpected,
    exportsAccepted,
    ...after,
    window: { from: loadStarted, to: loadEnded },
  });
  failed = !summary.passed;
  if (failed) console.error(`FAILED: ${summary.missed.join('; ')}`);
} catch (error) {
  failed = true;
  console.error(`FAILED: ${error.message}`);
} finally {
  clearTimeout(watchdog);
  if (failed) {
    if (client.failures.length) console.error('first failed requests:', client.failures);
    const logs = await compose(['logs', '--no-color', '--tail', '60'], { allowFail: true }).catch(() => '');
    console.error(logs);
  }
  finish();
  console.log(
    JSON.stringify({
      replicaRehearsal: failed ? 'failed' : 'passed',
      seconds: (Date.now() - started) / 1000,
      steps,
    }),
  );
}
process.exit(failed ? 1 : 0);

function finish() {
  cleanUp(image);
  rmSync(keysDir, { recursive: true, force: true });
}
