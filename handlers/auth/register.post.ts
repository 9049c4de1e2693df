import * as v from 'valibot';
import { HttpError } from '#runtime/errors.ts';
import { defineHandler } from '#runtime/http/handler.ts';
import { enforceLimits } from '#shared/rate-limit.ts';
import { Email, Password, toUserView, type UserRow, UserView } from '#shared/users.ts';
import sendWelcomeEmail from '#tasks/send-welcome-email.ts';

const TAKEN = 'An account with this email already exists.';

export default defineHandler({
  summary: 'Creates an account',
  description:
    'Email is unique without regard to case. Each client address may register a few times an hour; past ' +
    'that, 429 with Retry-After. A welcome email is sent in the background.',
  tags: ['auth'],
  body: v.strictObject({
    email: Email,
    password: Password,
    name: v.optional(
      v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(100), v.examples(['Ada Lovelace'])),
    ),
  }),
  responses: {
    201: UserView,
    409: { description: 'An account with this email exists' },
    429: { description: 'Too many sign-ups from this address; wait Retry-After seconds' },
    503: { description: 'Too many passwords are being hashed at once; retry after Retry-After seconds' },
  },
  async handle({ log, body, sql, redis, settings, passwords, enqueue, clientIp }) {
    // The limit and the duplicate check come before the hash, so that neither a flood nor a taken email
    // costs one; the limit also makes probing which emails have accounts (409) slow.
    await enforceLimits(
      redis,
      [{ key: `register:${clientIp}`, limit: settings.auth.registerAttemptsPerHour, windowSeconds: 3_600 }],
      { ifRedisIsDown: 'allow', log },
    );
    const [taken] = await sql`select 1 from users where lower(email) = ${body.email}`;
    if (taken) throw HttpError.conflict(TAKEN);
    const passwordHash = await passwords.hash(body.password);
    // The welcome goes through the outbox in the same transaction: the account and its email commit together,
    // even while Redis is down, and the relay enqueues the job once the account is committed.
    const user = await sql.begin(async (tx) => {
      const [row] = await tx<UserRow[]>`
        insert into users (email, name, password_hash) values (${body.email}, ${body.name ?? null}, ${passwordHash})
        on conflict ((lower(email))) do nothing
        returning id, email, name, created_at`;
      if (!row) throw HttpError.conflict(TAKEN);
      await enqueue(sendWelcomeEmail, { userId: row.id }, { tx });
      return row;
    });
    return toUserView(user);
  },
});
