import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type SettingsSchema } from '#runtime/config.ts';
import { wholeNumber } from '#runtime/env-fields.ts';
import { testConfig } from '../../support/context.ts';

const minimal = { PG_HOST: 'db', POSTGRES_USER: 'app', POSTGRES_DB: 'app', RD_HOST: 'cache' };

/** Settings of an app's own, as an app module declares them. */
const AppSettings = v.object({ SMTP_URL: v.optional(v.string()), LIMIT: wholeNumber(5, 1, 10) });

function configError(env: Record<string, string>, settings?: SettingsSchema): ConfigError {
  try {
    loadConfig(env, settings);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

describe('loadConfig', () => {
  it('parses a minimal environment, filling safe defaults', () => {
    const config = loadConfig(minimal);

    expect(config.env).toBe('development');
    expect(config.logLevel).toBe('info');
    expect(config.postgres).toEqual({
      host: 'db',
      port: 5432,
      user: 'app',
      password: '',
      database: 'app',
      poolMax: 10,
      pooler: 'none',
      direct: { host: 'db', port: 5432 },
    });
    expect(config.shutdownDrainMs).toBe(5_000);
    expect(config.redis).toEqual({ host: 'cache', port: 6379, password: undefined, db: 0, prefix: 'app' });
    expect(config.http).toEqual({
      host: '127.0.0.1',
      port: 3030,
      checkResponses: true,
      bodyLimitBytes: 1024 * 1024,
      trustProxy: 0,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      metrics: { host: '127.0.0.1', port: 9465 },
      corsOrigins: [],
      inputLimits: { maxDepth: 32, maxArrayItems: 1_000, maxValues: 100_000 },
    });
    expect(config.migrateOnStart).toBe(true);
  });

  it('turns numbers and flags from strings into values', () => {
    const config = loadConfig({
      ...minimal,
      PG_PORT: '6543',
      PG_POOL_MAX: '3',
      MIGRATE_ON_START: '0',
      RD_DB: '2',
    });

    expect(config.postgres.port).toBe(6543);
    expect(config.postgres.poolMax).toBe(3);
    expect(config.redis.db).toBe(2);
    expect(config.migrateOnStart).toBe(false);
  });

  it('behind PgBouncer in transaction mode, wants PostgreSQL itself for LISTEN and migrations', () => {
    const pooled = { ...minimal, PG_HOST: 'pgbouncer', PG_PORT: '6432', PG_POOLER: 'transaction' };
    expect(configError(pooled).problems).toEqual([
      expect.stringMatching(/^PG_DIRECT_HOST: is required with PG_POOLER=transaction: .*pgbouncer:6432/),
    ]);
    expect(loadConfig({ ...pooled, PG_DIRECT_HOST: 'db', PG_DIRECT_PORT: '5432' }).postgres).toMatchObject({
      host: 'pgbouncer',
      port: 6432,
      pooler: 'transaction',
      direct: { host: 'db', port: 5432 },
    });
    // The same host on another port is PostgreSQL itself beside its pooler.
    expect(loadConfig({ ...pooled, PG_DIRECT_PORT: '5432' }).postgres.direct).toEqual({
      host: 'pgbouncer',
      port: 5432,
    });
    expect(configError({ ...minimal, PG_POOLER: 'session', PG_DIRECT_PORT: 'x' }).problems).toEqual([
      expect.stringContaining('PG_POOLER: must be none or transaction'),
      expect.stringContaining('PG_DIRECT_PORT: must be a whole number'),
    ]);
  });

  it('reports every bad or missing variable in one ConfigError', () => {
    const { PG_HOST: _missing, ...rest } = minimal;

    const error = configError({ ...rest, PG_PORT: 'five', AP_PORT: '70000', APP_ENV: 'staging' });

    expect(error.problems).toHaveLength(4);
    expect(error.message).toMatch(/^Invalid configuration \(4 problems\)/);
    expect(error.message).toMatch(/PG_HOST: .*\(it is not set\)/);
    expect(error.message).toContain('PG_PORT: must be a whole number (got "five")');
    expect(error.message).toContain('AP_PORT: must be between 1 and 65535 (got 70000)');
    expect(error.message).toContain('APP_ENV: must be development, test or production (got "staging")');
  });

  it('refuses placeholder secrets in production, naming each', () => {
    const error = configError({
      ...minimal,
      APP_ENV: 'production',
      POSTGRES_PASSWORD: 'change-me',
      RD_PASSWORD: '',
    });

    expect(error.problems).toHaveLength(2);
    expect(error.message).toMatch(/POSTGRES_PASSWORD: must be set to a real secret when APP_ENV=production/);
    expect(error.message).toMatch(/RD_PASSWORD: must be set to a real secret when APP_ENV=production/);
  });

  it('treats an empty variable as unset, as compose passes for an unset default', () => {
    const config = loadConfig({ ...minimal, SMTP_URL: '', AP_PORT: '', RD_PASSWORD: '' }, AppSettings);
    expect(config.settings).toEqual({ SMTP_URL: undefined, LIMIT: 5 });
    expect(config.http.port).toBe(3030);
    expect(configError({ ...minimal, PG_HOST: '' }).message).toMatch(/PG_HOST: is required/);
  });

  it("refuses the compose file's local default passwords in production", () => {
    const error = configError({
      ...minimal,
      APP_ENV: 'production',
      POSTGRES_PASSWORD: 'local-only-password',
      RD_PASSWORD: 'local-only-password',
    });
    expect(error.problems).toHaveLength(2);
  });

  it('accepts real secrets in production', () => {
    const config = loadConfig({
      ...minimal,
      APP_ENV: 'production',
      POSTGRES_PASSWORD: 'pg-9f3k',
      RD_PASSWORD: 'rd-2j8q',
    });

    expect(config.env).toBe('production');
    expect(config.redis.password).toBe('rd-2j8q');
  });

  it('checks answers against their schemas outside production unless CHECK_RESPONSES says otherwise', () => {
    const production = {
      ...minimal,
      APP_ENV: 'production',
      POSTGRES_PASSWORD: 'pg-9f3k',
      RD_PASSWORD: 'rd-2j8q',
    };
    expect(loadConfig(minimal).http.checkResponses).toBe(true);
    expect(loadConfig({ ...minimal, APP_ENV: 'test' }).http.checkResponses).toBe(true);
    expect(loadConfig(production).http.checkResponses).toBe(false);
    expect(loadConfig({ ...production, CHECK_RESPONSES: 'true' }).http.checkResponses).toBe(true);
    expect(loadConfig({ ...minimal, CHECK_RESPONSES: 'false' }).http.checkResponses).toBe(false);
    expect(configError({ ...minimal, CHECK_RESPONSES: 'sometimes' }).message).toContain(
      'CHECK_RESPONSES: must be true or false',
    );
  });

  it("validates the app's settings with the runtime's, listing every problem of both in one message", () => {
    const { PG_HOST: _missing, ...rest } = minimal;
    const error = configError({ ...rest, LIMIT: 'lots' }, AppSettings);
    expect(error.problems).toHaveLength(2);
    expect(error.message).toMatch(/PG_HOST: .*\(it is not set\)/);
    expect(error.message).toContain('LIMIT: must be a whole number (got "lots")');
  });

  it('gives the app the output of its settings schema, and the runtime none of its variables', () => {
    const config = loadConfig({ ...minimal, LIMIT: '7', SMTP_URL: 'smtp://mail' }, AppSettings);
    expect(config.settings).toEqual({ SMTP_URL: 'smtp://mail', LIMIT: 7 });
    expect(JSON.stringify({ ...config, settings: undefined })).not.toContain('smtp://mail');
    expect(loadConfig(minimal).settings).toEqual({});
  });

  it('never echoes a value that may be a secret, saying only that it was refused', () => {
    const Settings = v.object({
      SMTP_URL: v.pipe(v.string(), v.regex(/^smtps?:\/\//, 'must start with smtp://')),
    });
    const error = configError(
      { ...minimal, PG_PORT: 'nope', SMTP_URL: 'http://user:hunter2@mail' },
      Settings,
    );
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toContain(
      'SMTP_URL: must start with smtp:// (got a value of 24 characters, not shown',
    );
    expect(error.message).toContain('PG_PORT: must be a whole number (got "nope")');
  });

  it('loads the environment the test harness provides', () => {
    const config = testConfig();

    expect(config.env).toBe('test');
    expect(config.logLevel).toBe('silent');
    expect(config.migrateOnStart).toBe(false);
    expect(config.postgres.database).toMatch(/^test_\d+_[0-9a-f]+$/);
    expect(config.redis.prefix).toMatch(/^test[0-9a-f]+$/);
  });
});
