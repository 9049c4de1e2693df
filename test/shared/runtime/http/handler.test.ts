import * as v from 'valibot';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { defineAuth, defineHandler } from '#runtime/http/handler.ts';
import { defineTask } from '#runtime/jobs/task.ts';

const auth = defineAuth({
  name: 'test',
  openapi: { type: 'http', scheme: 'bearer' },
  authenticate: async () => ({ sub: 'u1', roles: ['admin'] as string[] }),
});

const task = defineTask({ payload: v.object({ noteId: v.string() }), run: () => undefined });

describe('defineHandler', () => {
  it('types ctx from the schemas and the auth scheme', () => {
    const handler = defineHandler({
      summary: 'typed',
      auth,
      params: v.object({ id: v.pipe(v.string(), v.uuid()) }),
      query: v.object({ limit: v.pipe(v.string(), v.toNumber()) }),
      body: v.object({ title: v.string(), tags: v.optional(v.array(v.string())) }),
      handle(ctx) {
        expectTypeOf(ctx.params).toEqualTypeOf<{ id: string }>();
        expectTypeOf(ctx.query).toEqualTypeOf<{ limit: number }>();
        expectTypeOf(ctx.body).toEqualTypeOf<{ title: string; tags?: string[] | undefined }>();
        expectTypeOf(ctx.user).toEqualTypeOf<{ sub: string; roles: string[] }>();
        expectTypeOf(ctx.headers).toEqualTypeOf<undefined>();
        // @ts-expect-error the payload must match the task's schema
        ctx.enqueue(task, { noteId: 42 });
        return ctx.enqueue(task, { noteId: ctx.params.id });
      },
    });
    expect(handler.kind).toBe('handler');
    expect(handler.summary).toBe('typed');
  });

  it('gives undefined for inputs a handler does not declare', () => {
    const handler = defineHandler({
      summary: 'bare',
      handle(ctx) {
        expectTypeOf(ctx.params).toEqualTypeOf<undefined>();
        expectTypeOf(ctx.body).toEqualTypeOf<undefined>();
        expectTypeOf(ctx.user).toEqualTypeOf<undefined>();
        return null;
      },
    });
    expect(handler.kind).toBe('handler');
  });
});

describe('defineTask', () => {
  it('fills safe defaults and keeps what the task says', () => {
    expect(task).toMatchObject({ kind: 'task', retries: 3, timeoutMs: 60_000, concurrency: 1 });
    expect(task.backoff).toEqual({ strategy: 'exponential', delayMs: 1_000 });
    const custom = defineTask({ payload: v.object({}), retries: 0, concurrency: 4, run: () => undefined });
    expect(custom).toMatchObject({ retries: 0, concurrency: 4 });
  });
});
