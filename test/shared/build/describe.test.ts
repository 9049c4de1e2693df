import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { defineHandler } from '#runtime/http/handler.ts';
import { defineTask } from '#runtime/jobs/task.ts';
import { describeApp, type LoadedRoute, type LoadedTask } from '#shared/build/describe.ts';

// biome-ignore lint/suspicious/noExplicitAny: the tests walk a JSON document of known shape
type Json = Record<string, any>;

const readNote = defineHandler({
  summary: 'Reads one note',
  params: v.object({ id: v.pipe(v.string(), v.uuid()) }),
  responses: { 200: v.object({ id: v.string(), title: v.string() }) },
  handle: () => ({ id: 'n1', title: 'hello' }),
});
const sendEmail = defineTask({
  description: 'Sends one email',
  payload: v.object({ to: v.pipe(v.string(), v.email()) }),
  retries: 5,
  backoff: { strategy: 'fixed', delayMs: 250 },
  timeoutMs: 10_000,
  concurrency: 4,
  schedule: '0 3 * * *',
  run: () => undefined,
});

const route = (module: Record<string, unknown>, file = 'handlers/notes/[id].get.ts'): LoadedRoute => ({
  method: 'GET',
  path: '/notes/:id',
  file,
  module,
});
const task = (module: Record<string, unknown>, file = 'tasks/send-email.ts'): LoadedTask => ({
  name: file.replace(/^tasks\/|\.ts$/g, ''),
  file,
  module,
});
const app = (routes: LoadedRoute[], tasks: LoadedTask[] = []) =>
  describeApp({ app: {}, package: { name: 'Notes', version: '1.2.3' }, routes, tasks });

describe('describeApp', () => {
  it('describes well-formed handlers and tasks: an OpenAPI document and each task’s policy', () => {
    const described = app([route({ default: readNote })], [task({ default: sendEmail })]);
    expect(described.problems).toEqual([]);
    const openapi = described.openapi as Json;
    expect(openapi.openapi).toBe('3.1.0');
    expect(openapi.info).toMatchObject({ title: 'Notes', version: '1.2.3' });
    expect(openapi.paths['/notes/{id}'].get.summary).toBe('Reads one note');
    expect(openapi['x-tasks'].map((entry: Json) => entry.name)).toEqual(['send-email']);
    expect(described.tasks).toEqual([
      {
        name: 'send-email',
        file: 'tasks/send-email.ts',
        policy: { retries: 5, backoff: { strategy: 'fixed', delayMs: 250 }, timeoutMs: 10_000 },
        schedule: '0 3 * * *',
        concurrency: 4,
      },
    ]);
  });

  it('fills a task’s defaults into its policy', () => {
    const minimal = defineTask({ payload: v.object({}), run: () => undefined });
    const [described] = app([], [task({ default: minimal }, 'tasks/minimal.ts')]).tasks;
    expect(described).toMatchObject({ name: 'minimal', concurrency: 1, schedule: undefined });
    expect(described?.policy).toEqual({
      retries: 3,
      backoff: { strategy: 'exponential', delayMs: 1_000 },
      timeoutMs: 60_000,
    });
  });

  const badRoutes: [string, Record<string, unknown>, RegExp][] = [
    ['a missing summary', { default: { ...readNote, summary: '' } }, /needs a summary/],
    ['a plain object', { default: { summary: 'Plain', handle: () => 1 } }, /must be defineHandler\(/],
    ['no default export', { handler: readNote }, /must be defineHandler\(/],
    ['a task', { default: sendEmail }, /must be defineHandler\(/],
  ];
  it.each(badRoutes)('refuses a handler file with %s, naming the file', (_, module, problem) => {
    const described = app([route(module)]);
    expect(described.problems).toHaveLength(1);
    expect(described.problems[0]).toMatch(/^handlers\/notes\/\[id\]\.get\.ts: /);
    expect(described.problems[0]).toMatch(problem);
    expect(described.openapi).toEqual({});
  });

  const badTasks: [string, Record<string, unknown>, RegExp][] = [
    ['a handler', { default: readNote }, /must be defineTask\(\{ payload, run/],
    ['no payload schema', { default: { ...sendEmail, payload: undefined } }, /must be defineTask\(/],
    ['another named export', { default: sendEmail, helper: () => 1 }, /exports helper besides its default/],
    ['negative retries', { default: { ...sendEmail, retries: -1 } }, /retries must be a whole number/],
    ['fractional retries', { default: { ...sendEmail, retries: 1.5 } }, /retries must be a whole number/],
    [
      'zero concurrency',
      { default: { ...sendEmail, concurrency: 0 } },
      /concurrency must be a whole number of 1/,
    ],
    ['no timeout', { default: { ...sendEmail, timeoutMs: 0 } }, /timeoutMs must be a whole number/],
    [
      'an unknown backoff',
      { default: { ...sendEmail, backoff: { strategy: 'linear', delayMs: 10 } } },
      /backoff must be \{ strategy: 'immediate' \| 'fixed' \| 'exponential'/,
    ],
    [
      'a negative backoff delay',
      { default: { ...sendEmail, backoff: { strategy: 'fixed', delayMs: -5 } } },
      /backoff must be/,
    ],
    [
      'a bad cron schedule',
      { default: { ...sendEmail, schedule: 'every minute' } },
      /schedule "every minute" is not a cron expression/,
    ],
  ];
  it.each(badTasks)('refuses a task with %s, naming the file', (_, module, problem) => {
    const described = app([route({ default: readNote })], [task(module)]);
    expect(described.problems).toHaveLength(1);
    expect(described.problems[0]).toMatch(/^tasks\/send-email\.ts: /);
    expect(described.problems[0]).toMatch(problem);
  });

  it('lists every problem at once', () => {
    const described = app(
      [route({ default: { ...readNote, summary: '' } }), route({}, 'handlers/notes/index.get.ts')],
      [task({ default: { ...sendEmail, retries: -1, schedule: 'soon' } })],
    );
    expect(described.problems).toEqual([
      expect.stringMatching(/^handlers\/notes\/\[id\]\.get\.ts: .*summary/),
      expect.stringMatching(/^handlers\/notes\/index\.get\.ts: .*defineHandler/),
      expect.stringMatching(/^tasks\/send-email\.ts: retries/),
      expect.stringMatching(/^tasks\/send-email\.ts: schedule "soon"/),
    ]);
  });

  it('turns what OpenAPI cannot describe into a problem naming the file, not a throw', () => {
    const misnamed = defineHandler({
      summary: 'Reads one note',
      params: v.object({ noteId: v.string() }),
      handle: ({ params }) => params,
    });
    const described = app([route({ default: misnamed })]);
    expect(described.problems).toEqual(['handlers/notes/[id].get.ts: params noteId are not in /notes/:id']);
    expect(described.openapi).toEqual({});
  });
});
