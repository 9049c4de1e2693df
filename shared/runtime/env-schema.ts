import * as v from 'valibot';
import { flag, port, required, wholeNumber } from './env-fields.ts';

/**
 * The runtime's environment variables, each with its default and the message for a bad value. config.ts parses
 * the process's environment with it (and nothing else reads this schema's input).
 */
export const EnvSchema = v.object({
  APP_ENV: v.optional(
    v.picklist(['development', 'test', 'production'], 'must be development, test or production'),
    'development',
  ),
  LOG_LEVEL: v.optional(
    v.picklist(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'must be a pino level'),
    'info',
  ),
  PG_HOST: required('the PostgreSQL host name'),
  PG_PORT: port(5432),
  POSTGRES_USER: required('the PostgreSQL user'),
  POSTGRES_PASSWORD: v.optional(v.string(), ''),
  POSTGRES_DB: required('the PostgreSQL database name'),
  PG_POOL_MAX: wholeNumber(10, 1, 1000),
  PG_POOLER: v.optional(
    v.picklist(['none', 'transaction'], 'must be none or transaction (PgBouncer in transaction pool mode)'),
    'none',
  ),
  PG_DIRECT_HOST: v.optional(v.string()),
  // No default of its own: unset, it is PG_PORT (see shapeConfig).
  PG_DIRECT_PORT: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d+$/, 'must be a whole number'),
      v.transform(Number),
      v.minValue(1, 'must be between 1 and 65535'),
      v.maxValue(65535, 'must be between 1 and 65535'),
    ),
  ),
  RD_HOST: required('the Redis host name'),
  RD_PORT: port(6379),
  RD_PASSWORD: v.optional(v.string(), ''),
  RD_DB: wholeNumber(0, 0, 15),
  RD_PREFIX: v.pipe(
    v.optional(v.string(), 'app'),
    v.regex(/^[A-Za-z0-9_.:-]+$/, 'may hold only letters, digits and _ . : -'),
  ),
  AP_HOST: v.optional(v.string(), '127.0.0.1'),
  AP_PORT: port(3030),
  BODY_LIMIT_BYTES: wholeNumber(1024 * 1024, 1, 1024 * 1024 * 1024),
  HTTP_HEADERS_TIMEOUT_MS: wholeNumber(10_000, 100, 15_000),
  HTTP_REQUEST_TIMEOUT_MS: wholeNumber(30_000, 100, 3_600_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: wholeNumber(5_000, 100, 600_000),
  HTTP_METRICS_HOST: v.optional(v.string(), '127.0.0.1'),
  CORS_ORIGINS: v.pipe(
    v.optional(v.string(), ''),
    v.regex(
      /^(\*|https?:\/\/[^\s,/]+)?(\s*,\s*https?:\/\/[^\s,/]+)*$/,
      'must be * or origins separated by commas, each scheme://host[:port], e.g. https://app.example.com',
    ),
  ),
  HTTP_METRICS_PORT: port(9465),
  CHECK_RESPONSES: v.optional(v.picklist(['true', 'false', '1', '0'], 'must be true or false')),
  INPUT_MAX_DEPTH: wholeNumber(32, 1, 1_000),
  INPUT_MAX_ARRAY_ITEMS: wholeNumber(1_000, 1, 10_000_000),
  INPUT_MAX_VALUES: wholeNumber(100_000, 1, 100_000_000),
  SHUTDOWN_TIMEOUT_MS: wholeNumber(10_000, 0, 600_000),
  SHUTDOWN_DRAIN_MS: wholeNumber(5_000, 0, 600_000),
  ENQUEUE_TIMEOUT_MS: wholeNumber(2_000, 50, 60_000),
  MIGRATE_ON_START: flag(true),
  MIGRATIONS_DIR: v.optional(v.string()),
  WORKER_STALL_INTERVAL_MS: wholeNumber(5_000, 500, 600_000),
  TASK_TIMEOUT_GRACE_MS: wholeNumber(30_000, 0, 3_600_000),
  WORKER_HEARTBEAT_FILE: v.optional(v.string(), '/tmp/worker-heartbeat.json'),
  WORKER_METRICS_HOST: v.optional(v.string(), '127.0.0.1'),
  WORKER_METRICS_PORT: port(9464),
  OUTBOX_POLL_INTERVAL_MS: wholeNumber(1_000, 50, 3_600_000),
  TASK_SCHEDULES: v.pipe(
    v.optional(v.string(), ''),
    v.regex(
      /^(\s*[a-z0-9/-]+=[^;=]+)?(;\s*[a-z0-9/-]+=[^;=]+)*;?\s*$/,
      'must look like task-name=cron;other-task=cron',
    ),
  ),
  TRUST_PROXY: v.pipe(
    v.optional(v.string(), '0'),
    v.regex(
      /^\d$/,
      'must be how many proxies stand in front of the app, 0 to 9 (0: none; true/false are gone)',
    ),
    v.transform(Number),
  ),
});

export type Env = v.InferOutput<typeof EnvSchema>;
