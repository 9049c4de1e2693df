import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import * as v from 'valibot';
import { defineApp, type ServicesOf, type SettingsOf } from '#runtime/app.ts';
import { wholeNumber } from '#runtime/env-fields.ts';
import { loadKeyring } from './keys.ts';
import type { Mailer, MailSettings } from './mailer.ts';
import { createPasswordHasher } from './password.ts';

/** The reference app's own environment variables, validated with the runtime's (see README, Configuration). */
const Settings = v.pipe(
  v.object({
    KEYS_DIR: v.optional(v.string()),
    KEYS_RELOAD_MS: v.pipe(
      wholeNumber(30_000, 0, 3_600_000),
      v.check((ms) => ms === 0 || ms >= 100, 'must be 0 (read the keys at start only) or at least 100'),
    ),
    JWT_ISSUER: v.optional(v.pipe(v.string(), v.minLength(1)), 'handler-kit'),
    JWT_AUDIENCE: v.optional(v.pipe(v.string(), v.minLength(1)), 'handler-kit-api'),
    ACCESS_TOKEN_TTL_SECONDS: wholeNumber(900, 60, 86_400),
    REFRESH_TOKEN_TTL_SECONDS: wholeNumber(30 * 86_400, 300, 365 * 86_400),
    SESSION_MAX_AGE_SECONDS: wholeNumber(90 * 86_400, 300, 365 * 86_400),
    PASSWORD_SCRYPT_N: v.pipe(
      wholeNumber(2 ** 17, 2 ** 10, 2 ** 20),
      v.check((n) => (n & (n - 1)) === 0, 'must be a power of two, e.g. 131072'),
    ),
    PASSWORD_HASH_CONCURRENCY: wholeNumber(1, 1, 64),
    LOGIN_ATTEMPTS_PER_MINUTE: wholeNumber(5, 1, 1_000),
    LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE: wholeNumber(20, 1, 100_000),
    REGISTER_ATTEMPTS_PER_HOUR: wholeNumber(10, 1, 100_000),
    SMTP_URL: v.optional(v.pipe(v.string(), v.regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://'))),
    MAIL_FROM: v.optional(v.string(), 'handler-kit <no-reply@localhost>'),
    NOTE_MAX_BYTES: wholeNumber(128 * 1024, 1_024, 1024 * 1024),
    NOTES_PAGE_MAX_BYTES: wholeNumber(1024 * 1024, 1_024, 64 * 1024 * 1024),
    NOTES_PER_USER_MAX: wholeNumber(10_000, 1, 10_000_000),
    EXPORTS_IN_FLIGHT_PER_USER: wholeNumber(1, 1, 100),
    EXPORT_MAX_BYTES: wholeNumber(100 * 1024 * 1024, 1_024, 10 * 1024 ** 3),
  }),
  v.transform((env) => ({
    auth: {
      // Beside the bundle in the image (/app/keys), the project's keys/ when run from source.
      keysDir: env.KEYS_DIR ?? fileURLToPath(new URL('../keys/', import.meta.url)),
      /** How often the keys folder is read again, so that a key published for a rotation is taken up. */
      keysReloadMs: env.KEYS_RELOAD_MS,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: env.REFRESH_TOKEN_TTL_SECONDS,
      sessionMaxAgeSeconds: env.SESSION_MAX_AGE_SECONDS,
      scrypt: { N: env.PASSWORD_SCRYPT_N, r: 8, p: 1 },
      passwordHashConcurrency: env.PASSWORD_HASH_CONCURRENCY,
      loginAttemptsPerMinute: env.LOGIN_ATTEMPTS_PER_MINUTE,
      loginAttemptsPerAddressPerMinute: env.LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE,
      registerAttemptsPerHour: env.REGISTER_ATTEMPTS_PER_HOUR,
    },
    mail: { smtpUrl: env.SMTP_URL, from: env.MAIL_FROM },
    // Per-user budgets: a note's size bounds a page of GET /notes; the rest bound what one account can make
    // the worker and the database hold (see shared/notes.ts for how a note is measured).
    notes: {
      maxBytes: env.NOTE_MAX_BYTES,
      pageMaxBytes: env.NOTES_PAGE_MAX_BYTES,
      maxPerUser: env.NOTES_PER_USER_MAX,
      exportsInFlightPerUser: env.EXPORTS_IN_FLIGHT_PER_USER,
      exportMaxBytes: env.EXPORT_MAX_BYTES,
    },
  })),
);

/** The notes API: its settings, the keyring that signs and verifies tokens, the mailer and the password hasher. */
const app = defineApp({
  settings: Settings,
  async services({ settings, log, process, appEnv }) {
    return {
      // Only the HTTP process signs tokens; outside production it makes a key when there is none, and keeps it
      // in the folder (not in tests, which must not write into the project).
      keys: await loadKeyring({
        dir: settings.auth.keysDir,
        production: appEnv === 'production',
        log,
        requireSigning: process === 'http',
        persist: process === 'http' && appEnv === 'development',
        reloadMs: settings.auth.keysReloadMs,
      }),
      mailer: mailerOnFirstSend(settings.mail, log),
      // One per process, so that its cap on concurrent hashes is the process's.
      passwords: createPasswordHasher({
        cost: settings.auth.scrypt,
        maxConcurrent: settings.auth.passwordHashConcurrency,
      }),
    };
  },
  api: {
    title: 'Notes API',
    description:
      'Notes with tags, exports built in the background, and accounts with JWT access tokens (keys published ' +
      'at /.well-known/jwks.json). Errors are RFC 9457 problem+json carrying a request id.',
    tags: {
      auth: 'Accounts, signing in and out, and the keys that verify access tokens.',
      jobs: 'Background jobs: poll one until it has succeeded or failed.',
      notes: 'Your notes, and exports of them built in the background; only you can see them.',
    },
  },
});

export default app;

declare module '#runtime/app.ts' {
  interface AppSettings extends SettingsOf<typeof app> {}
  interface AppServices extends ServicesOf<typeof app> {}
}

/**
 * The mailer, with nodemailer loaded on the first send: only the worker sends mail, and loading it would cost
 * every HTTP process about 40 ms of its start and 12 MB of memory for nothing.
 */
function mailerOnFirstSend(settings: MailSettings, log: Logger): Mailer {
  let mailer: Promise<Mailer> | undefined;
  return {
    async send(message, messageLog) {
      mailer ??= import('./mailer.ts').then(({ createMailer }) => createMailer(settings, log));
      return (await mailer).send(message, messageLog);
    },
  };
}
