import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../support/commands.ts';

// The logger batches its writes: these run it in a process of its own, bundled as the bundles carry it, and
// count the lines that reach stdout however the process ends.
const logModule = fileURLToPath(new URL('../../../shared/runtime/log.ts', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'log-test-'));
  await esbuild.build({
    entryPoints: [logModule],
    outfile: path.join(dir, 'log.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'silent',
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  });
  await writeFile(
    path.join(dir, 'probe.mjs'),
    `import { createLogger } from './log.mjs';
const log = createLogger('info', { process: 'probe' });
for (let i = 0; i < 200; i++) log.info({ i }, 'line');
const how = process.argv[2];
if (how === 'exit') process.exit(3);
if (how === 'throw') setTimeout(() => { throw new Error('boom'); }, 1);
if (how === 'keep-running') setTimeout(() => process.exit(0), 60_000);
if (how === 'warn-then-kill') { log.warn('the last word'); process.kill(process.pid, 'SIGKILL'); }
if (how === 'stdout-gone') setTimeout(() => { log.warn('into a closed pipe'); process.exit(0); }, 300);
`,
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const lines = (output: string) =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { i?: number; time?: string; msg?: string });

describe('createLogger', () => {
  it.each([
    ['process.exit', 'exit', 3],
    ['an uncaught exception', 'throw', 1],
    ['the event loop running dry', 'done', 0],
  ])('writes every line when the process ends by %s', async (_, how, code) => {
    const result = await runCommand(process.execPath, ['probe.mjs', how], { cwd: dir, env: {} });
    expect(result.code).toBe(code);
    const written = lines(result.output).filter((line) => line.msg === 'line');
    expect(written.map((line) => line.i)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(written[0]?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('writes the lines of a process that keeps running without waiting for more', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['probe.mjs', 'keep-running'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    try {
      await expect
        .poll(() => lines(output).filter((line) => line.msg === 'line').length, { timeout: 5_000 })
        .toBe(200);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('writes a warning at once, before the process can be killed', async () => {
    const result = await runCommand(process.execPath, ['probe.mjs', 'warn-then-kill'], { cwd: dir, env: {} });
    expect(lines(result.output).map((line) => line.msg)).toContain('the last word');
  });

  it('loses the lines, not the process, when stdout has gone away', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['probe.mjs', 'stdout-gone'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let errors = '';
    child.stderr.on('data', (chunk) => {
      errors += chunk;
    });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(errors).toBe('');
    expect(code).toBe(0);
  });
});
