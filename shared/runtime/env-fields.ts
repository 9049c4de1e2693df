import * as v from 'valibot';

/**
 * Schemas for one environment variable each, for the runtime's configuration and an app's settings alike.
 * Every variable arrives as a string (or not at all); these turn it into the value, with a message that says
 * what a good value looks like.
 */

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

/** A TCP port, `fallback` when unset. */
export const port = (fallback: number) =>
  v.pipe(
    v.optional(v.string(), String(fallback)),
    v.regex(/^\d+$/, 'must be a whole number'),
    v.transform(Number),
    v.integer(),
    v.minValue(1, 'must be between 1 and 65535'),
    v.maxValue(65535, 'must be between 1 and 65535'),
  );

/** A whole number from `min` to `max`, `fallback` when unset. */
export const wholeNumber = (fallback: number, min: number, max: number) =>
  v.pipe(
    v.optional(v.string(), String(fallback)),
    v.regex(/^\d+$/, 'must be a whole number'),
    v.transform(Number),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  );

/** `true`/`1` or `false`/`0`, `fallback` when unset. */
export const flag = (fallback: boolean) =>
  v.pipe(
    v.optional(v.picklist(['true', 'false', '1', '0'], 'must be true or false'), fallback ? 'true' : 'false'),
    v.transform((value) => value === 'true' || value === '1'),
  );

/** A value that must be set; `what` says what it is, for the message when it is not. */
export const required = (what: string) =>
  v.pipe(v.string(`is required: ${what}`), v.minLength(1, `is required: ${what}`));

/** True for a value nobody should run production with: empty, or a well-known placeholder. */
export function isPlaceholderSecret(value: string | undefined): boolean {
  return PLACEHOLDER_SECRETS.has((value ?? '').toLowerCase());
}

/** Variables whose values may hold a secret (a password, or credentials inside a URL): never echoed. */
const SECRET_NAME = /PASSWORD|SECRET|TOKEN|KEY|URL|DSN/i;

/** One line for a variable that failed its schema: its name, what is wrong, and what it got (unless secret). */
export function describeIssue(issue: v.BaseIssue<unknown>): string {
  const name = issue.path?.map((item) => String(item.key)).join('.') ?? '(environment)';
  const got =
    issue.input === undefined
      ? 'it is not set'
      : SECRET_NAME.test(name)
        ? `got a value of ${String(issue.input).length} characters, not shown since it may be a secret`
        : `got ${JSON.stringify(issue.input)}`;
  return `${name}: ${issue.message.replace(/^Invalid (type|key): .*$/, 'is required')} (${got})`;
}
