import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { renderChart, verdictText } from './chart.mjs';
import { baselines, settingsHelp } from './report-notes.mjs';
import { boundText } from './targets.mjs';

// BENCHMARKS.md and its chart, rendered from bench/results.json and nothing else, so that a run's report can be
// made again (`node bench/report.mjs [results.json]`) and checked without running a benchmark.

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const RESULTS = path.join(root, 'bench/results.json');

/** @param {number} value @param {number} digits */
const fixed = (value, digits) =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : 'n/a';
/** @param {number} bytes */
const mib = (bytes) => fixed(bytes / 2 ** 20, 1);
/** @param {number | null} value @param {string} unit */
const figure = (value, unit) =>
  value === null
    ? 'n/a'
    : `${fixed(value, unit === 'req/s' || unit === 'jobs/s' ? 0 : unit === 'MiB' ? 1 : 2)} ${unit}`;
/** @param {string[][]} rows */
const table = ([head = [], ...rows]) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');

/**
 * A target's row: pair, bound, ratio, our figure, the baseline's, verdict (BENCHMARKS.md and the console).
 * @param {import('./targets.mjs').Target} target
 */
export function targetCells(target) {
  return [
    target.pair,
    boundText(target),
    target.ratio === null ? 'n/a' : `${target.ratio.toFixed(2)}×`,
    figure(target.ours, target.unit),
    figure(target.theirs, target.unit),
    verdictText(target),
  ];
}

/**
 * The whole BENCHMARKS.md for `results`; `links` are where the chart and the results file are, relative to it.
 * @param {any} results
 */
export function renderMarkdown(
  results,
  links = { chart: 'bench/ratios.svg', results: 'bench/results.json' },
) {
  const { machine, settings } = results;
  const lines = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` from [${links.results}](${links.results}) (re-render with \`node bench/report.mjs\`). ` +
      'Every figure is the median of the rounds of one run, ours and each baseline measured side by side on the same machine, ' +
      'interleaved round by round; read the ratios, not the absolute figures.',
    '',
    `- Run: ${results.date}, commit \`${results.commit ?? 'unknown (not a git checkout)'}\`${results.uncommittedChanges ? ' with uncommitted changes' : ''}${settings.oursDir ? `; ours from \`${settings.oursDir}\` (BENCH_OURS)` : ''}${settings.quick ? '; **a quick smoke run (BENCH_QUICK=1): too short for conclusions**' : ''}`,
    `- Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.os}; load average ${machine.loadAverage} at start`,
    `- Load: ${settings.loadGenerator}, ${settings.connections} connections, ${settings.rounds} rounds of ${settings.seconds} s per server and scenario after a warm-up; ` +
      (settings.pinned
        ? 'servers pinned to core 0 and the load generator to core 1 (taskset)'
        : 'not pinned (no taskset here)'),
    '',
    '## Targets',
    '',
    table([['pair', 'target', 'figure', 'ours', 'baseline', 'verdict'], ...results.targets.map(targetCells)]),
    '',
    `![Each ratio against its target](${links.chart})`,
    '',
  ];
  if (results.http) lines.push(...httpDetail(results.http));
  if (results.queue) lines.push(...queueDetail(results.queue));
  if (results.startup) lines.push(...startupDetail(results.startup));
  lines.push(...baselines(), ...settingsHelp());
  return `${lines.join('\n')}\n`;
}

/** @param {import('./http-section.mjs').ScenarioResult[]} scenarios */
function httpDetail(scenarios) {
  const lines = ['## HTTP', ''];
  for (const scenario of scenarios) {
    lines.push(`### ${scenario.name}`, '');
    lines.push(
      table([
        ['server', 'req/s', 'CPU µs/req', 'p50 ms', 'p99 ms', 'req/s by round'],
        ...scenario.servers.map((server) => [
          server.label,
          fixed(server.median.rps, 0),
          fixed(server.median.cpuUsPerRequest, 1),
          fixed(server.median.p50Ms, 2),
          fixed(server.median.p99Ms, 2),
          server.rounds.map((round) => fixed(round.rps, 0)).join(', '),
        ]),
      ]),
      '',
    );
  }
  return lines;
}

/** @param {any} queue */
function queueDetail(queue) {
  return [
    '## Worker',
    '',
    `${fixed(queue.jobs, 0)} no-op jobs enqueued with ${queue.inFlight} saves in flight, then drained at concurrency ${queue.concurrency}; ` +
      `then enqueue→start latency at a steady ${queue.latencyRate} jobs a second for ${queue.latencySeconds} s. A fresh process per side and round.`,
    '',
    table([
      ['side', 'enqueue jobs/s', 'drain jobs/s', 'enqueue→start p50 ms', 'p99 ms', 'drain jobs/s by round'],
      ...queue.sides.map((/** @type {any} */ side) => [
        side.label,
        fixed(side.median.enqueuePerSecond, 0),
        fixed(side.median.drainPerSecond, 0),
        fixed(side.median.latencyP50Ms, 2),
        fixed(side.median.latencyP99Ms, 2),
        side.rounds.map((/** @type {any} */ round) => fixed(round.drainPerSecond, 0)).join(', '),
      ]),
    ]),
    '',
  ];
}

/** @param {any} startup */
function startupDetail(startup) {
  return [
    '## Start-up, memory and size',
    '',
    `Cold start is from spawn to the first 200 of \`GET /\`; idle RSS is read ${startup.idleMs / 1000} s after it; loaded RSS after ${startup.soakSeconds} s of the hello load.`,
    '',
    table([
      [
        'process',
        'cold start ms',
        'idle RSS MiB',
        `RSS after ${startup.soakSeconds} s of load, MiB`,
        'cold start ms by round',
      ],
      ...startup.sides.map((/** @type {any} */ side) => [
        side.label,
        fixed(side.median.coldStartMs, 1),
        mib(side.median.idleRssBytes),
        mib(side.loadedRssBytes),
        side.rounds.map((/** @type {any} */ round) => fixed(round.coldStartMs, 1)).join(', '),
      ]),
    ]),
    '',
    table([
      ['bundle', 'bytes', 'gzipped'],
      ...startup.bundles.map((/** @type {any} */ b) => [b.name, fixed(b.bytes, 0), fixed(b.gzipBytes, 0)]),
    ]),
    '',
  ];
}

/**
 * Writes the markdown and the chart for a results file: the project's BENCHMARKS.md and bench/ratios.svg for
 * bench/results.json, or BENCHMARKS.md and ratios.svg beside any other results file (BENCH_OUT), so that a
 * before/after run does not overwrite the committed report.
 * @param {string} file
 */
export function writeReport(file) {
  const results = JSON.parse(readFileSync(file, 'utf8'));
  const main = path.resolve(file) === RESULTS;
  const markdown = main ? path.join(root, 'BENCHMARKS.md') : path.join(path.dirname(file), 'BENCHMARKS.md');
  const chart = main ? path.join(root, 'bench/ratios.svg') : path.join(path.dirname(file), 'ratios.svg');
  const relative = (/** @type {string} */ to) => path.relative(path.dirname(markdown), to);
  writeFileSync(markdown, renderMarkdown(results, { chart: relative(chart), results: relative(file) }));
  writeFileSync(chart, renderChart(results));
  return { markdown, chart };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = path.resolve(process.argv[2] ?? RESULTS);
  try {
    const written = writeReport(file);
    console.log(`Wrote ${written.markdown} and ${written.chart} from ${file}.`);
  } catch (error) {
    console.error(
      `Cannot render the report from ${file}: ${error instanceof Error ? error.message : error}. Run npm run bench first.`,
    );
    process.exitCode = 1;
  }
}
