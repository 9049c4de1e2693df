import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HEARTBEAT_INTERVAL_MS,
  type Heartbeat,
  heartbeatProblem,
  writeHeartbeat,
} from '#runtime/jobs/heartbeat.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'heartbeat-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const beat = (overrides: Partial<Heartbeat> = {}): Heartbeat => ({
  at: Date.now(),
  pid: process.pid,
  postgres: 'ok',
  redis: 'ok',
  ...overrides,
});

describe('writeHeartbeat and heartbeatProblem', () => {
  it('finds a fresh beat with both stores answering healthy', async () => {
    const file = path.join(dir, 'fresh.json');
    await writeHeartbeat(file, beat());
    expect(await heartbeatProblem(file)).toBeUndefined();
  });

  it('replaces the previous beat rather than appending to it', async () => {
    const file = path.join(dir, 'replaced.json');
    await writeHeartbeat(file, beat({ redis: 'down (refused)' }));
    await writeHeartbeat(file, beat());
    expect(await heartbeatProblem(file)).toBeUndefined();
  });

  it('reports a beat older than three intervals with its age', async () => {
    const file = path.join(dir, 'stale.json');
    const now = Date.now();
    await writeHeartbeat(file, beat({ at: now - HEARTBEAT_INTERVAL_MS * 3 - 2_000 }));
    expect(await heartbeatProblem(file, now)).toBe('the last heartbeat is 17 s old');
  });

  it('still accepts a beat just inside three intervals', async () => {
    const file = path.join(dir, 'recent.json');
    const now = Date.now();
    await writeHeartbeat(file, beat({ at: now - HEARTBEAT_INTERVAL_MS * 3 }));
    expect(await heartbeatProblem(file, now)).toBeUndefined();
  });

  it('reports a missing file by its path and asks whether the worker runs', async () => {
    const file = path.join(dir, 'never-written.json');
    const problem = await heartbeatProblem(file);
    expect(problem).toContain(file);
    expect(problem).toContain('is the worker running?');
  });

  it('reports an unreadable beat as a problem rather than as healthy', async () => {
    const file = path.join(dir, 'corrupt.json');
    await writeFile(file, '{"at": 17');
    expect(await heartbeatProblem(file)).toMatch(/^no heartbeat at .*corrupt\.json \(.*JSON/);
  });

  it('names the store that is down, with the reason the worker recorded', async () => {
    const pgDown = path.join(dir, 'pg-down.json');
    await writeHeartbeat(pgDown, beat({ postgres: 'down (connection refused)' }));
    expect(await heartbeatProblem(pgDown)).toBe('PostgreSQL is down (connection refused)');

    const redisDown = path.join(dir, 'redis-down.json');
    await writeHeartbeat(redisDown, beat({ redis: 'down (Redis did not answer within 1000 ms)' }));
    expect(await heartbeatProblem(redisDown)).toBe('Redis is down (Redis did not answer within 1000 ms)');
  });
});
