import { describe, expect, it } from 'vitest';
import { HttpError } from '#runtime/errors.ts';
import { createPasswordHasher, hashPassword, verifyPassword } from '#shared/password.ts';

const cost = { N: 1024, r: 8, p: 1 };
const password = 'correct horse battery staple';

describe('hashPassword', () => {
  it('writes scrypt$N$r$p$salt$hash with a fresh salt each time', async () => {
    const first = await hashPassword(password, cost);
    const second = await hashPassword(password, cost);
    expect(first).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{86}$/);
    expect(second).not.toBe(first);
  });
});

describe('verifyPassword', () => {
  it('accepts the password and refuses any other', async () => {
    const stored = await hashPassword(password, cost);
    expect(await verifyPassword(password, stored)).toBe(true);
    expect(await verifyPassword(`${password}!`, stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('verifies a hash made at another cost, since the hash carries its cost', async () => {
    const older = await hashPassword(password, { N: 2048, r: 4, p: 2 });
    expect(older.startsWith('scrypt$2048$4$2$')).toBe(true);
    expect(await verifyPassword(password, older)).toBe(true);
  });

  it('treats a compatible form of the same text as the same password (NFKC)', async () => {
    const stored = await hashPassword('ﬁsh and chips, twelve', cost);
    expect(await verifyPassword('fish and chips, twelve', stored)).toBe(true);
  });

  it('refuses a tampered hash', async () => {
    const stored = await hashPassword(password, cost);
    const parts = stored.split('$');
    const flip = (text: string) => (text[0] === 'A' ? 'B' : 'A') + text.slice(1);
    const tampered = [
      [...parts.slice(0, 5), flip(parts[5] as string)],
      [...parts.slice(0, 4), flip(parts[4] as string), parts[5]],
      ['scrypt', '2048', ...parts.slice(2)],
      ['scrypt', '1000', ...parts.slice(2)],
      ['scrypt', '1024', '0', ...parts.slice(3)],
      ['scrypt', String(2 ** 24), ...parts.slice(2)],
      [...parts.slice(0, 5), (parts[5] as string).slice(0, 40)],
      [...parts, 'extra'],
      ['bcrypt', ...parts.slice(1)],
    ];
    for (const candidate of tampered) {
      expect(await verifyPassword(password, candidate.join('$')), candidate.join('$')).toBe(false);
    }
  });

  it('refuses garbage instead of throwing', async () => {
    for (const garbage of ['', 'garbage', '$$$$$', 'scrypt$$$$$', 'scrypt$x$y$z$salt$hash', '$2b$12$abc']) {
      expect(await verifyPassword(password, garbage), garbage).toBe(false);
    }
  });
});

describe('createPasswordHasher', () => {
  it('refuses a hash past its maximum at once with 503 and Retry-After, and takes one again when a slot frees', async () => {
    const hasher = createPasswordHasher({ cost: { N: 2 ** 15, r: 8, p: 1 }, maxConcurrent: 2 });
    const running = [hasher.hash(password), hasher.verify(password, await hashPassword(password, cost))];
    const started = performance.now();
    const refused = await hasher.hash(password).catch((error: unknown) => error);
    expect(performance.now() - started).toBeLessThan(20);
    expect(refused).toBeInstanceOf(HttpError);
    expect(refused).toMatchObject({ status: 503, code: 'unavailable', headers: { 'retry-after': '1' } });
    await expect(hasher.verify(password, 'scrypt$x')).rejects.toMatchObject({ status: 503 });
    const [stored, verified] = await Promise.all(running);
    expect(verified).toBe(true);
    expect(await hasher.verify(password, stored as string)).toBe(true);
  });

  it('frees its slot when a hash fails', async () => {
    const hasher = createPasswordHasher({ cost: { N: 3, r: 8, p: 1 }, maxConcurrent: 1 });
    await expect(hasher.hash(password)).rejects.toThrow();
    await expect(hasher.hash(password)).rejects.not.toBeInstanceOf(HttpError);
  });
});
