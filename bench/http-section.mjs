import path from 'node:path';
import { bundleBaseline, oursEnv, seedNote, startServer } from './http-servers.mjs';
import { drive } from './load.mjs';
import { cpuMicros, median } from './proc.mjs';
import { LOAD_CPU } from './settings.mjs';
import { projectRoot } from './support.mjs';

// The HTTP part: three scenarios, each served by ours and its baselines at once (idle but for the one under
// load). Round by round, each server gets one window of load, in an order rotated each round, so that no
// server always runs on the warmer or the busier machine. Figures are the medians of the rounds.

/**
 * @typedef {import('./load.mjs').Request} Request
 * @typedef {{ rps: number, cpuUsPerRequest: number, p50Ms: number, p99Ms: number, requests: number, seconds: number }} Figures
 * @typedef {{ id: string, label: string, rounds: Figures[], median: Figures }} ServerResult
 * @typedef {{ id: string, name: string, request: { method: string, path: string }, servers: ServerResult[] }} ScenarioResult
 */

const ITEM = '{"name":"widget","qty":3}';

/**
 * @param {string} tmp
 * @param {import('./settings.mjs').BenchSettings} settings
 * @param {{ env: import('./support.mjs').StoreEnv }} stores
 * @param {{ fixture: string, app: string, root: string }} ours
 * @returns {Promise<ScenarioResult[]>}
 */
export async function measureHttp(tmp, settings, stores, ours) {
  const fixture = path.join(ours.fixture, 'http.mjs');
  const [hono, honoDb] = await Promise.all([
    bundleBaseline('bench/hono-baseline.mjs', path.join(tmp, 'hono-bundle.mjs')),
    bundleBaseline('bench/hono-db-baseline.mjs', path.join(tmp, 'hono-db-bundle.mjs')),
  ]);
  const auth = {
    ACCESS_TOKEN_TTL_SECONDS: '3600',
    JWT_ISSUER: 'handler-kit',
    JWT_AUDIENCE: 'handler-kit-api',
  };
  const app = await startServer(tmp, {
    id: 'ours-db',
    label: 'handler-kit reference app, LOG_LEVEL=info',
    script: path.join(ours.app, 'http.mjs'),
    env: await oursEnv(tmp, stores.env, {
      ...auth,
      LOG_LEVEL: 'info',
      MIGRATE_ON_START: 'true',
      MIGRATIONS_DIR: path.join(ours.root, 'sql'),
      // Only the seeding logs in; the cost of a hash is not what is measured.
      PASSWORD_SCRYPT_N: '16384',
    }),
    ready: '/readyz',
  });
  const seed = await seedNote(app);
  const servers = [
    app,
    await startServer(tmp, {
      id: 'ours-info',
      label: 'handler-kit, LOG_LEVEL=info',
      script: fixture,
      env: await oursEnv(tmp, stores.env, { LOG_LEVEL: 'info' }),
      ready: '/readyz',
    }),
    await startServer(tmp, {
      id: 'ours-warn',
      label: 'handler-kit, LOG_LEVEL=warn',
      script: fixture,
      env: await oursEnv(tmp, stores.env, { LOG_LEVEL: 'warn' }),
      ready: '/readyz',
    }),
    await startServer(tmp, { id: 'hono', label: 'bare Hono (+ valibot)', script: hono, ready: '/' }),
    await startServer(tmp, {
      id: 'fastify',
      label: 'Fastify 5, logger: true (+ JSON schema)',
      script: path.join(projectRoot, 'bench/fastify-baseline.mjs'),
      ready: '/',
    }),
    await startServer(tmp, {
      id: 'hono-db',
      label: 'bare Hono + jose + postgres.js',
      script: honoDb,
      env: { ...stores.env, ...auth, BENCH_JWKS: seed.jwks },
      ready: '/',
    }),
  ];
  const byId = new Map(servers.map((server) => [server.id, server]));

  /** @type {{ id: string, name: string, request: Request, servers: string[] }[]} */
  const scenarios = [
    {
      id: 'hello',
      name: 'hello: GET / (small JSON)',
      request: { method: 'GET', path: '/' },
      servers: ['ours-info', 'ours-warn', 'hono', 'fastify'],
    },
    {
      id: 'post',
      name: 'validated POST /items',
      request: { method: 'POST', path: '/items', body: ITEM },
      servers: ['ours-info', 'fastify', 'hono'],
    },
    {
      id: 'db',
      name: 'DB read with bearer auth: GET /notes/{id}',
      request: { method: 'GET', path: `/notes/${seed.noteId}`, authorization: seed.authorization },
      servers: ['ours-db', 'hono-db'],
    },
  ];
  const load = {
    generator: settings.loadGenerator,
    cpu: settings.pinned ? LOAD_CPU : undefined,
    connections: settings.connections,
  };

  /** @type {ScenarioResult[]} */
  const results = [];
  for (const scenario of scenarios) {
    const chosen = scenario.servers.map(
      (id) => /** @type {import('./http-servers.mjs').Server} */ (byId.get(id)),
    );
    for (const server of chosen)
      await drive({ ...load, seconds: settings.warmupSeconds }, server.base, scenario.request);
    /** @type {Map<string, Figures[]>} */
    const rounds = new Map(chosen.map((server) => [server.id, []]));
    for (let round = 0; round < settings.rounds; round++) {
      const order = [...chosen.slice(round % chosen.length), ...chosen.slice(0, round % chosen.length)];
      for (const server of order) {
        const figures = await measure(server, { ...load, seconds: settings.seconds }, scenario.request);
        rounds.get(server.id)?.push(figures);
        console.log(
          `  ${scenario.id} round ${round + 1} ${server.id}: ${Math.round(figures.rps)} req/s, ${figures.cpuUsPerRequest.toFixed(1)} CPU µs/req, p99 ${figures.p99Ms.toFixed(2)} ms`,
        );
      }
    }
    results.push({
      id: scenario.id,
      name: scenario.name,
      request: { method: scenario.request.method, path: scenario.request.path },
      servers: chosen.map((server) => {
        const list = rounds.get(server.id) ?? [];
        return { id: server.id, label: server.label, rounds: list, median: medians(list) };
      }),
    });
  }
  for (const server of servers) await server.started.stop();
  return results;
}

/**
 * One window of load, with the server's own CPU time read before and after it.
 * @param {import('./http-servers.mjs').Server} server
 * @param {Parameters<typeof drive>[0]} load
 * @param {Request} request
 * @returns {Promise<Figures>}
 */
async function measure(server, load, request) {
  const pid = server.started.child.pid;
  const before = cpuMicros(pid);
  const window = await drive(load, server.base, request);
  const cpu = cpuMicros(pid) - before;
  return {
    rps: window.requests / window.seconds,
    cpuUsPerRequest: cpu / window.requests,
    p50Ms: window.p50Ms,
    p99Ms: window.p99Ms,
    requests: window.requests,
    seconds: window.seconds,
  };
}

/** @param {Figures[]} list @returns {Figures} */
function medians(list) {
  const of = (/** @type {keyof Figures} */ key) => median(list.map((figures) => figures[key]));
  return {
    rps: of('rps'),
    cpuUsPerRequest: of('cpuUsPerRequest'),
    p50Ms: of('p50Ms'),
    p99Ms: of('p99Ms'),
    requests: of('requests'),
    seconds: of('seconds'),
  };
}
