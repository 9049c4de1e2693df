import * as v from 'valibot';
import { HttpError } from '#runtime/errors.ts';
import { defineHandler } from '#runtime/http/handler.ts';
import { hashPassword, type ScryptCost } from '#shared/password.ts';
import { enforceLimits } from '#shared/rate-limit.ts';
import { startSession } from '#shared/sessions.ts';
import { Email, TokenPairView } from '#shared/users.ts';

const WRONG = 'The email or password is wrong.';
const decoys = new Map<number, Promise<string>>();

export default defineHandler({
  summary: 'Signs in with email and password',
  description:
    'Each client address gets a number of tries a minute, and each email and address a few; past either, 429 ' +
    'with Retry-After, before any password is checked. 503 with Retry-After when too many passwords are ' +
    'being checked at once. The answer is not to be cached (Cache-Control: no-store).',
  tags: ['auth'],
  body: v.strictObject({
    email: Email,
    password: v.pipe(v.string(), v.maxLength(256), v.examples(['correct horse battery staple'])),
  }),
  responses: {
    200: TokenPairView,
    401: { description: 'The email or password is wrong (the same answer for both)' },
    429: { description: 'Too many tries; wait Retry-After seconds' },
    503: { description: 'Too many passwords are being checked at once; retry after Retry-After seconds' },
  },
  async handle({ log, body, sql, redis, keys, settings, passwords, clientIp, setHeader }) {
    await enforceLimits(
      redis,
      [
        {
          key: `login-address:${clientIp}`,
          limit: settings.auth.loginAttemptsPerAddressPerMinute,
          windowSeconds: 60,
        },
        {
          key: `login:${body.email}:${clientIp}`,
          limit: settings.auth.loginAttemptsPerMinute,
          windowSeconds: 60,
        },
      ],
      { ifRedisIsDown: 'refuse', log },
    );

    const [user] = await sql<{ id: string; password_hash: string }[]>`
      select id, password_hash from users where lower(email) = ${body.email}`;
    // An unknown email still costs one hash check, so the answer's timing does not reveal which accounts exist.
    const stored = user?.password_hash ?? (await decoyHash(settings.auth.scrypt));
    const matches = await passwords.verify(body.password, stored);
    if (!user || !matches) throw HttpError.unauthorized(WRONG);
    const pair = await sql.begin(async (tx) => {
      // The row lock makes a password change that commits meanwhile wait for this sign-in, and then end it;
      // a change that committed first leaves a hash that no longer matches the one just checked.
      const [unchanged] = await tx`
        select 1 from users where id = ${user.id} and password_hash = ${user.password_hash} for share`;
      if (!unchanged) throw HttpError.unauthorized(WRONG);
      return startSession(tx, keys, settings, user.id);
    });
    setHeader('cache-control', 'no-store');
    return pair;
  },
});

// Made once per cost and outside the hasher's cap: it is the process's own, not a caller's, hash.
function decoyHash(cost: ScryptCost): Promise<string> {
  let hash = decoys.get(cost.N);
  if (!hash) {
    hash = hashPassword('decoy password that matches nothing', cost);
    decoys.set(cost.N, hash);
  }
  return hash;
}
