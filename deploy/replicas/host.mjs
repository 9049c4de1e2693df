// What the rehearsal prepares on the host: a signing key for the containers, and free ports.
import { chmod, chown, mkdtemp, readdir } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { writeKeyPair } from '../../shared/keygen.mjs';

/**
 * A keys folder holding one new pair, for the app to mount read-only as production mounts its keys: three
 * replicas starting at once on the compose file's empty `keys` volume would each make a key of their own.
 */
export async function makeKeysFolder(prefix) {
  const dir = await mkdtemp(path.join(os.tmpdir(), `${prefix}-keys-`));
  await writeKeyPair(dir);
  // The containers run as `node` (1000:1000), and the private key is mode 0600.
  const files = (await readdir(dir)).map((file) => path.join(dir, file));
  if (process.getuid?.() === 0) {
    for (const file of [dir, ...files]) await chown(file, 1000, 1000);
  } else {
    // A throwaway key, removed at the end of the run: readable by any user is acceptable for that long.
    await chmod(dir, 0o755);
    for (const file of files) await chmod(file, 0o644);
  }
  return dir;
}

/** A port free on 127.0.0.1 now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
