import * as v from 'valibot';
import { HttpError } from '#runtime/errors.ts';
import { defineHandler } from '#runtime/http/handler.ts';
import { bearer } from '#shared/bearer-auth.ts';
import { enforceLimits } from '#shared/rate-limit.ts';
import { revokeSessionsOf, startSession } from '#shared/sessions.ts';
import { Password, TokenPairAnswer } from '#shared/users.ts';

export default defineHandler({
  summary: 'Changes the password and ends every session; answers with a new sign-in',
  description:
    'The current password is checked first (a few tries a minute per account, as for login). Every session ' +
    'of the account, this one included, is ended: its refresh tokens revoked and its access tokens refused. ' +
    'The answer is the token pair of a new session, not to be cached (Cache-Control: no-store).',
  tags: ['auth'],
  auth: bearer,
  body: v.strictObject({
    currentPassword: v.pipe(v.string(), v.maxLength(256), v.examples(['correct horse battery staple'])),
    newPassword: Password,
  }),
  responses: {
    200: TokenPairAnswer,
    403: { description: 'The current password is wrong' },
    422: { description: 'The new password is the current one' },
    429: { description: 'Too many tries; wait Retry-After seconds' },
    503: { description: 'Too many passwords are being checked at once; retry after Retry-After seconds' },
  },
  async handle({ log, user, body, sql, redis, keys, settings, passwords, setHeader }) {
    if (body.newPassword === body.currentPassword) {
      throw HttpError.unprocessable('The new password is the current one: choose another.');
    }
    await enforceLimits(
      redis,
      [{ key: `password-change:${user.id}`, limit: settings.auth.loginAttemptsPerMinute, windowSeconds: 60 }],
      { ifRedisIsDown: 'refuse', log },
    );
    const [account] = await sql<{ password_hash: string }[]>`
      select password_hash from users where id = ${user.id}`;
    if (!account) throw HttpError.unauthorized('The account of this token no longer exists.');
    if (!(await passwords.verify(body.currentPassword, account.password_hash))) {
      throw new HttpError(403, 'wrong_password', 'The current password is wrong. Check it and try again.');
    }
    const newHash = await passwords.hash(body.newPassword);
    const pair = await sql.begin(async (tx) => {
      const changed = await tx`
        update users set password_hash = ${newHash}
        where id = ${user.id} and password_hash = ${account.password_hash} returning id`;
      if (changed.length === 0) {
        throw HttpError.conflict('The password was changed meanwhile. Sign in again with the new one.');
      }
      await revokeSessionsOf(tx, user.id);
      return startSession(tx, keys, settings, user.id);
    });
    setHeader('Cache-Control', 'no-store');
    return pair;
  },
});
