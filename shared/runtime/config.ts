import * as v from 'valibot';

/** Raised when the environment cannot be turned into a valid configuration; lists every problem at once. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}). ` +
        `Set these environment variables (see .env.example):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

const PLACEHOLDER_SECRETS = new Set([
  '',
  'change-me',
  'changeme',
  'password',
  'postgres',
  'secret',
  'example',
  'local-only-password',
]);

const port = (fallback: number) =>
  v.pipe(
    v.optional(v.string(), String(fallback)),
    v.regex(/^\d+$/, 'must be a whole number'),
    v.transform(Number),
    v.integer(),
    v.minValue(1, 'must be between 1 and 65535'),
    v.maxValue(65535, 'must be between 1 and 65535'),
  );

const wholeNumber = (fallback: number, min: number, max: number) =>
  v.pipe(
    v.optional(v.string(), String(fallback)),
    v.regex(/^\d+$/, 'must be a whole number'),
    v.transform(Number),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  );

const flag = (fallback: boolean) =>
  v.pipe(
    v.optional(v.picklist(['true', 'false', '1', '0'], 'must be true or false'), fallback ? 'true' : 'false'),
    v.transform((value) => value === 'true' || value === '1'),
  );

const required = (what: string) =>
  v.pipe(v.string(`is required: ${what}`), v.minLength(1, `is required: ${what}`));

const EnvSchema = v.object({
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
  SHUTDOWN_TIMEOUT_MS: wholeNumber(10_000, 0, 600_000),
  ENQUEUE_TIMEOUT_MS: wholeNumber(2_000, 50, 60_000),
  MIGRATE_ON_START: flag(true),
  MIGRATIONS_DIR: v.optional(v.string()),
  WORKER_STALL_INTERVAL_MS: wholeNumber(5_000, 500, 600_000),
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
  KEYS_DIR: v.optional(v.string()),
  JWT_ISSUER: v.optional(v.pipe(v.string(), v.minLength(1)), 'handler-kit'),
  JWT_AUDIENCE: v.optional(v.pipe(v.string(), v.minLength(1)), 'handler-kit-api'),
  ACCESS_TOKEN_TTL_SECONDS: wholeNumber(900, 60, 86_400),
  REFRESH_TOKEN_TTL_SECONDS: wholeNumber(30 * 86_400, 300, 365 * 86_400),
  PASSWORD_SCRYPT_N: v.pipe(
    wholeNumber(2 ** 17, 2 ** 10, 2 ** 20),
    v.check((n) => (n & (n - 1)) === 0, 'must be a power of two, e.g. 131072'),
  ),
  LOGIN_ATTEMPTS_PER_MINUTE: wholeNumber(5, 1, 1_000),
  TRUST_PROXY: flag(false),
  SMTP_URL: v.optional(v.pipe(v.string(), v.regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://'))),
  MAIL_FROM: v.optional(v.string(), 'handler-kit <no-reply@localhost>'),
});

type Env = v.InferOutput<typeof EnvSchema>;

/** The whole runtime configuration, typed and validated. */
export type Config = ReturnType<typeof shapeConfig>;

/** Parses the environment once; throws a ConfigError naming every bad or missing variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Compose and shells pass `VAR=` for an unset `${VAR:-}`: an empty value means not set.
  const set = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = v.safeParse(EnvSchema, set, { abortPipeEarly: true });
  const problems = [...(result.success ? [] : result.issues.map(describeIssue)), ...productionProblems(set)];
  if (!result.success || problems.length > 0) throw new ConfigError(problems);
  return shapeConfig(result.output);
}

function shapeConfig(env: Env) {
  return {
    env: env.APP_ENV,
    logLevel: env.LOG_LEVEL,
    postgres: {
      host: env.PG_HOST,
      port: env.PG_PORT,
      user: env.POSTGRES_USER,
      password: env.POSTGRES_PASSWORD,
      database: env.POSTGRES_DB,
      poolMax: env.PG_POOL_MAX,
    },
    redis: {
      host: env.RD_HOST,
      port: env.RD_PORT,
      password: env.RD_PASSWORD || undefined,
      db: env.RD_DB,
      prefix: env.RD_PREFIX,
    },
    http: {
      host: env.AP_HOST,
      port: env.AP_PORT,
      bodyLimitBytes: env.BODY_LIMIT_BYTES,
    },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    enqueueTimeoutMs: env.ENQUEUE_TIMEOUT_MS,
    migrateOnStart: env.MIGRATE_ON_START,
    migrationsDir: env.MIGRATIONS_DIR,
    worker: {
      stallIntervalMs: env.WORKER_STALL_INTERVAL_MS,
      heartbeatFile: env.WORKER_HEARTBEAT_FILE,
      metrics: { host: env.WORKER_METRICS_HOST, port: env.WORKER_METRICS_PORT },
      outboxPollIntervalMs: env.OUTBOX_POLL_INTERVAL_MS,
      scheduleOverrides: parseSchedules(env.TASK_SCHEDULES),
    },
    auth: {
      keysDir: env.KEYS_DIR,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: env.REFRESH_TOKEN_TTL_SECONDS,
      scrypt: { N: env.PASSWORD_SCRYPT_N, r: 8, p: 1 },
      loginAttemptsPerMinute: env.LOGIN_ATTEMPTS_PER_MINUTE,
      trustProxy: env.TRUST_PROXY,
    },
    mail: { smtpUrl: env.SMTP_URL, from: env.MAIL_FROM },
  };
}

/** `a=* * * * *;b=0 * * * *` → Map { a → '* * * * *', b → '0 * * * *' } */
function parseSchedules(text: string): Map<string, string> {
  const pairs = text
    .split(';')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => pair.split('=').map((part) => part.trim()) as [string, string]);
  return new Map(pairs);
}

function productionProblems(env: Record<string, string | undefined>): string[] {
  if (env.APP_ENV !== 'production') return [];
  return ['POSTGRES_PASSWORD', 'RD_PASSWORD']
    .filter((name) => PLACEHOLDER_SECRETS.has((env[name] ?? '').toLowerCase()))
    .map(
      (name) =>
        `${name}: must be set to a real secret when APP_ENV=production (got a placeholder or nothing)`,
    );
}

function describeIssue(issue: v.BaseIssue<unknown>): string {
  const name = issue.path?.map((item) => String(item.key)).join('.') ?? '(environment)';
  const got = issue.input === undefined ? 'it is not set' : `got ${JSON.stringify(issue.input)}`;
  return `${name}: ${issue.message.replace(/^Invalid (type|key): .*$/, 'is required')} (${got})`;
}
