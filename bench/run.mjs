import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { measureHttp } from './http-section.mjs';
import { buildOurs } from './http-servers.mjs';
import { measureQueue } from './queue-section.mjs';
import { targetCells, writeReport } from './report.mjs';
import { readSettings } from './settings.mjs';
import { measureStartup } from './startup-section.mjs';
import { projectRoot, runBench, startStores, table } from './support.mjs';
import { evaluateTargets } from './targets.mjs';

// `npm run bench`: ours against its baselines, side by side in one run (HTTP, worker, start-up and memory),
// then bench/results.json, BENCHMARKS.md and its chart. BENCH_QUICK=1 for a smoke run of about two minutes.
/** @type {import('./settings.mjs').BenchSettings} */
let settings;
try {
  settings = readSettings();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(2);
}

const servers = 4 + 3 + 2;
const httpSeconds = servers * (settings.rounds * (settings.seconds + 2) + settings.warmupSeconds + 2);
const queueSeconds = settings.rounds * 2 * (20 + settings.jobs / 1_000 + settings.latencySeconds * 2);
const startupSeconds = settings.coldStarts * 2 * 6 + 2 * (settings.soakSeconds + 10);
const limitSeconds = 180 + 1.5 * (httpSeconds + queueSeconds + startupSeconds);

await runBench(limitSeconds * 1000, async (tmp) => {
  const machine = machineInfo();
  console.log(
    `Machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverage}`,
  );
  console.log(
    `Load: ${settings.loadGenerator}, ${settings.connections} connections, ${settings.rounds} rounds of ${settings.seconds} s; ` +
      `${settings.pinned ? 'servers on core 0, load on core 1' : 'no taskset: not pinned'}; sections ${settings.sections.join(', ')}; ` +
      `at most ${Math.round(limitSeconds / 60)} min`,
  );
  const ours = await buildOurs(tmp, settings.oursDir);
  const stores = await startStores(tmp, { scratch: true });
  console.log(`Stores: ${stores.where}${settings.oursDir ? `; ours from ${settings.oursDir}` : ''}`);
  /** @type {Record<string, unknown>} */
  const results = {
    version: 1,
    date: new Date().toISOString(),
    commit: commitOf(projectRoot),
    uncommittedChanges: hasChanges(projectRoot),
    machine,
    settings: { ...settings, oursCommit: settings.oursDir ? commitOf(settings.oursDir) : undefined },
  };
  if (settings.sections.includes('http')) {
    console.log('HTTP');
    results.http = await measureHttp(tmp, settings, stores, ours);
  }
  if (settings.sections.includes('queue')) {
    console.log('Worker');
    results.queue = await measureQueue(tmp, settings, stores, ours.root);
  }
  if (settings.sections.includes('startup')) {
    console.log('Start-up and memory');
    results.startup = await measureStartup(tmp, settings, stores, ours);
  }
  const targets = evaluateTargets(results);
  results.targets = targets;
  mkdirSync(path.dirname(settings.out), { recursive: true });
  writeFileSync(settings.out, `${JSON.stringify(results, null, 2)}\n`);
  // In the project's own format, so that `npm run lint` passes on a committed run (best effort: a copy
  // without node_modules/.bin/biome keeps JSON.stringify's layout).
  spawnSync(path.join(projectRoot, 'node_modules/.bin/biome'), ['format', '--write', settings.out], {
    stdio: 'ignore',
  });
  const written = writeReport(settings.out);
  console.log(
    `\n${table([['pair', 'target', 'figure', 'ours', 'baseline', 'verdict'], ...targets.map(targetCells)])}`,
  );
  console.log(`\nWrote ${settings.out}, ${written.markdown} and ${written.chart}.`);
});

function machineInfo() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    loadAverage: Number(os.loadavg()[0]?.toFixed(2)),
  };
}

/** The checked-out commit, or null outside a git checkout. @param {string} dir */
function commitOf(dir) {
  const git = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8' });
  return git.status === 0 ? git.stdout.trim() : null;
}

/** Whether the checkout differs from its commit (the figures are then not the commit's alone). @param {string} dir */
function hasChanges(dir) {
  const git = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], {
    cwd: dir,
    encoding: 'utf8',
  });
  return git.status === 0 ? git.stdout.trim() !== '' : null;
}
