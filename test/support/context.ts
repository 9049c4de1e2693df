import postgres, { type Sql } from 'postgres';
import { inject } from 'vitest';
import { type Config, loadConfig } from '#runtime/config.ts';

/** The app's configuration for this test run's database and Redis, with optional env overrides. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ ...inject('env'), ...overrides });
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
  return testConfig({ RD_HOST: server.host, RD_PORT: String(server.port), RD_PASSWORD: '', ...overrides });
}
