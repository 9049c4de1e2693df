import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createLocalJWKSet, type JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import { StartupError } from '#runtime/process.ts';
import { thumbprint, writeKeyPair } from './keygen.mjs';

/** A public key as published in the JWKS. */
export type PublicJwk = { kty: string; crv: string; x: string; kid: string; alg: 'EdDSA'; use: 'sig' };

/**
 * The signing key, the public keys as published, and jose's resolver over those same keys, which picks the
 * one a token's `kid` names, so that a token verifies exactly when the published JWKS verifies it.
 */
export type Keyring = {
  signing: { kid: string; key: KeyObject } | undefined;
  jwks: { keys: PublicJwk[] };
  keySet: JWTVerifyGetKey;
};

/**
 * Reads every `*.public.pem` and `*.private.pem` in `dir`. The newest private key (by file name) signs; all keys
 * verify. Without a private key, production refuses to start; elsewhere a throwaway key is made, with a warning.
 * `requireSigning: false` is for processes that only verify.
 */
export async function loadKeyring(options: {
  dir: string;
  production: boolean;
  log: Logger;
  requireSigning?: boolean;
  /** Outside production, write a missing key into `dir` (when it is writable) so that it outlives the process. */
  persist?: boolean;
}): Promise<Keyring> {
  const files = (await listPem(options.dir)).sort();
  const verifying = new Map<string, KeyObject>();
  let signing: Keyring['signing'];
  for (const file of files) {
    const full = path.join(options.dir, file);
    const text = await readFile(full, 'utf8').catch((error: Error) => {
      throw new StartupError(`Cannot read the key file ${full}: ${error.message}. Check its permissions.`);
    });
    try {
      const isPrivate = file.endsWith('.private.pem');
      const key = isPrivate ? createPrivateKey(text) : createPublicKey(text);
      const publicKey = isPrivate ? createPublicKey(key) : key;
      if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error('it is not an Ed25519 key');
      const kid = kidOf(publicKey);
      verifying.set(kid, publicKey);
      if (isPrivate) signing = { kid, key };
    } catch (error) {
      throw new StartupError(
        `The key file ${full} is not usable (${(error as Error).message}). Replace it: npm run keys.`,
      );
    }
  }
  if (!signing && options.requireSigning !== false) {
    if (options.production) {
      throw new StartupError(
        `No private signing key in ${options.dir}. In production, mount the keys folder with a key made by ` +
          '`npm run keys` (or set KEYS_DIR to where the keys are).',
      );
    }
    const made = options.persist ? await writeKeyPair(options.dir).catch(() => undefined) : undefined;
    if (made) {
      options.log.warn(
        { dir: options.dir, kid: made.kid },
        'no signing key found: made one and kept it in the folder',
      );
      return loadKeyring({ ...options, persist: false });
    }
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    signing = { kid: kidOf(publicKey), key: privateKey };
    verifying.set(signing.kid, publicKey);
    options.log.warn(
      { dir: options.dir, kid: signing.kid },
      'no signing key found: using a throwaway key for this process (tokens die with it); run `npm run keys`',
    );
  }
  const jwks = {
    keys: [...verifying].map(([kid, key]) => ({
      ...(key.export({ format: 'jwk' }) as { kty: string; crv: string; x: string }),
      kid,
      alg: 'EdDSA' as const,
      use: 'sig' as const,
    })),
  };
  return { signing, jwks, keySet: createLocalJWKSet(jwks) };
}

function kidOf(publicKey: KeyObject): string {
  return thumbprint(publicKey.export({ format: 'jwk' }));
}

async function listPem(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((file) => /\.(private|public)\.pem$/.test(file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new StartupError(
      `Cannot list the keys folder ${dir} (KEYS_DIR): ${(error as Error).message}. Check that it is a readable folder.`,
    );
  }
}
