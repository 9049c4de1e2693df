import type { Services } from '#runtime/app.ts';
import { HttpError } from '#runtime/errors.ts';
import { hashPassword, type ScryptCost } from './password.ts';
import { enforceLimits } from './rate-limit.ts';
import { startSession, type TokenPair } from './sessions.ts';

const WRONG = 'The email or password is wrong.';

/** The answers every sign-in route documents beside its success, as `signIn` gives them. */
export const SIGN_IN_REFUSALS = {
  401: { description: 'The email or password is wrong (the same answer for both)' },
  429: { description: 'Too many tries; wait Retry-After seconds' },
  503: { description: 'Too many passwords are being checked at once; retry after Retry-After seconds' },
} as const;
const decoys = new Map<number, Promise<string>>();

/**
 * Signs a caller in with an email and a password, for every route that does (the JSON sign-in and the OAuth2
 * token endpoint the docs page uses): the same limits, the same timing, the same single answer for a wrong
 * email and a wrong password.
 */
export async function signIn(
  services: Services,
  attempt: { email: string; password: string; clientIp: string },
): Promise<TokenPair> {
  const { log, sql, redis, keys, settings, passwords } = services;
  const { email, password, clientIp } = attempt;
  await enforceLimits(
    redis,
    [
      {
        key: `login-address:${clientIp}`,
        limit: settings.auth.loginAttemptsPerAddressPerMinute,
        windowSeconds: 60,
      },
      { key: `login:${email}:${clientIp}`, limit: settings.auth.loginAttemptsPerMinute, windowSeconds: 60 },
    ],
    { ifRedisIsDown: 'refuse', log },
  );

  const [user] = await sql<{ id: string; password_hash: string }[]>`
    select id, password_hash from users where lower(email) = ${email}`;
  // An unknown email still costs one hash check, so the answer's timing does not reveal which accounts exist.
  const stored = user?.password_hash ?? (await decoyHash(settings.auth.scrypt));
  const matches = await passwords.verify(password, stored);
  if (!user || !matches) throw HttpError.unauthorized(WRONG);
  return sql.begin(async (tx) => {
    // The row lock makes a password change that commits meanwhile wait for this sign-in, and then end it;
    // a change that committed first leaves a hash that no longer matches the one just checked.
    const [unchanged] = await tx`
      select 1 from users where id = ${user.id} and password_hash = ${user.password_hash} for share`;
    if (!unchanged) throw HttpError.unauthorized(WRONG);
    return startSession(tx, keys, settings, user.id);
  });
}

// Made once per cost and outside the hasher's cap: it is the process's own, not a caller's, hash.
function decoyHash(cost: ScryptCost): Promise<string> {
  let hash = decoys.get(cost.N);
  if (!hash) {
    hash = hashPassword('decoy password that matches nothing', cost);
    decoys.set(cost.N, hash);
  }
  return hash;
}
