import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import type * as v from 'valibot';
import type { Enqueue } from './jobs/task.ts';

/**
 * The app's settings, as its handlers and tasks see them (`ctx.settings`). Empty in the runtime; an app fills
 * it in by module augmentation from its app module (see defineApp), as Hono's ContextVariableMap is filled.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the app through declaration merging
export interface AppSettings {}

/** What the app adds to every handler's and task's context (a keyring, a mailer), filled in like AppSettings. */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the app through declaration merging
export interface AppServices {}

/** What every request's and job's context holds, and every auth check can reach. */
export type Services = {
  sql: Sql;
  redis: Redis;
  /** Request- or job-scoped. */
  log: Logger;
  enqueue: Enqueue;
  settings: AppSettings;
} & AppServices;

/** Which bundle a process runs: app services may differ by process (only the HTTP one signs tokens). */
export type ProcessKind = 'http' | 'worker';

/** What an app's `services` factory is given. */
export type ServiceContext<Settings> = {
  settings: Settings;
  log: Logger;
  process: ProcessKind;
  appEnv: 'development' | 'test' | 'production';
};

/**
 * The OpenAPI document's `info` (contact and license too), `servers` and tag descriptions; the title and version come from the app's
 * package.json when unset, the servers are `[{ url: '/' }]` (relative to where the document is served).
 */
export type ApiInfo = {
  title?: string;
  version?: string;
  description?: string;
  servers?: { url: string; description?: string }[];
  contact?: { name?: string; url?: string; email?: string };
  license?: { name: string; identifier?: string; url?: string };
  /** What each tag groups, by tag name (a handler's `tags`, or the first segment of its path). */
  tags?: Record<string, string>;
};

/**
 * What an app adds to the runtime, in one module (`shared/app.ts`), without editing the runtime: its own
 * settings (validated with the runtime's, in one message), its services, and its API's title.
 */
export type AppModule<Settings = unknown, Extra = unknown> = {
  settings?: v.GenericSchema<unknown, Settings>;
  /**
   * Makes the app's services once per process, after the configuration is known. (A method, so that any app
   * module is an AppModule whatever its settings.)
   */
  services?(context: ServiceContext<Settings>): Promise<Extra>;
  api?: ApiInfo;
};

/**
 * Declares the app module. Make its settings and services typed everywhere with:
 * `declare module '#runtime/app.ts' { interface AppSettings extends SettingsOf<typeof app> {} ... }`.
 */
export function defineApp<Settings = Record<string, never>, Extra = Record<string, never>>(
  app: AppModule<Settings, Extra>,
): AppModule<Settings, Extra> {
  return app;
}

/** The settings an app module declares. */
export type SettingsOf<App> = App extends { settings?: v.GenericSchema<unknown, infer Settings> }
  ? Settings
  : never;

/** The services an app module adds. */
export type ServicesOf<App> = App extends { services?: (context: never) => Promise<infer Extra> }
  ? Extra
  : never;
