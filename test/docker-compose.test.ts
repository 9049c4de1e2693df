import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { projectRoot } from './support/app.ts';

const compose = await readFile(`${projectRoot}/docker-compose.yml`, 'utf8');
const hasComposeCli = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0;

/** The text of one top-level service block. */
function service(name: string): string {
  const match = new RegExp(`^  ${name}:\\n((?:    .*\\n|\\s*\\n)+)`, 'm').exec(compose);
  return match?.[1] ?? '';
}

describe('docker-compose.yml', () => {
  it('keeps the shared env block and its original names', () => {
    expect(compose).toMatch(/^x-routes: &routes$/m);
    for (const name of ['PG_HOST', 'PG_PORT', 'RD_HOST', 'RD_PORT', 'AP_HOST', 'AP_PORT']) {
      expect(compose).toMatch(new RegExp(`^  ${name}: `, 'm'));
    }
    expect(service('app')).toContain('<<: *routes');
    expect(service('worker')).toContain('<<: *routes');
  });

  it('publishes every port on 127.0.0.1 only', () => {
    const published = [...compose.matchAll(/^\s+- (\S+:\S+:\d+)$/gm)].map((match) => match[1]);
    expect(published.length).toBe(3);
    expect(published.every((port) => port?.startsWith('127.0.0.1:'))).toBe(true);
  });

  it('gives app and worker their own healthchecks, the worker not the HTTP one', () => {
    expect(service('app')).toContain('dist/http.mjs", "health"');
    expect(service('worker')).toContain('dist/worker.mjs", "health"');
  });

  it("lets the compose network reach the worker's metrics port, which is not published", () => {
    expect(service('worker')).toMatch(/^ {6}WORKER_METRICS_HOST: 0\.0\.0\.0$/m);
    expect(service('worker')).not.toMatch(/^ {4}ports:/m);
  });

  it('starts the worker only after postgres, redis and app are healthy', () => {
    const worker = service('worker');
    for (const dependency of ['postgres', 'redis', 'app']) {
      expect(worker).toMatch(new RegExp(`${dependency}:\\n\\s+condition: service_healthy`));
    }
  });

  it('hardens app and worker and gives them more grace than the shutdown timeout', () => {
    for (const rule of [
      'init: true',
      'read_only: true',
      '- /tmp',
      'no-new-privileges:true',
      'cap_drop: [ALL]',
    ]) {
      expect(compose).toContain(rule);
    }
    const grace = Number(/stop_grace_period: (\d+)s/.exec(compose)?.[1]) * 1000;
    const timeout = Number(/SHUTDOWN_TIMEOUT_MS: \$\{SHUTDOWN_TIMEOUT_MS:-(\d+)\}/.exec(compose)?.[1]);
    expect(grace).toBeGreaterThan(timeout);
  });

  it('runs Redis with a password, append-only persistence and no eviction', () => {
    const redis = service('redis');
    for (const flag of ['requirepass', '--appendonly', 'everysec', 'noeviction'])
      expect(redis).toContain(flag);
    expect(redis).toContain('redisdata:/data');
  });

  it("keeps Redis's password off its command line (it goes in on stdin)", () => {
    const redis = service('redis');
    expect(redis).not.toContain('--requirepass');
    expect(redis).toContain('redis-server -');
    const command = redis.slice(redis.indexOf('command:'), redis.indexOf('environment:'));
    expect(command).toContain('$$RD_PASSWORD');
    expect(command).not.toContain('${RD_PASSWORD');
  });

  it('serves requests as a role that cannot change the schema, and migrates once, as the owner, before', () => {
    expect(compose).toMatch(/^ {2}POSTGRES_USER: \$\{APP_DB_USER:-app_rw\}$/m);
    expect(compose).toMatch(/^ {2}MIGRATE_ON_START: "false"$/m);
    const migrate = service('migrate');
    expect(migrate).toContain('"dist/http.mjs", "migrate"');
    expect(migrate).toMatch(/POSTGRES_USER: \$\{POSTGRES_USER:-app\}/);
    expect(service('db-roles')).toContain('/app-role.sql');
    expect(service('app')).toMatch(/migrate:\n\s+condition: service_completed_successfully/);
  });

  it('limits the memory and the processes of app, worker and migrate', () => {
    expect(compose).toMatch(/^ {2}mem_limit: /m);
    expect(compose).toMatch(/^ {2}pids_limit: \d+$/m);
    for (const name of ['app', 'worker', 'migrate']) expect(service(name)).toContain('<<: *hardening');
  });

  it.skipIf(!hasComposeCli)('is valid to docker compose config', () => {
    const result = spawnSync('docker', ['compose', 'config', '-q'], { cwd: projectRoot, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
