import * as v from 'valibot';
import { HttpError } from '#runtime/errors.ts';
import { defineHandler } from '#runtime/http/handler.ts';
import { hashPassword, verifyPassword } from '#shared/password.ts';
import { takeAttempt } from '#shared/rate-limit.ts';
import { issueTokenPair } from '#shared/sessions.ts';
import { Email, TokenPairView } from '#shared/users.ts';

const WRONG = 'The email or password is wrong.';
const decoys = new Map<number, Promise<string>>();

export default defineHandler({
  summary: 'Signs in with email and password',
  description: 'Each email and address gets a few tries a minute; past that, 429 with Retry-After.',
  tags: ['auth'],
  body: v.strictObject({
    email: Email,
    password: v.pipe(v.string(), v.maxLength(256), v.examples(['correct horse battery staple'])),
  }),
  responses: {
    200: TokenPairView,
    401: { description: 'The email or password is wrong (the same answer for both)' },
    429: { description: 'Too many tries; wait Retry-After seconds' },
  },
  async handle({ body, sql, redis, keys, settings, clientIp }) {
    const limit = await takeAttempt(
      redis,
      `login:${body.email}:${clientIp}`,
      settings.auth.loginAttemptsPerMinute,
      60,
    );
    if (!limit.allowed) throw HttpError.tooManyRequests(limit.retryAfterSeconds);

    const [user] = await sql<{ id: string; password_hash: string }[]>`
      select id, password_hash from users where lower(email) = ${body.email}`;
    // An unknown email still costs one hash check, so the answer's timing does not reveal which accounts exist.
    const stored = user?.password_hash ?? (await decoyHash(settings.auth.scrypt));
    const matches = await verifyPassword(body.password, stored);
    if (!user || !matches) throw HttpError.unauthorized(WRONG);
    return issueTokenPair(sql, keys, settings, user.id);
  },
});

function decoyHash(cost: { N: number; r: number; p: number }): Promise<string> {
  let hash = decoys.get(cost.N);
  if (!hash) {
    hash = hashPassword('decoy password that matches nothing', cost);
    decoys.set(cost.N, hash);
  }
  return hash;
}
