import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import createClient, { type Client } from 'openapi-fetch';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
// Written by the build; `npm run typecheck` builds first (its pretypecheck), so tsc sees this run's API.
import type { components, paths } from '../../dist/openapi.d.ts';
import { projectRoot } from '../support/app.ts';
import { answerChecker } from '../support/hostile-answers.ts';
import { schemaValidator } from '../support/openapi-schemas.ts';
import {
  type BuiltApp,
  type BundleProcess,
  installBuiltAppWithDatabase,
  runBundle,
  stopProcess,
} from '../support/processes.ts';
import { freePort } from '../support/services.ts';

// biome-ignore lint/suspicious/noExplicitAny: the checks read an OpenAPI document of known shape
type Json = Record<string, any>;
type Schemas = components['schemas'];

let app: BuiltApp;
let http: BundleProcess;
let worker: BundleProcess;
let document: Json;
let client: Client<paths>;
/** What is wrong with each answer the client got, against the document the build wrote. */
const wrong: string[] = [];
const answered: string[] = [];

beforeAll(async () => {
  app = await installBuiltAppWithDatabase(projectRoot, 'client');
  document = JSON.parse(await readFile(path.join(app.dir, 'dist/openapi.json'), 'utf8'));
  const port = await freePort();
  const env = {
    ...app.env,
    AP_PORT: String(port),
    MIGRATE_ON_START: 'true',
    KEYS_DIR: path.join(app.dir, 'keys'),
    WORKER_HEARTBEAT_FILE: path.join(app.dir, 'heartbeat.json'),
  };
  http = runBundle(app.dir, 'http.mjs', [], env);
  await http.waitForLog((line) => line.msg === 'listening', 30_000);
  worker = runBundle(app.dir, 'worker.mjs', [], env);
  await worker.waitForLog((line) => line.msg === 'worker started');

  const answerProblems = answerChecker(document);
  const validate = schemaValidator(document);
  client = createClient<paths>({ baseUrl: `http://127.0.0.1:${port}` });
  client.use({
    async onResponse({ request, response, schemaPath }) {
      const method = request.method.toLowerCase();
      const spec: Json | undefined = document.paths[schemaPath]?.[method];
      const where = `${request.method} ${schemaPath} ${response.status}`;
      answered.push(where);
      if (!spec) return void wrong.push(`${where}: not in the document`);
      if (!spec.responses[response.status]) wrong.push(`${where}: a status the document does not list`);
      const bytes = new Uint8Array(await response.clone().arrayBuffer());
      const operation = { method: request.method, path: schemaPath, spec };
      for (const problem of answerProblems(operation, {
        status: response.status,
        headers: response.headers,
        bytes,
      })) {
        wrong.push(`${where}: ${problem}`);
      }
      // answerChecker checks a problem's fields; the whole body must also be the document's Problem.
      if (response.status >= 400) {
        const body = JSON.parse(new TextDecoder().decode(bytes));
        for (const problem of validate('/components/schemas/Problem', body))
          wrong.push(`${where}: ${problem}`);
      }
    },
  });
}, 180_000);

afterAll(async () => {
  await stopProcess(http);
  await stopProcess(worker);
  await app?.cleanup();
});

