import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { defineApp } from '#runtime/app.ts';
import { composeRuntime } from '#runtime/compose.ts';
import { taskRef } from '#runtime/jobs/task.ts';
import { captureLog } from '../../support/app.ts';
import { testConfig } from '../../support/context.ts';

const Settings = v.object({ GREETING: v.optional(v.string(), 'hello') });

describe('composeRuntime', () => {
  it("gives handlers and tasks the runtime's services, the app's settings and the app's services", async () => {
    const seen: unknown[] = [];
    const app = defineApp({
      settings: Settings,
      services: async (context) => {
        seen.push(context.settings, context.process, context.appEnv);
        return { greet: (name: string) => `${context.settings.GREETING} ${name}` };
      },
    });
    const config = testConfig({ GREETING: 'hi' }, app.settings);
    const runtime = await composeRuntime({ app, config, process: 'worker', log: captureLog().log });
    try {
      const services = runtime.services as typeof runtime.services & { greet(name: string): string };
      expect(seen).toEqual([{ GREETING: 'hi' }, 'worker', 'test']);
      expect(services.greet('you')).toBe('hi you');
      expect(Object.keys(services).sort()).toEqual(['enqueue', 'greet', 'log', 'redis', 'settings', 'sql']);
      // The runtime's configuration, with its passwords, is not among them.
      expect(JSON.stringify(services.settings)).not.toContain(config.postgres.database);
      expect(await services.redis.ping()).toBe('PONG');
      expect(await services.sql`select 1 as one`).toEqual([{ one: 1 }]);
    } finally {
      await runtime.close();
    }
  });

  it("keeps the runtime's own services when an app service has the same name", async () => {
    const app = defineApp({ services: async () => ({ sql: 'not a pool' }) });
    const runtime = await composeRuntime({
      app,
      config: testConfig(),
      process: 'http',
      log: captureLog().log,
    });
    try {
      expect(typeof runtime.services.sql).toBe('function');
    } finally {
      await runtime.close();
    }
  });

  it('makes the queues of a runtime composed without tasks (the HTTP bundle) on its first enqueue', async () => {
    const runtime = await composeRuntime({
      app: {},
      config: testConfig(),
      process: 'http',
      log: captureLog().log,
    });
    try {
      expect(() => runtime.queues).toThrow(/made on its first enqueue/);
      const task = taskRef<{ n: number }>('compose-first-enqueue', {
        retries: 0,
        backoff: { strategy: 'immediate', delayMs: 0 },
        timeoutMs: 1_000,
      });
      const [first, second] = await Promise.all([
        runtime.services.enqueue(task, { n: 1 }),
        runtime.services.enqueue(task, { n: 2 }),
      ]);
      const queue = runtime.queues.producer('compose-first-enqueue');
      expect((await queue.getJob(first.id)).data.payload).toEqual({ n: 1 });
      expect((await queue.getJob(second.id)).data.payload).toEqual({ n: 2 });
      await queue.removeJob(first.id);
      await queue.removeJob(second.id);
    } finally {
      await runtime.close();
    }
  });

  it('has the queues from the start when composed with tasks (the worker)', async () => {
    const runtime = await composeRuntime({
      app: {},
      config: testConfig(),
      process: 'worker',
      log: captureLog().log,
      tasks: [],
    });
    try {
      expect(runtime.queues.prefix).toBe(runtime.config.redis.prefix);
    } finally {
      await runtime.close();
    }
  });

  it('closes what it opened and passes the error on when the app cannot make its services', async () => {
    const app = defineApp({
      services: async () => {
        throw new Error('no key in production');
      },
    });
    await expect(
      composeRuntime({ app, config: testConfig(), process: 'http', log: captureLog().log }),
    ).rejects.toThrow('no key in production');
  });
});
