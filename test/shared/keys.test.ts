import { execFile } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { thumbprint, writeKeyPair } from '#shared/keygen.mjs';
import { loadKeyring } from '#shared/keys.ts';
import { signAccessToken, verifyAccessToken } from '#shared/tokens.ts';
import { captureLog, projectRoot } from '../support/app.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'keys-test-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

const settings = { issuer: 'keys-test', audience: 'keys-test-api', ttlSeconds: 300 };
const session = () => ({ userId: randomUUID(), sessionId: randomUUID() });

describe('loadKeyring', () => {
  it('signs with the newest private key and verifies and publishes every key', async () => {
    const dir = await tempDir();
    const pairs = [await writeKeyPair(dir), await writeKeyPair(dir), await writeKeyPair(dir)];
    const { log, lines } = captureLog();
    const keys = await loadKeyring({ dir, production: true, log });

    expect(keys.signing?.kid).toBe(pairs[2]?.kid);
    expect(keys.jwks.keys.map((key) => key.kid).sort()).toEqual(pairs.map((pair) => pair.kid).sort());
    for (const jwk of keys.jwks.keys) {
      expect(jwk).toEqual({
        kty: 'OKP',
        crv: 'Ed25519',
        x: expect.any(String),
        kid: thumbprint(jwk),
        alg: 'EdDSA',
        use: 'sig',
      });
      expect(jwk).not.toHaveProperty('d');
    }
    expect(lines.filter((line) => Number(line.level) >= 40)).toEqual([]);

    // A token signed by an older key (before a rotation) still verifies.
    for (const pair of pairs) {
      const older = {
        ...keys,
        signing: { kid: pair.kid, key: createPrivateKey(await readFile(pair.privateFile)) },
      };
      const owner = session();
      const { token } = await signAccessToken(older, settings, owner);
      expect(await verifyAccessToken(keys, settings, token)).toMatchObject({ claims: { sub: owner.userId } });
    }
  });

  it('publishes a public key that has no private key beside it, without signing with it', async () => {
    const dir = await tempDir();
    const retired = await writeKeyPair(dir);
    await rm(retired.privateFile);
    const current = await writeKeyPair(dir);
    const keys = await loadKeyring({ dir, production: true, log: captureLog().log });
    expect(keys.signing?.kid).toBe(current.kid);
    expect(keys.jwks.keys.map((key) => key.kid).sort()).toEqual([retired.kid, current.kid].sort());
  });

  it('refuses to start in production without a private key, naming the folder', async () => {
    const dir = await tempDir();
    await expect(loadKeyring({ dir, production: true, log: captureLog().log })).rejects.toThrow(
      `No private signing key in ${dir}`,
    );
    const onlyPublic = await writeKeyPair(dir);
    await rm(onlyPublic.privateFile);
    await expect(loadKeyring({ dir, production: true, log: captureLog().log })).rejects.toThrow(dir);
    const missing = path.join(dir, 'not-there');
    await expect(loadKeyring({ dir: missing, production: true, log: captureLog().log })).rejects.toThrow(
      missing,
    );
  });

  it('makes a throwaway key outside production, with a warning', async () => {
    const dir = await tempDir();
    const { log, lines } = captureLog();
    const keys = await loadKeyring({ dir, production: false, log });
    expect(keys.signing).toBeDefined();
    expect(keys.jwks.keys.map((key) => key.kid)).toEqual([keys.signing?.kid]);
    const warning = lines.find((line) => line.level === 40);
    expect(warning).toMatchObject({ dir, kid: keys.signing?.kid });
    expect(String(warning?.msg)).toContain('throwaway');
    const owner = session();
    const { token } = await signAccessToken(keys, settings, owner);
    expect(await verifyAccessToken(keys, settings, token)).toMatchObject({ claims: { sub: owner.userId } });
  });

  it('keeps a key it makes in the folder when asked to persist, so the next start signs with it', async () => {
    const dir = await tempDir();
    const first = await loadKeyring({ dir, production: false, log: captureLog().log, persist: true });
    const files = (await readdir(dir)).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/\.private\.pem$/);
    const second = await loadKeyring({ dir, production: false, log: captureLog().log, persist: true });
    expect(second.signing?.kid).toBe(first.signing?.kid);
    expect(await readdir(dir)).toHaveLength(2);
  });

  it('loads verifying keys only, silently, when signing is not required', async () => {
    const dir = await tempDir();
    const { log, lines } = captureLog();
    const keys = await loadKeyring({ dir, production: true, log, requireSigning: false });
    expect(keys.signing).toBeUndefined();
    expect(keys.jwks.keys).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('refuses a corrupt key file, naming it', async () => {
    const dir = await tempDir();
    await writeKeyPair(dir);
    const corrupt = path.join(dir, '20990101T000000000Z.private.pem');
    await writeFile(corrupt, '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n');
    await expect(loadKeyring({ dir, production: false, log: captureLog().log })).rejects.toThrow(
      `The key file ${corrupt} is not usable`,
    );
  });

  it('refuses a key that is not Ed25519, naming the file', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'rsa.public.pem');
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(file, publicKey.export({ type: 'spki', format: 'pem' }));
    await expect(loadKeyring({ dir, production: false, log: captureLog().log })).rejects.toThrow(
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*not an Ed25519 key`),
    );
  });
});

describe('loadKeyring, reading its folder again', () => {
  /** A keyring of one key pair's private key, to sign as a replica that already signs with it would. */
  const signerOf = async (pair: { kid: string; privateFile: string }) => ({
    signing: { kid: pair.kid, key: createPrivateKey(await readFile(pair.privateFile)) },
  });

  it('takes up a public key added to the folder, and signs with its private key once that is added', async () => {
    const dir = await tempDir();
    const a = await writeKeyPair(dir);
    const { log, lines } = captureLog();
    const keys = await loadKeyring({ dir, production: true, log, reloadMs: 100 });
    try {
      const b = await writeKeyPair(path.join(dir, 'next'));
      const token = (await signAccessToken(await signerOf(b), settings, session())).token;
      expect(await verifyAccessToken(keys, settings, token)).toEqual({
        error: expect.stringMatching(/JWKS/),
      });

      // Published first: on the interval, B verifies and is in the JWKS, while A still signs.
      await rename(b.publicFile, path.join(dir, path.basename(b.publicFile)));
      await until(() => keys.jwks.keys.some((key) => key.kid === b.kid));
      expect(await verifyAccessToken(keys, settings, token)).toHaveProperty('claims');
      expect(keys.signing?.kid).toBe(a.kid);

      // Then its private key: the newest by name, it signs; A's tokens still verify.
      await rename(b.privateFile, path.join(dir, path.basename(b.privateFile)));
      await until(() => keys.signing?.kid === b.kid);
      const fromA = (await signAccessToken(await signerOf(a), settings, session())).token;
      expect(await verifyAccessToken(keys, settings, fromA)).toHaveProperty('claims');
      expect(lines.find((line) => line.msg === 'keys reloaded')).toMatchObject({
        added: [b.kid],
        removed: [],
      });
    } finally {
      keys.close();
    }
  });

  it('keeps what it has when a file goes bad or a new one is not a key, warning once with its name', async () => {
    const dir = await tempDir();
    const a = await writeKeyPair(dir);
    const { log, lines } = captureLog();
    const keys = await loadKeyring({ dir, production: true, log });
    const token = (await signAccessToken(keys, settings, session())).token;

    const half = path.join(dir, '20990101T000000000Z.private.pem');
    await writeFile(half, '-----BEGIN PRIVATE KEY-----\nhalf a co');
    await writeFile(a.publicFile, 'not a key any more');
    await writeFile(a.privateFile, '');
    await keys.reload();
    await keys.reload();
    expect(keys.signing?.kid).toBe(a.kid);
    expect(keys.jwks.keys.map((key) => key.kid)).toEqual([a.kid]);
    expect(await verifyAccessToken(keys, settings, token)).toHaveProperty('claims');
    const warnings = lines.filter((line) => line.level === 40).map((line) => String(line.msg));
    expect(warnings).toHaveLength(3);
    for (const file of [half, a.publicFile, a.privateFile]) {
      expect(
        warnings.filter((message) => message.includes(`The key file ${file} is not usable`)),
      ).toHaveLength(1);
    }
  });

  it('drops a key whose files are removed, but keeps signing while no private key is left', async () => {
    const dir = await tempDir();
    const old = await writeKeyPair(dir);
    const current = await writeKeyPair(dir);
    const { log, lines } = captureLog();
    const keys = await loadKeyring({ dir, production: true, log });
    await Promise.all([rm(old.privateFile), rm(old.publicFile)]);
    await keys.reload();
    expect(keys.jwks.keys.map((key) => key.kid)).toEqual([current.kid]);
    expect(lines.find((line) => line.msg === 'keys reloaded')).toMatchObject({ removed: [old.kid] });

    await rm(current.privateFile);
    await keys.reload();
    expect(keys.signing?.kid).toBe(current.kid);
    expect(keys.jwks.keys.map((key) => key.kid)).toEqual([current.kid]);
    expect(lines.find((line) => String(line.msg).startsWith('no private key left'))).toMatchObject({
      kid: current.kid,
    });
  });
});

/** Resolves once `check` holds, polling; fails the test if it never does. */
async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('writeKeyPair', () => {
  it('writes the private key with mode 0600 and names the pair by a sortable UTC stamp', async () => {
    const dir = await tempDir();
    const first = await writeKeyPair(dir);
    const second = await writeKeyPair(dir);
    expect((await stat(first.privateFile)).mode & 0o777).toBe(0o600);
    expect(path.basename(first.privateFile)).toMatch(/^\d{8}T\d{9}Z\.private\.pem$/);
    expect(path.basename(second.privateFile) > path.basename(first.privateFile)).toBe(true);
    expect(second.kid).not.toBe(first.kid);
  });

  it('gives pairs made in the same millisecond names of their own', async () => {
    const dir = await tempDir();
    const pairs = await Promise.all(Array.from({ length: 6 }, () => writeKeyPair(dir)));
    expect(new Set(pairs.map((pair) => pair.privateFile)).size).toBe(6);
    const keys = await loadKeyring({ dir, production: true, log: captureLog().log });
    expect(keys.jwks.keys).toHaveLength(6);
  });

  it('is what `npm run keys <dir>` runs', async () => {
    const dir = await tempDir();
    const script = path.join(projectRoot, 'shared/new-key.mjs');
    const { stdout } = await promisify(execFile)(process.execPath, [script, dir]);
    const keys = await loadKeyring({ dir, production: true, log: captureLog().log });
    expect(stdout).toContain(`New signing key ${keys.signing?.kid}`);
  });
});
