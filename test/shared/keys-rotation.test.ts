import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeKeyPair } from '#shared/keygen.mjs';
import { createTestApp, projectRoot, type TestApp } from '../support/app.ts';
import { signUp } from '../support/users.ts';

// Two replicas of the reference app on one keys folder, as two pods mounting one Secret.
let dir: string;
let replicas: TestApp[] = [];
let keyA: { kid: string };

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'keys-rotation-'));
  keyA = await writeKeyPair(dir);
  const env = { KEYS_DIR: dir, KEYS_RELOAD_MS: '100' };
  replicas = await Promise.all([1, 2].map(() => createTestApp({ root: projectRoot, env })));
});
afterAll(async () => {
  for (const replica of replicas) replica.services.keys.close();
  await Promise.all(replicas.map((replica) => replica.close()));
  await rm(dir, { recursive: true, force: true });
});

const kidOfToken = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()).kid as string;
const publishedKids = async (t: TestApp) =>
  ((await (await t.request('GET', '/.well-known/jwks.json')).json()) as { keys: { kid: string }[] }).keys.map(
    (key) => key.kid,
  );

/** Resolves once `check` holds, polling; fails the test if it never does. */
async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('key rotation across replicas, without a restart', () => {
  it('publish the public key first, sign with it later: no replica ever refuses a token', async () => {
    const [x, y] = replicas as [TestApp, TestApp];
    const before = await signUp(x);
    expect(kidOfToken(before.accessToken)).toBe(keyA.kid);

    // Made aside, then moved in (a rename, as a Secret update swaps its files at once).
    const staging = path.join(dir, '..', `${path.basename(dir)}-staging`);
    await mkdir(staging);
    const keyB = await writeKeyPair(staging);
    await rename(keyB.publicFile, path.join(dir, path.basename(keyB.publicFile)));
    for (const replica of replicas)
      await until(async () => (await publishedKids(replica)).includes(keyB.kid));

    await rename(keyB.privateFile, path.join(dir, path.basename(keyB.privateFile)));
    await rm(staging, { recursive: true });
    await until(async () => kidOfToken((await signUp(x)).accessToken) === keyB.kid);

    const after = await signUp(x);
    expect(kidOfToken(after.accessToken)).toBe(keyB.kid);
    for (const user of [before, after]) {
      for (const replica of replicas) {
        expect((await replica.request('GET', '/auth/me', { headers: user.headers })).status).toBe(200);
      }
    }
    expect(y.logs.find((line) => line.msg === 'keys reloaded')).toMatchObject({ added: [keyB.kid] });
  });
});
