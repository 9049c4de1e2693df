import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderChart } from '../../bench/chart.mjs';
import { renderMarkdown, writeReport } from '../../bench/report.mjs';
import { boundText, evaluateTargets, type Target } from '../../bench/targets.mjs';

// The report is checked on a stored results file (a quick run's, with some medians set by hand), so that
// no benchmark runs here and no figure depends on this machine's speed.
const fixture = path.join(import.meta.dirname, 'results.fixture.json');
const results = JSON.parse(await readFile(fixture, 'utf8'));
const targets: Target[] = results.targets;
const verdict = (target: Target) => (target.met === null ? 'not measured' : target.met ? 'met' : 'not met');
const tmp = await mkdtemp(path.join(os.tmpdir(), 'bench-report-'));
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('bench targets', () => {
  it('compares each ratio with its bound, a ratio on the bound meeting it', () => {
    const byId = new Map(evaluateTargets(results).map((target) => [target.id, target]));
    // 9,000 against 10,000 req/s: 0.90 of a ≥ 1.0 target.
    expect(byId.get('hello-vs-fastify')).toMatchObject({ ours: 9000, theirs: 10000, met: false });
    // 80 against 100 CPU µs: lower is better, 0.80 meets ≤ 1.0.
    expect(byId.get('hello-cpu-vs-fastify')).toMatchObject({ met: true });
    // 8,500 against 10,000: exactly 0.85, and 30 ms against 20 ms: exactly 1.5.
    expect(byId.get('hello-warn-vs-hono')?.met).toBe(true);
    expect(byId.get('hello-p99-vs-fastify')?.met).toBe(true);
    expect(byId.get('hello-vs-fastify')?.ratio).toBeCloseTo(0.9, 10);
  });

  it('marks the targets of a section that did not run as not measured', () => {
    const { startup: _, ...withoutStartup } = results;
    const evaluated = evaluateTargets(withoutStartup);
    const unmeasured = evaluated.filter((target) => target.met === null).map((target) => target.id);
    expect(unmeasured).toEqual(['cold-start-vs-hono', 'idle-rss-vs-hono']);
    expect(evaluated.filter((target) => target.ratio !== null)).toHaveLength(targets.length - 2);
  });
});

describe('BENCHMARKS.md', () => {
  const markdown = renderMarkdown(results);

  it('has a row for every target with its bound, its figure and whether it is met', () => {
    expect(targets.length).toBe(11);
    for (const target of targets) {
      const row = markdown.split('\n').find((line) => line.startsWith(`| ${target.pair} |`));
      expect(row, target.pair).toBeDefined();
      const cells = row?.split(' | ').map((cell) => cell.replace(/^\| | \|$/g, ''));
      expect(cells?.[1]).toBe(boundText(target));
      expect(cells?.[2]).toBe(`${target.ratio?.toFixed(2)}×`);
      expect(cells?.at(-1)).toBe(verdict(target));
    }
    expect(markdown).toContain(
      '| hello throughput: ours (LOG_LEVEL=info) / Fastify with its logger | ≥ 1.00× | 0.90× |',
    );
  });

  it('shows the machine, the commit, the chart and the detail tables', () => {
    expect(markdown).toContain(results.commit);
    expect(markdown).toContain(results.machine.cpu);
    expect(markdown).toContain('![Each ratio against its target](bench/ratios.svg)');
    for (const heading of ['## HTTP', '## Worker', '## Start-up, memory and size', '## What each side does'])
      expect(markdown).toContain(heading);
    expect(markdown).toContain('bare Hono + jose + postgres.js');
  });
});

describe('the ratio chart', () => {
  const svg = renderChart(results);

  it('is one SVG naming every target with its bound, its figure and whether it is met', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    for (const target of targets) {
      expect(svg).toContain(target.pair);
      expect(svg).toContain(`target ${boundText(target)}`);
      expect(svg).toContain(`>${target.ratio?.toFixed(2)}× ${verdict(target)}</text>`);
    }
  });

  it('draws a bar for each measured target and a line at each bound', () => {
    expect(svg.match(/<rect [^>]*rx="2"/g)).toHaveLength(targets.length);
    expect(svg.match(/stroke-width="2.5"/g)).toHaveLength(targets.length);
  });
});

describe('node bench/report.mjs', () => {
  it('writes the markdown and the chart beside a results file other than bench/results.json', async () => {
    const copy = path.join(tmp, 'results.json');
    await import('node:fs/promises').then((fs) => fs.copyFile(fixture, copy));
    const written = writeReport(copy);
    expect(written).toEqual({
      markdown: path.join(tmp, 'BENCHMARKS.md'),
      chart: path.join(tmp, 'ratios.svg'),
    });
    const markdown = await readFile(written.markdown, 'utf8');
    expect(markdown).toContain('![Each ratio against its target](ratios.svg)');
    expect(await readFile(written.chart, 'utf8')).toBe(renderChart(results));
  });
});
