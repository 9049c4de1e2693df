import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type Route } from '#runtime/http/app.ts';
import { type AnyHandler, defineHandler } from '#runtime/http/handler.ts';
import { swaggerUiDir } from '../../../../build.mjs';
import { createTestRuntime } from '../../../support/app.ts';

const Note = v.object({ id: v.string(), archivedAt: v.nullable(v.pipe(v.string(), v.isoTimestamp())) });

// What an untyped value (a database row, a cast) can carry past the compiler: the run-time check is for these.
const drifting = defineHandler({
  summary: 'Answers a number where its schema says a date-time',
  responses: { 200: Note },
  handle: () => ({ id: 'n1', archivedAt: 42 }) as unknown as v.InferInput<typeof Note>,
});
const keeping = defineHandler({
  summary: 'Answers a Date, which goes on the wire as the ISO string its schema asks for',
  responses: { 200: Note },
  handle: () =>
    ({ id: 'n1', archivedAt: new Date('2026-01-02T03:04:05Z') }) as unknown as v.InferInput<typeof Note>,
});

const routes: Route[] = [
  { method: 'GET', path: '/drifting', file: 'drifting.get.ts', definition: drifting as AnyHandler },
  { method: 'GET', path: '/keeping', file: 'keeping.get.ts', definition: keeping as AnyHandler },
];

async function appWith(env: Record<string, string>) {
  const { runtime } = await createTestRuntime({ env });
  const app = createApp({ routes, runtime, openapi: {}, docsAssetsDir: swaggerUiDir() });
  return { app, close: () => runtime.close() };
}

describe('the response check (CHECK_RESPONSES)', () => {
  let checked: Awaited<ReturnType<typeof appWith>>;
  let unchecked: Awaited<ReturnType<typeof appWith>>;
  beforeAll(async () => {
    checked = await appWith({ APP_ENV: 'test' });
    unchecked = await appWith({ APP_ENV: 'test', CHECK_RESPONSES: 'false' });
  });
  afterAll(async () => {
    await checked.close();
    await unchecked.close();
  });

  it('turns an answer that does not match its documented schema into a 500 naming the field', async () => {
    const response = await checked.app.request('/drifting');
    expect(response.status).toBe(500);
    const problem = (await response.json()) as { code: string; detail: string };
    expect(problem.code).toBe('response_mismatch');
    expect(problem.detail).toMatch(/response\.archivedAt/);
    expect(problem.detail).toMatch(/documented 200 schema/);
  });

  it('checks the answer as it is sent: a Date field is its ISO string', async () => {
    const response = await checked.app.request('/keeping');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: 'n1', archivedAt: '2026-01-02T03:04:05.000Z' });
  });

  it('sends the answer unchecked when CHECK_RESPONSES is false, as production does by default', async () => {
    const response = await unchecked.app.request('/drifting');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: 'n1', archivedAt: 42 });
  });
});
