import { sign } from 'node:crypto';
import type { Keyring } from '#shared/keys.ts';

/**
 * Signs any header and claims with the keyring's signing key, by hand, as an attacker holding a token of ours
 * could not but a bug of ours might: for tokens that are validly signed and wrong in every other way.
 */
export function forgeToken(keys: Pick<Keyring, 'signing'>, header: object, claims: object): string {
  if (!keys.signing) throw new Error('forgeToken needs a keyring with a signing key');
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part({ alg: 'EdDSA', typ: 'at+jwt', kid: keys.signing.kid, ...header })}.${part(claims)}`;
  return `${input}.${sign(null, Buffer.from(input), keys.signing.key).toString('base64url')}`;
}

/** The claims of a token, read without verifying it. */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8'));
}
