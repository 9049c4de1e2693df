import path from 'node:path';

// The files `npm run new` writes. Each is a working starting point: it builds, type-checks, lints and passes
// its test as written, so that the first edit is the change one meant to make.

/**
 * A handler and its test at the mirrored path under test/. The handler echoes its path parameters, and the
 * test calls it with an example value for each.
 * @param {string} file e.g. handlers/notes/[id]/archive.post.ts
 * @param {{ method: string, path: string }} route what routeOf says the file serves
 */
export function handlerFiles(file, route) {
  const params = [...route.path.matchAll(/:([A-Za-z][A-Za-z0-9_]*)(\{[^}]*\})?/g)].map((match) => ({
    name: /** @type {string} */ (match[1]),
    rest: match[2] !== undefined,
  }));
  const label = `${route.method} ${route.path.replace(/\{[^}]*\}/g, '')}`;
  const fields = params.map((param) => `${param.name}: v.string()`).join(', ');
  const echo = params.map((param) => `${param.name}: params.${param.name}`).join(', ');
  const handler = `import * as v from 'valibot';
import { defineHandler } from '#runtime/http/handler.ts';

export default defineHandler({
  summary: 'TODO: say what ${label} does',
${params.length > 0 ? `  params: v.object({ ${fields} }),\n` : ''}  responses: { 200: v.object({ ${params.length > 0 ? fields : 'ok: v.boolean()'} }) },
  async handle(${params.length > 0 ? '{ params }' : ''}) {
    return { ${params.length > 0 ? echo : 'ok: true'} };
  },
});
`;
  const example = (/** @type {{ name: string, rest: boolean }} */ param) =>
    param.rest ? `some/${param.name}` : `some-${param.name}`;
  let url = route.path;
  for (const param of params) url = url.replace(/:[A-Za-z0-9_]+(\{[^}]*\})?/, example(param));
  const expected =
    params.length > 0 ? params.map((p) => `${p.name}: '${example(p)}'`).join(', ') : 'ok: true';
  const testFile = `test/${file.replace(/\.ts$/, '.test.ts')}`;
  const test = `import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, projectRoot, type TestApp } from '${supportPath(testFile)}';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot });
});
afterAll(() => t.close());

describe('${label}', () => {
  it('answers 200 with ${params.length > 0 ? 'the path parameters it was given' : 'ok'}', async () => {
    const response = await t.request('${route.method}', '${url}');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ${expected} });
  });
});
`;
  return [
    { file, text: handler },
    { file: testFile, text: test },
  ];
}

/**
 * A task and its test at the mirrored path under test/, run through the same runner as the worker's.
 * @param {string} file e.g. tasks/notes/archive.ts
 * @param {string} name the task's name, e.g. notes/archive
 */
export function taskFiles(file, name) {
  const task = `import * as v from 'valibot';
import { defineTask } from '#runtime/jobs/task.ts';

export default defineTask({
  description: 'TODO: say what ${name} does',
  payload: v.object({ id: v.string() }),
  // Delivery is at least once: write run so that running twice has the effect of running once.
  async run({ payload, log }) {
    log.info({ id: payload.id }, '${name} ran');
    return { id: payload.id };
  },
});
`;
  const testFile = `test/${file.replace(/\.ts$/, '.test.ts')}`;
  const variable = camelCase(path.posix.basename(name));
  const test = `import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ${variable} from '#${file}';
import { createTestApp, projectRoot, type TestApp } from '${supportPath(testFile)}';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot });
});
afterAll(() => t.close());

describe('${name}', () => {
  it('returns the id it was given, and logs it', async () => {
    const { result } = await t.runTask(${variable}, { id: 'some-id' });
    expect(result).toEqual({ id: 'some-id' });
    expect(t.logs.find((line) => line.msg === '${name} ran')).toMatchObject({ id: 'some-id' });
  });
});
`;
  return [
    { file, text: task },
    { file: testFile, text: test },
  ];
}

/**
 * A migration's text: comments only, which applies as a no-op until the statements are written.
 * @param {string} name
 */
export function migrationFile(name) {
  return `-- ${name}: TODO: the statements, and a line on why the change is made.
-- Once applied anywhere this file is never edited (the ledger refuses a changed checksum): add a new file.
`;
}

/** The relative import of test/support/app.ts from a test file, at any depth. */
function supportPath(/** @type {string} */ testFile) {
  return path.posix.relative(path.posix.dirname(testFile), 'test/support/app.ts');
}

/** `send-receipt` is `sendReceipt`; a name that starts with a digit gets a prefix to stay an identifier. */
function camelCase(/** @type {string} */ name) {
  const camel = name.replace(/-([a-z0-9])/g, (_match, letter) => letter.toUpperCase());
  return /^[0-9]/.test(camel) ? `task${camel}` : camel;
}
