import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureRoot } from '../support/app.ts';
import {
  type BuiltApp,
  createScratchDatabase,
  installBuiltAppWithDatabase,
  runBundle,
  stopProcess,
} from '../support/processes.ts';
import { freePort } from '../support/services.ts';

let app: BuiltApp;
let env: Record<string, string>;

beforeAll(async () => {
  app = await installBuiltAppWithDatabase(fixtureRoot, 'cli');
  env = {
    ...app.env,
    AP_HOST: '127.0.0.1',
    AP_PORT: String(await freePort()),
    HTTP_METRICS_PORT: String(await freePort()),
    WORKER_METRICS_PORT: String(await freePort()),
    WORKER_HEARTBEAT_FILE: path.join(app.dir, 'heartbeat.json'),
  };
  const migrate = runBundle(app.dir, 'http.mjs', ['migrate'], env);
  if ((await migrate.exited).code !== 0) throw new Error(migrate.output());
}, 120_000);
afterAll(() => app?.cleanup());

/** Runs `node dist/<bundle> ...args` to its end, with a deadline so that nothing started stays. */
async function cli(bundle: string, ...args: string[]) {
  const running = runBundle(app.dir, bundle, args, env);
  const timer = setTimeout(() => running.child.kill('SIGKILL'), 15_000);
  const { code } = await running.exited;
  clearTimeout(timer);
  return { code, output: running.output(), logs: running.logs() };
}

describe("the bundles' command lines", () => {
  it('refuse an unknown command or option with one line and exit 2, starting nothing', async () => {
    for (const [bundle, word] of [
      ['http.mjs', 'nonsense'],
      ['http.mjs', 'migrat'],
      ['worker.mjs', '--nonsense'],
    ] as const) {
      const { code, output, logs } = await cli(bundle, word);
      expect(code, `${bundle} ${word}`).toBe(2);
      expect(output.trim().split('\n'), output).toHaveLength(1);
      expect(output).toMatch(
        new RegExp(`unknown (command|option) "${word}"; run \`node dist/${bundle} help\``),
      );
      expect(logs).toEqual([]);
    }
  });

  it('list their commands for help and --help', async () => {
    const http = await cli('http.mjs', '--help');
    expect(http.code).toBe(0);
    for (const command of ['serve', 'migrate', 'routes', 'openapi', 'health'])
      expect(http.output).toContain(command);
    const worker = await cli('worker.mjs', 'help');
    expect(worker.code).toBe(0);
    for (const command of ['work', 'run', 'failed', 'retry', 'health'])
      expect(worker.output).toContain(command);
  });

  it('`http.mjs routes` prints every route, without configuration', async () => {
    const running = runBundle(app.dir, 'http.mjs', ['routes'], {});
    expect(await running.exited).toEqual({ code: 0, signal: null });
    for (const line of [
      'GET     /items/recent',
      'POST    /items',
      'GET     /items/:id',
      'GET     /files/:path{.+}',
    ]) {
      expect(running.output()).toContain(line);
    }
  });

  it('`worker.mjs run <task> <json>` runs one job and exits 0, or 1 when it fails, or 2 when it cannot run', async () => {
    const ok = await cli(
      'worker.mjs',
      'run',
      'flaky',
      JSON.stringify({ key: `cli-${Date.now()}`, succeedOnAttempt: 1 }),
    );
    expect(ok.code, ok.output).toBe(0);
    expect(ok.output).toContain('"outcome":"succeeded"');
    expect(ok.logs.find((line) => line.msg === 'job')).toMatchObject({ task: 'flaky', outcome: 'succeeded' });

    const failed = await cli(
      'worker.mjs',
      'run',
      'flaky',
      JSON.stringify({ key: `cli-${Date.now()}`, succeedOnAttempt: 9 }),
    );
    expect(failed.code).toBe(1);
    expect(failed.output).toContain('"outcome":"failed"');

    expect((await cli('worker.mjs', 'run', 'nope', '{}')).code).toBe(2);
    expect((await cli('worker.mjs', 'run', 'flaky', '{not json')).code).toBe(2);
    expect((await cli('worker.mjs', 'run', 'flaky')).output).toMatch(
      /expected 2 arguments; usage: node dist\/worker\.mjs run <task>/,
    );
  });

  it('logs a thrown error with the source file and line of the handler, run as the image runs it', async () => {
    // The image sets NODE_OPTIONS=--enable-source-maps (see the Dockerfile).
    const http = runBundle(app.dir, 'http.mjs', [], {
      ...env,
      MIGRATE_ON_START: 'false',
      NODE_OPTIONS: '--enable-source-maps',
    });
    try {
      await http.waitForLog((line) => line.msg === 'listening');
      await fetch(`http://127.0.0.1:${env.AP_PORT}/boom`);
      const logged = await http.waitForLog((line) => line.msg === 'unhandled error');
      const stack = String((logged.err as { stack?: string }).stack);
      expect(stack).toMatch(/handlers\/boom\.get\.ts:\d+:\d+/);
    } finally {
      await stopProcess(http);
    }
  });

  it('a worker started before the first migration waits with one warning line, not a stack', async () => {
    const empty = await createScratchDatabase();
    const worker = runBundle(app.dir, 'worker.mjs', [], {
      ...env,
      POSTGRES_DB: empty.name,
      OUTBOX_POLL_INTERVAL_MS: '100',
    });
    try {
      await worker.waitForLog((line) => /outbox table does not exist yet/.test(String(line.msg)));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const warnings = worker.logs().filter((line) => /outbox/.test(String(line.msg)));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.err).toBeUndefined();
    } finally {
      await stopProcess(worker);
      await empty.drop();
    }
  });

  it('a worker whose database cannot be reached says so in one line each, without a stack', async () => {
    const closed = String(await freePort());
    const worker = runBundle(app.dir, 'worker.mjs', [], {
      ...env,
      PG_PORT: closed,
      OUTBOX_POLL_INTERVAL_MS: '100',
    });
    try {
      await worker.waitForLog((line) => /outbox relay cannot read the outbox/.test(String(line.msg)));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const warnings = worker.logs().filter((line) => /outbox/.test(String(line.msg)));
      expect(warnings.length, JSON.stringify(warnings.map((line) => line.msg))).toBeLessThanOrEqual(2);
      for (const line of warnings) {
        expect(line.err).toBeUndefined();
        expect(String(line.reason)).toMatch(/ECONNREFUSED|connect/);
      }
    } finally {
      await stopProcess(worker);
    }
  });

  it('a taken port is one line naming it, after no migration', async () => {
    const blocker = spawn(process.execPath, [
      '-e',
      `require('net').createServer().listen(${env.AP_PORT}, '127.0.0.1')`,
    ]);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const { code, output } = await cli('http.mjs');
      expect(code).toBe(1);
      expect(output).toContain(`Start-up failed: 127.0.0.1:${env.AP_PORT} is in use (AP_HOST, AP_PORT)`);
      expect(output).not.toMatch(/\n\s+at /);
    } finally {
      blocker.kill('SIGKILL');
    }
  });
});
