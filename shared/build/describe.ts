import { Cron } from 'croner';
import type { AppModule } from '../runtime/app.ts';
import type { AnyHandler } from '../runtime/http/handler.ts';
import { type JobPolicy, jobPolicy, type TaskDefinition } from '../runtime/jobs/task.ts';
import { openApiDocument } from './openapi.ts';

type Loaded = { file: string; module: Record<string, unknown> };
export type LoadedRoute = Loaded & { method: string; path: string };
export type LoadedTask = Loaded & { name: string };

/** What the build learns by loading every handler and task once: the API document and each task's policy. */
export type AppDescription = {
  problems: string[];
  openapi: Record<string, unknown>;
  tasks: { name: string; file: string; policy: JobPolicy; schedule?: string; concurrency: number }[];
};

/**
 * Checks that each file default-exports the right definition, and describes the app from those definitions.
 * Runs inside a throwaway bundle at build time, so mistakes surface then, each naming its file.
 */
export function describeApp(input: {
  app: unknown;
  package: { name?: string; version?: string; description?: string };
  routes: LoadedRoute[];
  tasks: LoadedTask[];
}): AppDescription {
  const problems: string[] = [...appProblems(input.app)];
  const api = (input.app as AppModule | undefined)?.api ?? {};
  const routes = [];
  for (const route of input.routes) {
    const definition = route.module.default as AnyHandler | undefined;
    if (definition?.kind !== 'handler' || typeof definition.handle !== 'function') {
      problems.push(`${route.file}: the default export must be defineHandler({ summary, handle, ... })`);
      continue;
    }
    if (!definition.summary)
      problems.push(`${route.file}: the handler needs a summary (it documents the route)`);
    routes.push({ method: route.method, path: route.path, file: route.file, definition });
  }

  const tasks = [];
  for (const task of input.tasks) {
    const definition = task.module.default as TaskDefinition | undefined;
    if (definition?.kind !== 'task' || typeof definition.run !== 'function' || !definition.payload) {
      problems.push(`${task.file}: the default export must be defineTask({ payload, run, ... })`);
      continue;
    }
    const extra = Object.keys(task.module).filter((key) => key !== 'default');
    if (extra.length > 0) {
      problems.push(
        `${task.file}: exports ${extra.join(', ')} besides its default; the HTTP bundle replaces task modules with ` +
          'a reference, so move shared code to a _-prefixed file or shared/',
      );
    }
    problems.push(...policyProblems(task.file, definition));
    tasks.push({ name: task.name, file: task.file, definition });
  }

  let openapi: Record<string, unknown> = {};
  if (problems.length === 0) {
    // The document's own checks (params not in the path, clashing templates) name their files too, so they
    // belong in the same list rather than escaping as a stack trace.
    try {
      openapi = openApiDocument({
        title: api.title ?? input.package.name ?? 'API',
        version: api.version ?? input.package.version ?? '0.0.0',
        description: api.description ?? input.package.description,
        servers: api.servers,
        tags: api.tags,
        contact: api.contact,
        license: api.license,
        routes,
        tasks,
      });
    } catch (error) {
      problems.push(...(error as Error).message.split('\n'));
    }
  }

  return {
    problems,
    openapi,
    tasks: tasks.map(({ name, definition }) => ({
      name,
      file: input.tasks.find((task) => task.name === name)?.file ?? name,
      policy: jobPolicy(definition),
      schedule: definition.schedule,
      concurrency: definition.concurrency,
    })),
  };
}

/** The app module (shared/app.ts) default-exports defineApp({ settings?, services?, api? }). */
function appProblems(app: unknown): string[] {
  const module = app as Record<string, unknown> | undefined;
  const where = 'shared/app.ts';
  if (typeof module !== 'object' || module === null) {
    return [`${where}: the default export must be defineApp({ settings, services, api })`];
  }
  const problems: string[] = [];
  const settings = module.settings as { kind?: unknown } | undefined;
  if (settings !== undefined && settings?.kind !== 'schema') {
    problems.push(`${where}: settings must be a valibot schema of the environment, e.g. v.object({ ... })`);
  }
  if (module.services !== undefined && typeof module.services !== 'function') {
    problems.push(`${where}: services must be a function returning the app's services`);
  }
  return problems;
}

function policyProblems(file: string, task: TaskDefinition): string[] {
  const problems: string[] = [];
  const whole = (value: number, min: number) => Number.isInteger(value) && value >= min;
  if (!whole(task.retries, 0)) problems.push(`${file}: retries must be a whole number of 0 or more`);
  if (!whole(task.concurrency, 1)) problems.push(`${file}: concurrency must be a whole number of 1 or more`);
  if (!whole(task.timeoutMs, 1)) problems.push(`${file}: timeoutMs must be a whole number of milliseconds`);
  if (
    !['immediate', 'fixed', 'exponential'].includes(task.backoff?.strategy) ||
    !whole(task.backoff.delayMs, 0)
  ) {
    problems.push(
      `${file}: backoff must be { strategy: 'immediate' | 'fixed' | 'exponential', delayMs: >= 0 }`,
    );
  }
  if (task.schedule !== undefined) {
    try {
      new Cron(task.schedule, { paused: true }).stop();
    } catch (error) {
      problems.push(
        `${file}: schedule "${task.schedule}" is not a cron expression: ${(error as Error).message}`,
      );
    }
  }
  return problems;
}
