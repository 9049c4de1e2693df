import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DiscoveryError, discover, routeOf, taskNameOf } from '#shared/build/discovery.mjs';

const roots: string[] = [];

afterEach(async () => {
  await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })));
});

/** An app root holding the given files, empty but for a marker; removed after each test. */
async function tree(files: string[]): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'discovery-'));
  roots.push(root);
  for (const file of files) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), 'export default {};\n');
  }
  return root;
}

async function problemsOf(files: string[]): Promise<string[]> {
  const error = await discover(await tree(files)).catch((error: unknown) => error);
  expect(error).toBeInstanceOf(DiscoveryError);
  return (error as DiscoveryError).problems;
}

describe('routeOf', () => {
  it.each([
    ['handlers/notes/[id].get.ts', 'GET', '/notes/:id'],
    ['handlers/index.get.ts', 'GET', '/'],
    ['handlers/notes/index.post.ts', 'POST', '/notes'],
    ['handlers/.well-known/jwks.json.get.ts', 'GET', '/.well-known/jwks.json'],
    ['handlers/files/[...rest].get.ts', 'GET', '/files/:rest{.+}'],
    ['handlers/users/[userId]/notes/[noteId].delete.ts', 'DELETE', '/users/:userId/notes/:noteId'],
    ['handlers/auth/login.post.ts', 'POST', '/auth/login'],
  ])('maps %s to %s %s', (file, method, route) => {
    expect(routeOf(file)).toEqual({ method, path: route });
  });

  it.each([
    ['handlers/notes.ts', /<name>\.<method>\.ts, e\.g\. index\.get\.ts/],
    ['handlers/x.fetch.ts', /"fetch" is not an HTTP method; use one of get, post/],
    ['handlers/Notes/index.get.ts', /"Notes" is not a valid path part; use lowercase letters/],
    ['handlers/my notes.get.ts', /"my notes" is not a valid path part/],
    ['handlers/files/[...rest]/meta.get.ts', /catch-all \[\.\.\.rest\] must be the last part/],
  ])('refuses %s, saying what to do', (file, advice) => {
    const problem = routeOf(file);
    expect(typeof problem).toBe('string');
    expect(problem).toContain(`${file}: `);
    expect(problem).toMatch(advice);
  });
});

describe('taskNameOf', () => {
  it('names a task by its path under tasks/', () => {
    expect(taskNameOf('tasks/send-welcome-email.ts')).toBe('send-welcome-email');
    expect(taskNameOf('tasks/billing/charge-card.ts')).toBe('billing/charge-card');
  });

  it('refuses a name that is not kebab-case, naming the file and the rule', () => {
    const problem = taskNameOf('tasks/Send_Email.ts');
    expect(problem).toMatch(/^!tasks\/Send_Email\.ts: a task file is named in kebab-case, e\.g\./);
  });
});

describe('discover', () => {
  it('lists routes and tasks sorted by code unit, whatever the machine’s locale', async () => {
    const root = await tree([
      'handlers/aab.get.ts',
      'handlers/a~b.get.ts',
      'handlers/a_b.get.ts',
      'handlers/a/[id].get.ts',
      'handlers/a/index.delete.ts',
      'handlers/a/index.get.ts',
      'handlers/a/index.post.ts',
      'handlers/index.get.ts',
      'tasks/help.ts',
      'tasks/chat.ts',
      'tasks/yak.ts',
      'tasks/item.ts',
    ]);
    const { routes, tasks } = await discover(root);
    expect(routes.map((route) => `${route.method} ${route.path}`)).toEqual([
      'GET /',
      'GET /a',
      'POST /a',
      'DELETE /a',
      'GET /a/:id',
      'GET /a_b',
      'GET /aab',
      'GET /a~b',
    ]);
    expect(routes[1]).toEqual({
      method: 'GET',
      path: '/a',
      file: 'handlers/a/index.get.ts',
      absolute: path.join(root, 'handlers/a/index.get.ts'),
    });
    expect(tasks.map((task) => task.name)).toEqual(['chat', 'help', 'item', 'yak']);
  });

  it('skips tests, _-prefixed files and folders, and files that are not code', async () => {
    const root = await tree([
      'handlers/notes/index.get.ts',
      'handlers/notes/index.get.test.ts',
      'handlers/notes/_queries.ts',
      'handlers/_lib/anything.ts',
      'handlers/README.md',
      'handlers/types.d.ts',
      'tasks/send-email.ts',
      'tasks/send-email.test.ts',
      'tasks/_shared/Mailer.ts',
      'tasks/README.md',
    ]);
    const { routes, tasks } = await discover(root);
    expect(routes.map((route) => route.file)).toEqual(['handlers/notes/index.get.ts']);
    expect(tasks.map((task) => task.file)).toEqual(['tasks/send-email.ts']);
  });

  it('finds nothing in a root without handlers/ or tasks/', async () => {
    expect(await discover(await tree([]))).toEqual({ routes: [], tasks: [] });
  });

  it.each([
    ['handlers/notes/[id].get.ts', 'handlers/notes/[noteId].get.ts', 'GET /notes/:'],
    ['handlers/notes.get.ts', 'handlers/notes/index.get.ts', 'GET /notes'],
  ])('names both %s and %s when they claim one route', async (first, second, route) => {
    const problems = await problemsOf([first, second, 'handlers/notes/index.post.ts']);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(first);
    expect(problems[0]).toContain(second);
    expect(problems[0]).toContain(`both claim ${route}`);
    expect(problems[0]).toMatch(/remove or rename one$/);
  });

  it('refuses a .js file in handlers/, which would otherwise be silently left out', async () => {
    const [problem] = await problemsOf(['handlers/legacy.get.js', 'handlers/index.get.ts']);
    expect(problem).toBe(
      'handlers/legacy.get.js: only .ts files are handlers or tasks; rename it to .ts or prefix it with _',
    );
  });

  it('reports every broken file in one error', async () => {
    const broken = [
      'handlers/notes.ts',
      'handlers/x.fetch.ts',
      'handlers/Notes/index.get.ts',
      'handlers/[...rest]/meta.get.ts',
      'handlers/old.get.js',
      'tasks/Send_Email.ts',
    ];
    const root = await tree([...broken, 'handlers/index.get.ts', 'tasks/fine.ts']);
    const error = await discover(root).catch((error: unknown) => error);
    expect(error).toBeInstanceOf(DiscoveryError);
    const { problems, message } = error as DiscoveryError;
    expect(problems).toHaveLength(broken.length);
    expect(message).toMatch(/^Cannot build \(6 problems\):\n {2}- /);
    for (const file of broken) expect(message).toContain(`${file}: `);
  });
});

describe('route order', () => {
  it('puts a static segment before a parameter, whatever the file names, so that the static file is reachable', async () => {
    const root = await tree([
      'handlers/notes/[id].get.ts',
      'handlers/notes/recent.get.ts',
      'handlers/notes/[id]/tags.get.ts',
      'handlers/notes/exports/[exportId].get.ts',
      'handlers/files/[...rest].get.ts',
      'handlers/files/readme.get.ts',
    ]);
    const { routes } = await discover(root);
    expect(routes.map((route) => route.path)).toEqual([
      '/files/readme',
      '/files/:rest{.+}',
      '/notes/exports/:exportId',
      '/notes/recent',
      '/notes/:id',
      '/notes/:id/tags',
    ]);
  });
});