describe('the reference app, driven by openapi-fetch typed by the built dist/openapi.d.ts', () => {
  it("is typed by the build's dist/openapi.d.ts, which names the shared shapes", async () => {
    const types = await readFile(path.join(app.dir, 'dist/openapi.d.ts'), 'utf8');
    for (const name of ['Note', 'NotePage', 'Job', 'TokenPair', 'User', 'ExportAccepted', 'Problem']) {
      expect(types, name).toMatch(new RegExp(`^\\s+${name}: \\{`, 'm'));
    }
  });

  it('goes from sign-up through notes, an export and its job, to signing out, every answer as documented', async () => {
    const email = `grace-${randomBytes(3).toString('hex')}@example.test`;
    const password = 'correct horse battery staple';
    const registered = await client.POST('/auth/register', { body: { email, password, name: 'Grace' } });
    expect(registered.response.status).toBe(201);
    expectTypeOf(registered.data).toEqualTypeOf<Schemas['User'] | undefined>();
    expect(registered.data?.email).toBe(email);

    const login = await client.POST('/auth/login', { body: { email, password } });
    expectTypeOf(login.data).toEqualTypeOf<Schemas['TokenPair'] | undefined>();
    expect(login.response.status, JSON.stringify(login.error)).toBe(200);
    const tokens = login.data as Schemas['TokenPair'];
    expect(tokens.tokenType).toBe('Bearer');
    const headers = { authorization: `Bearer ${tokens.accessToken}` };

    const me = await client.GET('/auth/me', { headers });
    expect(me.data?.id).toBe(registered.data?.id);

    const created = await client.POST('/notes', {
      headers,
      body: { title: 'First', body: 'Hello', tags: ['home'] },
    });
    expectTypeOf(created.data).toEqualTypeOf<Schemas['Note'] | undefined>();
    const noteId = created.data?.id as string;
    const read = await client.GET('/notes/{id}', { headers, params: { path: { id: noteId } } });
    expect(read.data?.title).toBe('First');
    const patched = await client.PATCH('/notes/{id}', {
      headers,
      params: { path: { id: noteId } },
      body: { title: 'Renamed' },
    });
    expect(patched.data?.title).toBe('Renamed');
    await client.POST('/notes', { headers, body: { title: 'Second', body: 'b' } });

    // `limit` is a number in the document, so it is one here.
    const first = await client.GET('/notes', { headers, params: { query: { limit: 1 } } });
    expectTypeOf(first.data).toEqualTypeOf<Schemas['NotePage'] | undefined>();
    expect(first.data?.items.map((note) => note.title)).toEqual(['Second']);
    const cursor = first.data?.nextCursor as string;
    const second = await client.GET('/notes', { headers, params: { query: { limit: 1, cursor } } });
    expect(second.data?.items.map((note) => note.title)).toEqual(['Renamed']);

    const doomed = await client.POST('/notes', { headers, body: { title: 'Doomed', body: 'x' } });
    const doomedId = { path: { id: doomed.data?.id as string } };
    expect((await client.DELETE('/notes/{id}', { headers, params: doomedId })).response.status).toBe(204);
    const gone = await client.GET('/notes/{id}', { headers, params: doomedId });
    expect(gone.response.status).toBe(404);
    expect(gone.error).toMatchObject({ status: 404, code: 'not_found' });

    const exported = await client.POST('/notes/exports', { headers, body: { format: 'csv' } });
    expectTypeOf(exported.data).toEqualTypeOf<Schemas['ExportAccepted'] | undefined>();
    const jobId = exported.data?.id as string;
    expect(exported.response.headers.get('location')).toBe(`/jobs/${jobId}`);
    const job = await poll(async () => {
      const status = await client.GET('/jobs/{id}', { headers, params: { path: { id: jobId } } });
      return status.data?.status === 'succeeded' ? status.data : undefined;
    });
    expectTypeOf(job).toExtend<Schemas['Job']>();
    expect(job.result).toEqual({ url: `/notes/exports/${jobId}` });

    const refreshed = await client.POST('/auth/refresh', { body: { refreshToken: tokens.refreshToken } });
    const next = refreshed.data?.refreshToken as string;
    expect(next).toEqual(expect.any(String));
    expect((await client.POST('/auth/logout', { body: { refreshToken: next } })).response.status).toBe(204);
    const refused = await client.POST('/auth/refresh', { body: { refreshToken: next } });
    expect(refused.response.status).toBe(401);

    expect(wrong).toEqual([]);
    // Every step above went through the check: none slipped past the middleware.
    expect(answered.length).toBeGreaterThanOrEqual(17);
  });
});

async function poll<T>(read: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the export job did not succeed within ${timeoutMs} ms`);
}
