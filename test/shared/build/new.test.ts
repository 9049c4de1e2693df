import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { projectRoot } from '../../support/app.ts';
import { runCommand } from '../../support/commands.ts';
import { copyProject } from '../../support/project-copy.ts';

// The scaffolds run in a copy of the project, and what they write goes through the same checks as code written
// by hand: the build, tsc, biome and the generated tests themselves, on this run's PostgreSQL and Redis.
const HANDLER = 'handlers/notes/[id]/archive.post.ts';
const HANDLER_TEST = 'test/handlers/notes/[id]/archive.post.test.ts';
const TASK = 'tasks/notes/archive.ts';
const TASK_TEST = 'test/tasks/notes/archive.test.ts';
const MIGRATION = 'sql/0009_add-archived-at.sql';
const bin = (file: string) => path.join(projectRoot, 'node_modules', file);

let copy: string;
let scaffolds: Result[];

beforeAll(async () => {
  copy = await copyProject('scaffolds');
  scaffolds = [];
  for (const args of [
    ['handler', 'notes/[id]/archive.post'],
    ['task', 'notes/archive'],
    ['migration', 'add-archived-at'],
  ])
    scaffolds.push(await newFile(args));
}, 60_000);

afterAll(async () => {
  if (copy) await rm(copy, { recursive: true, force: true });
});

describe('npm run new', () => {
  it('writes a handler, a task, their tests at the mirrored paths, and the migration after the highest number', async () => {
    expect(scaffolds.map((result) => result.code)).toEqual([0, 0, 0]);
    for (const file of [HANDLER, HANDLER_TEST, TASK, TASK_TEST, MIGRATION]) {
      expect(await readFile(path.join(copy, file), 'utf8')).not.toBe('');
    }
    // 0005 and 0006 are gone from sql/ but 0008 is the highest there, so neither comes back.
    expect((await readdir(path.join(copy, 'sql'))).filter((name) => name.startsWith('0009'))).toEqual([
      '0009_add-archived-at.sql',
    ]);
  });

  it('writes files that build, type-check and lint with no edit', async () => {
    const build = await run(process.execPath, ['build.mjs']);
    expect(build.code, build.output).toBe(0);
    expect(build.output).toMatch(/POST\s+\/notes\/:id\/archive/);
    expect(build.output).toContain('notes/archive');
    const tsc = await run(process.execPath, [bin('typescript/bin/tsc'), '--noEmit', '-p', copy]);
    expect(tsc.code, tsc.output).toBe(0);
    const files = [HANDLER, HANDLER_TEST, TASK, TASK_TEST];
    const biome = await run(process.execPath, [bin('@biomejs/biome/bin/biome'), 'check', ...files]);
    expect(biome.code, biome.output).toBe(0);
  }, 60_000);

  it('writes tests that pass, and a migration the ledger applies', async () => {
    // The copy's own test setup migrates a fresh database from its sql/, the new file included.
    const tests = await run(
      process.execPath,
      [bin('vitest/vitest.mjs'), 'run', HANDLER_TEST, TASK_TEST],
      inject('env'),
    );
    expect(tests.code, tests.output).toBe(0);
    expect(tests.output).toMatch(/Tests\s+2 passed/);
  }, 60_000);

  it('refuses to overwrite a file, and leaves it as it was', async () => {
    const before = await readFile(path.join(copy, TASK), 'utf8');
    const again = await newFile(['task', 'notes/archive']);
    expect(again.code).toBe(1);
    expect(again.output).toContain(`${TASK} already exists`);
    expect(await readFile(path.join(copy, TASK), 'utf8')).toBe(before);
  });

  it('refuses a name the build would refuse, naming the rule, and writes nothing', async () => {
    const badPath = await newFile(['handler', 'notes/Archive.post']);
    expect(badPath.code).toBe(1);
    expect(badPath.output).toContain('"Archive" is not a valid path part; use lowercase letters');
    const method = await newFile(['handler', 'notes/archive']);
    expect(method.output).toContain('a handler file is named <name>.<method>.ts');
    const task = await newFile(['task', 'notes/Archive_All']);
    expect(task.code).toBe(1);
    expect(task.output).toContain('a task file is named in kebab-case');
    const reserved = await newFile(['task', 'runtime/sweep']);
    expect(reserved.output).toContain('tasks/runtime/ is where the runtime');
    const migration = await newFile(['migration', 'Add Archived']);
    expect(migration.output).toContain('a migration is named in lowercase letters');
    expect(await exists('handlers/notes/Archive.post.ts')).toBe(false);
    expect(await exists('tasks/notes/Archive_All.ts')).toBe(false);
  });

  it('refuses a route another file claims, and takes back what it wrote', async () => {
    const clash = await newFile(['handler', 'notes/[noteId].get']);
    expect(clash.code).toBe(1);
    expect(clash.output).toContain('both claim GET /notes/:noteId');
    expect(await exists('handlers/notes/[noteId].get.ts')).toBe(false);
    expect(await exists('test/handlers/notes/[noteId].get.test.ts')).toBe(false);
  });

  it('rejects an unknown kind or an extra argument with one line and the usage, exit 2', async () => {
    const kind = await newFile(['widget', 'notes/archive']);
    expect(kind.code).toBe(2);
    expect(kind.output.split('\n')[0]).toBe(
      'npm run new: unknown kind "widget"; use handler, task or migration',
    );
    expect(kind.output).toContain('usage: npm run new handler');
    const extra = await newFile(['migration', 'add-archived-at', 'now']);
    expect(extra.code).toBe(2);
    expect(extra.output.split('\n')[0]).toBe('npm run new: unexpected argument "now"; give one name');
    expect((await newFile([])).code).toBe(2);
  });

  it('never hands out a number git recorded under sql/, though the file is gone', async () => {
    const repo = await mkdtemp(path.join(tmpdir(), 'scaffolds-git-'));
    try {
      await mkdir(path.join(repo, 'sql'));
      await writeFile(path.join(repo, 'sql/0012_dropped.sql'), 'select 1;\n');
      const git = (...args: string[]) =>
        run('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.test', ...args], {}, repo);
      for (const args of [
        ['init', '-q'],
        ['add', '.'],
        ['commit', '-qm', 'a'],
        ['rm', '-q', 'sql/0012_dropped.sql'],
        ['commit', '-qm', 'b'],
      ]) {
        expect((await git(...args)).code).toBe(0);
      }
      await mkdir(path.join(repo, 'sql'), { recursive: true });
      await writeFile(path.join(repo, 'sql/0003_kept.sql'), 'select 1;\n');
      const made = await run(
        process.execPath,
        [path.join(copy, 'shared/build/new.mjs'), 'migration', 'next'],
        {},
        repo,
      );
      expect(made.output).toContain('created sql/0013_next.sql');
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  });
});

type Result = { code: number | null; output: string };

/** `npm run new` as a user runs it, in the copy. */
function newFile(args: string[]) {
  return run('npm', ['run', '--silent', 'new', '--', ...args]);
}

function exists(file: string) {
  return readFile(path.join(copy, file)).then(
    () => true,
    () => false,
  );
}

/** A command in the copy (or `cwd`), with none of this run's vitest variables; output is stdout and stderr. */
function run(command: string, args: string[], env: Record<string, string> = {}, cwd = copy): Promise<Result> {
  return runCommand(command, args, { cwd, env: { NO_COLOR: '1', ...env } });
}
