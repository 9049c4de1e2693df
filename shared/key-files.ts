import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { StartupError } from '#runtime/process.ts';
import { thumbprint } from './keygen.mjs';

/** One key file of the keys folder, read: its key id, its public key, and its private key if it is one. */
export type FileKey = { kid: string; publicKey: KeyObject; privateKey?: KeyObject };

/**
 * Every `*.public.pem` and `*.private.pem` of `dir`, by file name (in name order), and, apart, the files that
 * could not be used, each with a message that names it and says what to do. A missing folder holds no keys;
 * a folder that cannot be listed throws.
 */
export async function readKeyFolder(
  dir: string,
): Promise<{ keys: Map<string, FileKey>; problems: Map<string, string> }> {
  const keys = new Map<string, FileKey>();
  const problems = new Map<string, string>();
  for (const file of (await listPem(dir)).sort()) {
    const full = path.join(dir, file);
    let text: string;
    try {
      text = await readFile(full, 'utf8');
    } catch (error) {
      problems.set(
        file,
        `Cannot read the key file ${full}: ${(error as Error).message}. Check its permissions.`,
      );
      continue;
    }
    try {
      keys.set(file, parseKey(text, file.endsWith('.private.pem')));
    } catch (error) {
      problems.set(
        file,
        `The key file ${full} is not usable (${(error as Error).message}). Replace it: npm run keys.`,
      );
    }
  }
  return { keys, problems };
}

/** The RFC 7638 thumbprint of a public key: the `kid` tokens name it by. */
export function kidOf(publicKey: KeyObject): string {
  return thumbprint(publicKey.export({ format: 'jwk' }));
}

function parseKey(text: string, isPrivate: boolean): FileKey {
  const privateKey = isPrivate ? createPrivateKey(text) : undefined;
  const publicKey = privateKey ? createPublicKey(privateKey) : createPublicKey(text);
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error('it is not an Ed25519 key');
  return { kid: kidOf(publicKey), publicKey, ...(privateKey ? { privateKey } : {}) };
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
