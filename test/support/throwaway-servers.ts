import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';

/**
 * A PostgreSQL server owned by the test that started it; `user` is a superuser with trust auth. `restart`
 * stops it (fast shutdown), runs `whileDown` (if given) while it is down, and starts it again on the same
 * port and data dir, so its databases are kept.
 */
export type ThrowawayPostgres = {
  host: string;
  port: number;
  user: string;
  stop(): Promise<void>;
  restart(whileDown?: () => Promise<unknown>): Promise<void>;
};
/**
 * A Redis server owned by the test that started it, with no password. `restart` stops it, runs `whileDown`
 * (if given) while it is down, and starts it again on the same port and dir: empty, or, when started with
 * `persist`, with every write it had acknowledged.
 */
export type ThrowawayRedis = {
  host: string;
  port: number;
  stop(): Promise<void>;
  restart(whileDown?: () => Promise<unknown>): Promise<void>;
};

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 30_000;
const run = promisify(execFile);

/** Starts a fresh PostgreSQL (new data dir, free port), as `nobody` when running as root. */
export async function startPostgres(): Promise<ThrowawayPostgres> {
  const initdb = findBinary('initdb', 'postgres');
  const server = findBinary('postgres', 'postgres');
  const dir = await mkdtemp(join(tmpdir(), 'test-pg-'));
  try {
    // Postgres refuses to run as root, so the data dir and the server belong to an unprivileged user.
    const owner = await unprivilegedOwner();
    if (owner) await chown(dir, owner.uid, owner.gid);
    const dataDir = join(dir, 'data');
    const initArgs = ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C'];
    await run(initdb, [...initArgs, '--no-sync'], { ...owner, cwd: dir });
    const settings = ['-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'synchronous_commit=off'];
    const launch = (port: number) => {
      const args = ['-D', dataDir, '-k', dir, '-h', HOST, '-p', String(port), ...settings];
      return spawn(server, args, { ...owner, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    };
    let child = await spawnUntilReady('postgres', launch, acceptsQueries, 'SIGINT');
    const { port } = child;
    // SIGINT is Postgres's fast shutdown; SIGTERM would wait for every client to disconnect first.
    const stop = () => stopChild(child.process, 'SIGINT', dir);
    return {
      host: HOST,
      port,
      user: 'postgres',
      stop,
      async restart(whileDown) {
        await stopChild(child.process, 'SIGINT');
        try {
          await whileDown?.();
        } finally {
          child = await spawnUntilReady('postgres', launch, acceptsQueries, 'SIGINT', port);
        }
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Starts a fresh Redis on a free port. Without `persist` it keeps nothing on disk; with it, every write is
 * appended to a file and synced before Redis answers, so a restart keeps all acknowledged data. With
 * `password`, clients must AUTH with it, as in production.
 */
export async function startRedis(
  options: { persist?: boolean; password?: string } = {},
): Promise<ThrowawayRedis> {
  const server = findBinary('redis-server', 'redis');
  const dir = await mkdtemp(join(tmpdir(), 'test-redis-'));
  try {
    const launch = (port: number) => {
      const aof = options.persist
        ? ['--appendonly', 'yes', '--appendfsync', 'always']
        : ['--appendonly', 'no'];
      const auth = options.password ? ['--requirepass', options.password] : [];
      const args = ['--port', String(port), '--bind', HOST, '--save', '', ...aof, ...auth, '--dir', dir];
      return spawn(server, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    };
    let child = await spawnUntilReady('redis-server', launch, answersPing, 'SIGTERM');
    const { port } = child;
    return {
      host: HOST,
      port,
      stop: () => stopChild(child.process, 'SIGTERM', dir),
      async restart(whileDown) {
        await stopChild(child.process, 'SIGTERM');
        try {
          await whileDown?.();
        } finally {
          child = await spawnUntilReady('redis-server', launch, answersPing, 'SIGTERM', port);
        }
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Asks the OS for a port nobody is listening on. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

type Started = { process: ChildProcess; port: number };
const running = new Map<ChildProcess, NodeJS.Signals>();

// If the test process ends without stopping its servers, they must not outlive it.
process.once('exit', () => {
  for (const [child, signal] of running) child.kill(signal);
});

async function spawnUntilReady(
  name: string,
  launch: (port: number) => ChildProcess,
  isReady: (port: number) => Promise<boolean>,
  stopSignal: NodeJS.Signals,
  fixedPort?: number,
): Promise<Started> {
  // A port found free can be taken before the server binds it; a couple of fresh tries cover that race.
  for (let attempt = 1; ; attempt++) {
    const port = fixedPort ?? (await freePort());
    const child = launch(port);
    running.set(child, stopSignal);
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
      if (await isReady(port)) return { process: child, port };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await stopChild(child, 'SIGKILL');
    if (attempt < 3 && fixedPort === undefined && /in use/i.test(output)) continue;
    throw new Error(`${name} did not become ready on ${HOST}:${port}. Its output:\n${output}`);
  }
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals, dir?: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  running.delete(child);
  if (dir) await rm(dir, { recursive: true, force: true });
}

async function acceptsQueries(port: number): Promise<boolean> {
  const sql = postgres({
    host: HOST,
    port,
    user: 'postgres',
    database: 'postgres',
    max: 1,
    connect_timeout: 2,
  });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    socket.setTimeout(1_000, () => socket.destroy());
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      // A server that wants a password answers NOAUTH: it is up all the same.
      resolve(/^(\+PONG|-NOAUTH)/.test(data.toString()));
    });
    socket.once('close', () => resolve(false));
    socket.once('error', () => {});
  });
}

async function unprivilegedOwner(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const entry = (await readFile('/etc/passwd', 'utf8'))
    .split('\n')
    .find((line) => line.startsWith('nobody:'));
  const [, , uid, gid] = entry?.split(':') ?? [];
  if (!uid || !gid)
    throw new Error('Running as root, the tests start Postgres as `nobody`, but there is no such user.');
  return { uid: Number(uid), gid: Number(gid) };
}

function findBinary(name: string, kind: 'postgres' | 'redis'): string {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  // Debian and Ubuntu keep the server binaries off PATH, under /usr/lib/postgresql/<version>/bin.
  if (kind === 'postgres') dirs.push(...debianPostgresDirs());
  for (const dir of dirs) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {}
  }
  const fix =
    kind === 'postgres'
      ? 'Install the PostgreSQL server (e.g. `apt-get install postgresql`) so tests can start a throwaway one, ' +
        'or set PG_HOST (with PG_PORT, POSTGRES_USER, POSTGRES_PASSWORD) to use a running server.'
      : 'Install Redis (e.g. `apt-get install redis-server`) so tests can start a throwaway one, ' +
        'or set RD_HOST (with RD_PORT, RD_PASSWORD) to use a running server.';
  throw new Error(`The tests need \`${name}\`, which is not on PATH. ${fix}`);
}

function debianPostgresDirs(): string[] {
  try {
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
    return versions.map((version) => join('/usr/lib/postgresql', version, 'bin'));
  } catch {
    return [];
  }
}
