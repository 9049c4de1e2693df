import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The RFC 7638 thumbprint of an Ed25519 public JWK: SHA-256 over its required members in lexical order.
 * @param {{ crv?: string, kty?: string, x?: string }} jwk
 */
export function thumbprint(jwk) {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
  return createHash('sha256').update(canonical).digest('base64url');
}

/**
 * Writes a new Ed25519 key pair into `dir` as `<UTC stamp>.private.pem` (mode 0600) and `<UTC stamp>.public.pem`.
 * The stamp sorts by time, so the newest key is the last name.
 * @param {string} dir
 * @returns {Promise<{ kid: string, privateFile: string, publicFile: string }>}
 */
export async function writeKeyPair(dir) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  await mkdir(dir, { recursive: true });
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  // Two keys made in the same millisecond would share a name: the later one takes the next free stamp.
  for (let at = Date.now(); ; at++) {
    const stamp = new Date(at)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.(\d+)Z$/, '$1Z');
    const privateFile = path.join(dir, `${stamp}.private.pem`);
    const publicFile = path.join(dir, `${stamp}.public.pem`);
    try {
      await writeFile(privateFile, privatePem, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if (/** @type {NodeJS.ErrnoException} */ (error).code === 'EEXIST') continue;
      throw error;
    }
    await writeFile(publicFile, publicKey.export({ type: 'spki', format: 'pem' }), {
      mode: 0o644,
      flag: 'wx',
    });
    return { kid: thumbprint(publicKey.export({ format: 'jwk' })), privateFile, publicFile };
  }
}
