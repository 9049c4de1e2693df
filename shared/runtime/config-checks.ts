import { isPlaceholderSecret } from './env-fields.ts';

/** Node refuses a headers timeout longer than the request's: say so at start, naming both. */
export function timeoutProblems(env: {
  HTTP_HEADERS_TIMEOUT_MS: number;
  HTTP_REQUEST_TIMEOUT_MS: number;
}): string[] {
  if (env.HTTP_HEADERS_TIMEOUT_MS <= env.HTTP_REQUEST_TIMEOUT_MS) return [];
  return [
    `HTTP_HEADERS_TIMEOUT_MS: must not be longer than HTTP_REQUEST_TIMEOUT_MS (${env.HTTP_HEADERS_TIMEOUT_MS} > ${env.HTTP_REQUEST_TIMEOUT_MS})`,
  ];
}

/** In production, the stores' passwords must be real secrets. */
export function productionProblems(env: Record<string, string | undefined>): string[] {
  if (env.APP_ENV !== 'production') return [];
  return ['POSTGRES_PASSWORD', 'RD_PASSWORD']
    .filter((name) => isPlaceholderSecret(env[name]))
    .map(
      (name) =>
        `${name}: must be set to a real secret when APP_ENV=production (got a placeholder or nothing)`,
    );
}

/**
 * Behind PgBouncer in transaction mode, LISTEN and the migrations' session lock need PostgreSQL itself: refuse
 * to start without its address rather than lose notifications through the pooler.
 */
export function poolerProblems(env: {
  PG_POOLER: string;
  PG_HOST: string;
  PG_PORT: number;
  PG_DIRECT_HOST?: string | undefined;
  PG_DIRECT_PORT?: number | undefined;
}): string[] {
  if (env.PG_POOLER !== 'transaction') return [];
  const host = env.PG_DIRECT_HOST ?? env.PG_HOST;
  const port = env.PG_DIRECT_PORT ?? env.PG_PORT;
  if (host !== env.PG_HOST || port !== env.PG_PORT) return [];
  return [
    'PG_DIRECT_HOST: is required with PG_POOLER=transaction: set PG_DIRECT_HOST (and PG_DIRECT_PORT) to PostgreSQL ' +
      `itself, not the pooler at ${env.PG_HOST}:${env.PG_PORT}, for LISTEN and migrations`,
  ];
}
