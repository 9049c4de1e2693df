import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { HttpError } from '#runtime/errors.ts';

/** scrypt cost; the default follows current guidance, and only configuration (e.g. for tests) lowers it. */
export type ScryptCost = { N: number; r: number; p: number };

const KEY_LENGTH = 64;
// A stored hash decides the cost of checking it: refuse one that would take more than a GiB to check.
const MAX_MEMORY_BYTES = 2 ** 30;

/**
 * Hashes a password into a self-describing string, `scrypt$N$r$p$salt$hash`, so that the cost can change later
 * without breaking stored hashes.
 */
export async function hashPassword(password: string, cost: ScryptCost): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** Checks a password against a stored hash in constant time; false for a hash it cannot read. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed) return false;
  const actual = await derive(password, parsed.salt, parsed.cost);
  return timingSafeEqual(actual, parsed.hash);
}

/** Hashes and checks passwords, at most `maxConcurrent` at a time in this process. */
export type PasswordHasher = {
  hash(password: string): Promise<string>;
  verify(password: string, stored: string): Promise<boolean>;
};

/**
 * A password hasher for one process. Each scrypt call keeps a core busy for its whole duration, so past
 * `maxConcurrent` (fewer than the cores, so that the event loop keeps one) a queue would only make every
 * sign-in slow: an excess call is refused at once with 503 and Retry-After, and the client tries again a
 * second later.
 */
export function createPasswordHasher(options: { cost: ScryptCost; maxConcurrent: number }): PasswordHasher {
  let running = 0;
  const metered = async <T>(work: () => Promise<T>): Promise<T> => {
    if (running >= options.maxConcurrent) {
      throw HttpError.unavailable('Too many passwords are being checked right now. Retry in a second.', 1);
    }
    running++;
    try {
      return await work();
    } finally {
      running--;
    }
  };
  return {
    hash: (password) => metered(() => hashPassword(password, options.cost)),
    verify: (password, stored) => metered(() => verifyPassword(password, stored)),
  };
}

function parseHash(stored: string): { cost: ScryptCost; salt: Buffer; hash: Buffer } | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = parts.slice(1, 4).map((part) => (/^[1-9]\d{0,7}$/.test(part) ? Number(part) : 0)) as [
    number,
    number,
    number,
  ];
  const powerOfTwo = N > 1 && (N & (N - 1)) === 0;
  if (!powerOfTwo || r < 1 || p < 1 || p > 16 || 128 * N * r > MAX_MEMORY_BYTES) return undefined;
  const salt = Buffer.from(parts[4] as string, 'base64url');
  const hash = Buffer.from(parts[5] as string, 'base64url');
  if (salt.length < 8 || hash.length !== KEY_LENGTH) return undefined;
  return { cost: { N, r, p }, salt, hash };
}

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // scrypt needs 128 * N * r bytes; Node's default 32 MiB cap is below that for N = 2^17.
    const maxmem = 256 * cost.N * cost.r;
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { ...cost, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}
