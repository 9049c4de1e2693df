import postgres, { type Sql } from 'postgres';
import { inject } from 'vitest';
import { type Config, loadConfig, type SettingsSchema } from '#runtime/config.ts';

/**
 * The configuration for this test run's database and Redis, with optional env overrides, and the app's
 * settings when its schema is given.
 */
export function testConfig(overrides: Record<string, string> = {}, settings?: SettingsSchema): Config {
  return loadConfig({ ...inject('env'), ...overrides }, settings);
}

/** A small postgres.js client on this run's database; the caller ends it in afterAll. */
export function testSql(): Sql {
  const { host, port, user, password, database } = testConfig().postgres;
  return postgres({ host, port, user, password, database, max: 2, onnotice: () => {} });
}

/** The run's configuration pointed at a Redis the test owns (a throwaway it may stop or restart). */
export function testConfigOnRedis(
  server: { host: string; port: number },
  overrides: Record<string, string> = {},
): Config {
  return testConfig(envOnRedis(server, overrides));
}

/** Env overrides that point the run's configuration at a Redis the test owns. */
export function envOnRedis(
  server: { host: string; port: number },
  overrides: Record<string, string> = {},
): Record<string, string> {
  return { RD_HOST: server.host, RD_PORT: String(server.port), RD_PASSWORD: '', ...overrides };
}
