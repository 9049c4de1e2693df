import * as v from 'valibot';
import { HttpError } from '#runtime/errors.ts';
import { defineHandler } from '#runtime/http/handler.ts';
import { hashPassword } from '#shared/password.ts';
import { Email, Password, toUserView, type UserRow, UserView } from '#shared/users.ts';
import sendWelcomeEmail from '#tasks/send-welcome-email.ts';

export default defineHandler({
  summary: 'Creates an account',
  description: 'Email is unique without regard to case. A welcome email is sent in the background.',
  tags: ['auth'],
  body: v.strictObject({
    email: Email,
    password: Password,
    name: v.optional(
      v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(100), v.examples(['Ada Lovelace'])),
    ),
  }),
  status: 201,
  responses: {
    201: UserView,
    409: { description: 'An account with this email exists' },
  },
  async handle({ body, sql, settings, enqueue }) {
    const passwordHash = await hashPassword(body.password, settings.auth.scrypt);
    // The welcome goes through the outbox in the same transaction: the account and its email commit together,
    // even while Redis is down, and the relay enqueues the job once the account is committed.
    const user = await sql.begin(async (tx) => {
      const [row] = await tx<UserRow[]>`
        insert into users (email, name, password_hash) values (${body.email}, ${body.name ?? null}, ${passwordHash})
        on conflict ((lower(email))) do nothing
        returning id, email, name, created_at`;
      if (!row) throw HttpError.conflict('An account with this email already exists.');
      await enqueue(sendWelcomeEmail, { userId: row.id }, { tx });
      return row;
    });
    return toUserView(user);
  },
});
