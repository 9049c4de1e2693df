import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { loadKeyring } from '../../keys.ts';
import { loadConfig } from '../config.ts';
import { createSql } from '../db.ts';
import { createEnqueue, createQueues } from '../jobs/queue.ts';
import { createLogger } from '../log.ts';
import { migrate } from '../migrations.ts';
import { onShutdownSignal, runMain } from '../process.ts';
import { createRedis } from '../redis.ts';
import { createApp, type Route } from './app.ts';
import { createHttpMetrics } from './metrics.ts';

/** What the build hands the HTTP bundle: the discovered routes and the OpenAPI document made from them. */
export type HttpBundle = { routes: Route[]; openapi: Record<string, unknown> };

/**
 * The HTTP process. `migrate` applies pending migrations and exits; `openapi` prints the document; `health`
 * asks the running server's /readyz (for a container healthcheck); anything else serves the API, applying
 * migrations first unless MIGRATE_ON_START=false.
 */
export function main(bundle: HttpBundle, argv = process.argv.slice(2)): void {
  runMain(async () => {
    if (argv[0] === 'openapi') {
      process.stdout.write(`${JSON.stringify(bundle.openapi, null, 2)}\n`);
      return;
    }
    const config = loadConfig();
    if (argv[0] === 'health') {
      const problem = await readinessProblem(config.http);
      process.stdout.write(problem ? `unhealthy: ${problem}\n` : 'healthy\n');
      process.exit(problem ? 1 : 0);
    }
    const log = createLogger(config.logLevel, { process: 'http' });
    const sql = createSql(config.postgres);
    const migrationsDir = config.migrationsDir ?? fileURLToPath(new URL('../sql/', import.meta.url));

    if (argv[0] === 'migrate' || config.migrateOnStart) {
      const { applied } = await migrate(sql, migrationsDir, log);
      log.info({ applied: applied.length }, 'migrations up to date');
      if (argv[0] === 'migrate') {
        await sql.end({ timeout: 5 });
        return;
      }
    }

    const keys = await loadKeyring({
      dir: config.auth.keysDir ?? fileURLToPath(new URL('../keys/', import.meta.url)),
      production: config.env === 'production',
      log,
      persist: true,
    });
    const redis = createRedis(config.redis, log);
    const queues = createQueues(config, log);
    let shuttingDown = false;
    const app = createApp({
      routes: bundle.routes,
      services: {
        sql,
        redis,
        log,
        config,
        keys,
        enqueue: createEnqueue(queues, { timeoutMs: config.enqueueTimeoutMs }),
      },
      bodyLimitBytes: config.http.bodyLimitBytes,
      openapi: bundle.openapi,
      docsAssetsDir: fileURLToPath(new URL('./docs/', import.meta.url)),
      isShuttingDown: () => shuttingDown,
      metrics: createHttpMetrics(),
    });
    const server = serve({ fetch: app.fetch, hostname: config.http.host, port: config.http.port }, (info) => {
      log.info({ host: info.address, port: info.port, routes: bundle.routes.length }, 'listening');
    });

    onShutdownSignal(log, async () => {
      shuttingDown = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const force = setTimeout(() => {
        log.warn(
          { timeoutMs: config.shutdownTimeoutMs },
          'requests still running at the shutdown timeout; closing them',
        );
        if ('closeAllConnections' in server) server.closeAllConnections();
      }, config.shutdownTimeoutMs);
      await closed;
      clearTimeout(force);
      await Promise.allSettled([sql.end({ timeout: 5 }), redis.quit(), queues.close(1_000)]);
    });
  });
}

/** Asks the server on this machine whether it is ready; the reason it is not, or undefined. */
async function readinessProblem(http: { host: string; port: number }): Promise<string | undefined> {
  const host = ['0.0.0.0', '::', ''].includes(http.host) ? '127.0.0.1' : http.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${http.port}/readyz`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return response.ok ? undefined : `${url} answered ${response.status}: ${await response.text()}`;
  } catch (error) {
    return `${url} did not answer (${(error as Error).message})`;
  }
}
