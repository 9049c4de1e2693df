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
