import { readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { bundleBaseline, oursEnv, startServer } from './http-servers.mjs';
import { drive } from './load.mjs';
import { median, rssBytes } from './proc.mjs';
import { LOAD_CPU, SERVER_CPU } from './settings.mjs';
import { freePort, HOST, startNode, tail } from './support.mjs';

// Start-up and memory: our fixture bundle against the bare Hono bundle (the same GET /). Cold start is from
// spawn to the first 200 of GET /, then the process idles for IDLE_MS and its RSS is read; rounds alternate
// which side goes first, after one uncounted start of each. Then each serves the hello load for
// BENCH_SOAK_SECONDS and its RSS is read again.

const IDLE_MS = 2_000;

/**
 * @typedef {{ coldStartMs: number, idleRssBytes: number }} StartRound
 * @typedef {{ id: 'ours' | 'hono', label: string, rounds: StartRound[], median: StartRound, loadedRssBytes: number }} StartSide
 */

/**
 * @param {string} tmp
 * @param {import('./settings.mjs').BenchSettings} settings
 * @param {{ env: import('./support.mjs').StoreEnv }} stores
 * @param {{ fixture: string, app: string }} ours
 */
export async function measureStartup(tmp, settings, stores, ours) {
  const scripts = {
    ours: path.join(ours.fixture, 'http.mjs'),
    hono: await bundleBaseline('bench/hono-baseline.mjs', path.join(tmp, 'hono-bundle.mjs')),
  };
  /** @type {(side: 'ours' | 'hono') => Promise<Record<string, string>>} */
  const envOf = async (side) =>
    side === 'ours' ? await oursEnv(tmp, stores.env, { LOG_LEVEL: 'info' }) : {};
  /** @type {Record<'ours' | 'hono', StartRound[]>} */
  const rounds = { ours: [], hono: [] };
  // Round -1 is not counted: the first spawn of each reads its files from disk, the others from the page cache.
  for (let round = -1; round < settings.coldStarts; round++) {
    /** @type {('ours' | 'hono')[]} */
    const order = (round + 2) % 2 === 0 ? ['ours', 'hono'] : ['hono', 'ours'];
    for (const side of order) {
      const env = await envOf(side);
      const port = env.AP_PORT ?? String(await freePort(tmp));
      const spawnedAt = performance.now();
      const started = startNode(tmp, `cold-${side}-${round}`, scripts[side], {
        args: env.AP_PORT ? [] : [port],
        env,
        cpu: SERVER_CPU,
      });
      await firstOk(`http://${HOST}:${port}/`, started);
      const coldStartMs = performance.now() - spawnedAt;
      if (round >= 0) {
        await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
        rounds[side].push({ coldStartMs, idleRssBytes: rssBytes(started.child.pid) });
      }
      await started.stop();
    }
  }

  /** @type {Record<'ours' | 'hono', number>} */
  const loaded = { ours: 0, hono: 0 };
  for (const side of /** @type {const} */ (['ours', 'hono'])) {
    const env = await envOf(side);
    const server = await startServer(tmp, {
      id: `soak-${side}`,
      label: side,
      script: scripts[side],
      env,
      ready: '/',
    });
    await drive(
      {
        generator: settings.loadGenerator,
        cpu: settings.pinned ? LOAD_CPU : undefined,
        connections: settings.connections,
        seconds: settings.soakSeconds,
      },
      server.base,
      { method: 'GET', path: '/' },
    );
    loaded[side] = rssBytes(server.started.child.pid);
    await server.started.stop();
  }

  const labels = { ours: 'handler-kit (bench fixture dist/http.mjs)', hono: 'bare Hono bundle' };
  /** @type {StartSide[]} */
  const sides = /** @type {const} */ (['ours', 'hono']).map((id) => ({
    id,
    label: labels[id],
    rounds: rounds[id],
    median: {
      coldStartMs: median(rounds[id].map((r) => r.coldStartMs)),
      idleRssBytes: median(rounds[id].map((r) => r.idleRssBytes)),
    },
    loadedRssBytes: loaded[id],
  }));
  const bundles = [
    { name: 'bench fixture dist/http.mjs', file: scripts.ours },
    { name: 'reference app dist/http.mjs', file: path.join(ours.app, 'http.mjs') },
    { name: 'reference app dist/worker.mjs', file: path.join(ours.app, 'worker.mjs') },
    { name: 'bare Hono bundle', file: scripts.hono },
  ].map(({ name, file }) => ({
    name,
    bytes: statSync(file).size,
    gzipBytes: gzipSync(readFileSync(file)).length,
  }));
  return { idleMs: IDLE_MS, soakSeconds: settings.soakSeconds, sides, bundles };
}

/**
 * Asks `url` again and again until it answers 200: refused connections are retried at once, since the
 * figure is how soon the process serves.
 * @param {string} url
 * @param {import('./support.mjs').Started} started
 */
async function firstOk(url, started, timeoutMs = 30_000) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (started.child.exitCode !== null) break;
    const status = await new Promise((resolve) => {
      const request = http.get(url, { agent: false }, (response) => {
        response.resume();
        resolve(response.statusCode);
      });
      request.once('error', () => resolve(0));
    });
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms. Output:\n${tail(started.logFile)}`);
}
