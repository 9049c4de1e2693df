import * as v from 'valibot';
import type { AppSettings } from './app.ts';
import { poolerProblems, productionProblems, timeoutProblems } from './config-checks.ts';
import { describeIssue } from './env-fields.ts';
import { type Env, EnvSchema } from './env-schema.ts';
import { withSecretFiles } from './secret-files.ts';

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

/**
 * An app's own settings: a valibot schema over the same environment (every variable a string, an empty one
 * left out), whose output handlers and tasks see as `settings`. Its problems are listed with the runtime's.
 */
export type SettingsSchema = v.GenericSchema<unknown, unknown>;

/** The runtime's configuration, typed and validated, with the app's settings beside it. */
export type Config = ReturnType<typeof shapeConfig> & { settings: AppSettings };

/**
 * Parses the environment (the process's, unless `env` is given) once, for the runtime and, with `settings`, for
 * the app; throws one ConfigError naming every bad or missing variable of both. This is the one module that
 * reads the process's environment.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  settings?: SettingsSchema,
): Config {
  // Compose and shells pass `VAR=` for an unset `${VAR:-}`: an empty value means not set.
  const { env: set, problems: fileProblems } = withSecretFiles(
    Object.fromEntries(
      Object.entries(env).filter(
        (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '',
      ),
    ),
  );
  const runtime = v.safeParse(EnvSchema, set, { abortPipeEarly: true });
  const app = settings ? v.safeParse(settings, set, { abortPipeEarly: true }) : undefined;
  const problems = [
    ...fileProblems,
    ...(runtime.success
      ? [...timeoutProblems(runtime.output), ...poolerProblems(runtime.output)]
      : runtime.issues.map(describeIssue)),
    ...(app && !app.success ? app.issues.map(describeIssue) : []),
    ...productionProblems(set),
  ];
  if (!runtime.success || (app && !app.success) || problems.length > 0) throw new ConfigError(problems);
  return { ...shapeConfig(runtime.output), settings: (app?.output ?? {}) as AppSettings };
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
      /** `transaction`: PG_HOST is PgBouncer in transaction mode, so no prepared statements go through it. */
      pooler: env.PG_POOLER,
      /** PostgreSQL itself, for what needs a session of its own: LISTEN and the migrations' advisory lock. */
      direct: { host: env.PG_DIRECT_HOST ?? env.PG_HOST, port: env.PG_DIRECT_PORT ?? env.PG_PORT },
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
      /** How many proxies in front append to X-Forwarded-For; the client is that many entries from the right. */
      trustProxy: env.TRUST_PROXY,
      /** Slow clients: headers must arrive within headersTimeoutMs, the whole request within requestTimeoutMs. */
      headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      metrics: { host: env.HTTP_METRICS_HOST, port: env.HTTP_METRICS_PORT },
      /** Origins whose pages may call the API (CORS); none unless set. */
      corsOrigins: env.CORS_ORIGINS.split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
      /** Every JSON answer checked against its documented schema: on outside production unless set. */
      checkResponses:
        env.CHECK_RESPONSES === undefined
          ? env.APP_ENV !== 'production'
          : env.CHECK_RESPONSES === 'true' || env.CHECK_RESPONSES === '1',
      inputLimits: {
        maxDepth: env.INPUT_MAX_DEPTH,
        maxArrayItems: env.INPUT_MAX_ARRAY_ITEMS,
        maxValues: env.INPUT_MAX_VALUES,
      },
    },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    /** How long the HTTP process fails readiness yet keeps serving after SIGTERM, for load balancers to notice. */
    shutdownDrainMs: env.SHUTDOWN_DRAIN_MS,
    enqueueTimeoutMs: env.ENQUEUE_TIMEOUT_MS,
    migrateOnStart: env.MIGRATE_ON_START,
    migrationsDir: env.MIGRATIONS_DIR,
    worker: {
      stallIntervalMs: env.WORKER_STALL_INTERVAL_MS,
      /** How long a run may ignore its timeout's signal before the worker counts it stuck (and exits). */
      timeoutGraceMs: env.TASK_TIMEOUT_GRACE_MS,
      heartbeatFile: env.WORKER_HEARTBEAT_FILE,
      metrics: { host: env.WORKER_METRICS_HOST, port: env.WORKER_METRICS_PORT },
      outboxPollIntervalMs: env.OUTBOX_POLL_INTERVAL_MS,
      scheduleOverrides: parseSchedules(env.TASK_SCHEDULES),
    },
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
