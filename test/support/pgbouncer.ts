import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import postgres from 'postgres';
import { freePort } from './throwaway-servers.ts';

/** A PgBouncer owned by the test that started it, in transaction pool mode in front of one PostgreSQL. */
export type ThrowawayPgBouncer = {
  host: string;
  port: number;
  /** Its admin console's SHOW <what> (STATS, POOLS, CLIENTS, ...), as rows. */
  show(what: string): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
};

const READY_TIMEOUT_MS = 15_000;

/** Where the pgbouncer binary is (Debian's package puts it in /usr/sbin), or undefined when it is not installed. */
export function findPgBouncer(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  return dirs
    .filter(Boolean)
    .map((dir) => join(dir, 'pgbouncer'))
    .find((file) => {
      try {
        accessSync(file, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/**
 * Starts `binary` on a free 127.0.0.1 port in transaction pool mode, forwarding every database to `server`
 * (trust towards its clients; the user's password, if any, towards the server). Runs as `nobody` when the test
 * runs as root, since PgBouncer refuses to run as root.
 */
export async function startPgBouncer(
  binary: string,
  server: { host: string; port: number; user: string; password?: string },
): Promise<ThrowawayPgBouncer> {
  const dir = await mkdtemp(join(tmpdir(), 'test-pgbouncer-'));
  const port = await freePort();
  const quote = (text: string) => `"${text.replace(/"/g, '""')}"`;
  await writeFile(join(dir, 'userlist.txt'), `${quote(server.user)} ${quote(server.password ?? '')}\n`);
  await writeFile(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${server.host} port=${server.port}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      `admin_users = ${server.user}`,
      'pool_mode = transaction',
      'default_pool_size = 4',
      'max_client_conn = 500',
      '',
    ].join('\n'),
  );
  // Readable by the unprivileged user it switches to.
  await chmod(dir, 0o755);
  const asRoot = process.getuid?.() === 0;
  const child = spawn(binary, [...(asRoot ? ['-u', 'nobody'] : []), join(dir, 'pgbouncer.ini')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const admin = postgres({
    host: '127.0.0.1',
    port,
    user: server.user,
    database: 'pgbouncer',
    max: 1,
    // The admin console answers SHOW only, over the simple protocol: no type lookup at connect.
    fetch_types: false,
    onnotice: () => {},
  });
  const stop = async () => {
    await admin.end({ timeout: 1 }).catch(() => {});
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  };
  const show = async (what: string) => [...(await admin.unsafe(`SHOW ${what}`))] as Record<string, unknown>[];
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`pgbouncer exited at start:\n${output}`);
    }
    if (
      await show('VERSION').then(
        () => true,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`pgbouncer did not answer within ${READY_TIMEOUT_MS} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { host: '127.0.0.1', port, show, stop };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // SIGINT is PgBouncer's safe shutdown; SIGTERM closes its connections at once, which is all a test needs.
  child.kill('SIGTERM');
  await exited;
}
