import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, type JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import { StartupError } from '#runtime/process.ts';
import { type FileKey, kidOf, readKeyFolder } from './key-files.ts';
import { writeKeyPair } from './keygen.mjs';

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

/** A keyring that reads its folder again every `reloadMs` (see loadKeyring). */
export type LiveKeyring = Keyring & {
  /** Reads the folder again now; never throws (a problem is logged, and the keys loaded are kept). */
  reload(): Promise<void>;
  /** Stops the periodic re-read. */
  close(): void;
};

type Signing = NonNullable<Keyring['signing']> & { publicKey: KeyObject };

/**
 * Reads every `*.public.pem` and `*.private.pem` in `dir`. The newest private key (by file name) signs; all keys
 * verify. Without a private key, production refuses to start; elsewhere a throwaway key is made, with a warning.
 * `requireSigning: false` is for processes that only verify.
 *
 * With `reloadMs`, the folder is read again on that interval, so that a key published during a rotation is
 * taken up without a restart on every replica (an interval, not fs.watch, which misses the symlink swap a
 * Kubernetes Secret update makes). Added files join, removed files leave; a file that does not read as a key
 * is skipped with a warning naming it, and the key already loaded from that file, if any, is kept; and the
 * signing key is kept while the folder holds no private key, so that a bad copy never stops sign-ins.
 */
export async function loadKeyring(options: {
  dir: string;
  production: boolean;
  log: Logger;
  requireSigning?: boolean;
  /** Outside production, write a missing key into `dir` (when it is writable) so that it outlives the process. */
  persist?: boolean;
  /** How often to read the folder again; 0 or unset: only now. */
  reloadMs?: number;
}): Promise<LiveKeyring> {
  const { dir, log } = options;
  const first = await readKeyFolder(dir);
  const [problem] = first.problems.values();
  if (problem) throw new StartupError(problem);
  let fallback: (Signing & { throwaway: boolean }) | undefined;
  if (!newestPrivate(first.keys) && options.requireSigning !== false) {
    if (options.production) {
      throw new StartupError(
        `No private signing key in ${dir}. In production, mount the keys folder with a key made by ` +
          '`npm run keys` (or set KEYS_DIR to where the keys are).',
      );
    }
    const made = options.persist ? await writeKeyPair(dir).catch(() => undefined) : undefined;
    if (made) {
      log.warn({ dir, kid: made.kid }, 'no signing key found: made one and kept it in the folder');
      return loadKeyring({ ...options, persist: false });
    }
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    fallback = { kid: kidOf(publicKey), key: privateKey, publicKey, throwaway: true };
    log.warn(
      { dir, kid: fallback.kid },
      'no signing key found: using a throwaway key for this process (tokens die with it); run `npm run keys`',
    );
  }

  let files = first.keys;
  let state = keyringOf(files, fallback);
  let warned = new Map<string, string>();
  let reading: Promise<void> | undefined;
  const readAgain = async () => {
    let read: Awaited<ReturnType<typeof readKeyFolder>>;
    try {
      read = await readKeyFolder(dir);
    } catch (error) {
      warned = warnNew(log, warned, new Map([['', (error as Error).message]]), 'keeping the keys loaded');
      return;
    }
    warned = warnNew(log, warned, read.problems, 'skipped; a key already loaded from it is kept');
    const next = new Map(read.keys);
    for (const file of read.problems.keys()) {
      const kept = files.get(file);
      if (kept) next.set(file, kept);
    }
    if (!newestPrivate(next) && state.signing && state.signing.kid !== fallback?.kid) {
      const publicKey = [...files.values()].find((key) => key.kid === state.signing?.kid)?.publicKey;
      if (publicKey) fallback = { ...state.signing, publicKey, throwaway: false };
      log.warn(
        { dir, kid: state.signing.kid },
        'no private key left in the keys folder: still signing with this one',
      );
    }
    const before = state;
    files = next;
    state = keyringOf(files, fallback);
    const kids = (ring: Keyring) => new Set(ring.jwks.keys.map((key) => key.kid));
    const added = [...kids(state)].filter((kid) => !kids(before).has(kid));
    const removed = [...kids(before)].filter((kid) => !kids(state).has(kid));
    if (added.length > 0 || removed.length > 0 || before.signing?.kid !== state.signing?.kid) {
      log.info({ dir, added, removed, signing: state.signing?.kid }, 'keys reloaded');
    }
  };
  const reload = () => {
    reading ??= readAgain()
      .catch((error: unknown) =>
        log.warn({ dir, err: error }, 'could not read the keys folder again; keeping the keys'),
      )
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };
  // unref: the re-read never keeps a process alive that is otherwise done.
  const timer = options.reloadMs ? setInterval(() => void reload(), options.reloadMs).unref() : undefined;
  return {
    get signing() {
      return state.signing;
    },
    get jwks() {
      return state.jwks;
    },
    keySet: (header, token) => state.keySet(header, token),
    reload,
    close: () => clearInterval(timer),
  };
}

/** The keyring of the keys read: the newest private key signs (else `fallback`), and every key verifies. */
function keyringOf(files: Map<string, FileKey>, fallback: (Signing & { throwaway: boolean }) | undefined) {
  const verifying = new Map<string, KeyObject>();
  for (const key of files.values()) verifying.set(key.kid, key.publicKey);
  const newest = newestPrivate(files);
  const signing = newest ? { kid: newest.kid, key: newest.privateKey } : fallback;
  // A throwaway key's tokens stay good for the process's life; a kept file key's while it still signs.
  if (fallback && (fallback.throwaway || signing === fallback))
    verifying.set(fallback.kid, fallback.publicKey);
  const jwks = {
    keys: [...verifying].map(([kid, key]) => ({
      ...(key.export({ format: 'jwk' }) as { kty: string; crv: string; x: string }),
      kid,
      alg: 'EdDSA' as const,
      use: 'sig' as const,
    })),
  };
  return {
    signing: signing && { kid: signing.kid, key: signing.key },
    jwks,
    keySet: createLocalJWKSet(jwks),
  } satisfies Keyring;
}

function newestPrivate(files: Map<string, FileKey>): (FileKey & { privateKey: KeyObject }) | undefined {
  const privates = [...files.values()].filter((key): key is FileKey & { privateKey: KeyObject } =>
    Boolean(key.privateKey),
  );
  return privates.at(-1);
}

/** Logs each problem not logged at the last read (once, not at every interval); returns the problems now. */
function warnNew(log: Logger, warned: Map<string, string>, now: Map<string, string>, outcome: string) {
  for (const [file, message] of now) {
    if (warned.get(file) !== message) log.warn({ file: file || undefined }, `${message} (${outcome})`);
  }
  return now;
}
