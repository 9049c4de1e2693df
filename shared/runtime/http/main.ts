import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { AppModule } from '../app.ts';
import { type Commands, readCommand, requireArgs } from '../command-line.ts';
import { composeRuntime } from '../compose.ts';
import { loadConfig } from '../config.ts';
import { createDirectSql } from '../db.ts';
import { exitWithHealth } from '../health.ts';
import { createLogger } from '../log.ts';
import { serveMetrics } from '../metrics-registry.ts';
import { migrate } from '../migrations.ts';
import { onShutdownSignal, runMain } from '../process.ts';
import { createApp, type Route } from './app.ts';
import { createHttpMetrics } from './metrics.ts';
import { routeTableLines } from './route-table.mjs';
import { listenHttp } from './server.ts';

/** What the build hands the HTTP bundle: the app module, the discovered routes and the OpenAPI document's JSON. */
export type HttpBundle = { app: AppModule; routes: Route[]; openapiJson: string };

const COMMANDS: Commands = {
  serve: { does: 'serve the API, applying pending migrations first unless MIGRATE_ON_START=false' },
  migrate: { does: 'apply pending migrations, then exit' },
  routes: { does: 'print the route table' },
  openapi: { does: 'print the OpenAPI document' },
  health: { does: "ask the running server's /readyz: exit 0 when ready (a container healthcheck)" },
};

/**
 * The HTTP process's command line (`node dist/http.mjs help` lists it). Commands that need no configuration
 * (`routes`, `openapi`) answer without any; an unknown one exits 2 before anything starts.
 */
export function main(bundle: HttpBundle, argv = process.argv.slice(2)): void {
  runMain(async () => {
    const { command, args } = readCommand('dist/http.mjs', COMMANDS, 'serve', argv);
    requireArgs('dist/http.mjs', command, COMMANDS, args, { min: 0, max: 0 });
    if (command === 'openapi') {
      process.stdout.write(`${JSON.stringify(JSON.parse(bundle.openapiJson), null, 2)}\n`);
      return;
    }
    if (command === 'routes') {
      process.stdout.write(`${routeTableLines(bundle.routes).join('\n')}\n`);
      return;
    }
    const config = loadConfig(undefined, bundle.app.settings);
    if (command === 'health') exitWithHealth(await readinessProblem(config.http));
    const log = createLogger(config.logLevel, { process: 'http' });

    if (command === 'migrate' || config.migrateOnStart) {
      // The migrations hold a session lock, which a transaction pooler would not keep: PostgreSQL itself.
      const sql = createDirectSql(config.postgres, 1);
      try {
        const migrationsDir = config.migrationsDir ?? fileURLToPath(new URL('../sql/', import.meta.url));
        const { applied } = await migrate(sql, migrationsDir, log);
        log.info({ applied: applied.length }, 'migrations up to date');
      } finally {
        await sql.end({ timeout: 5 });
      }
      if (command === 'migrate') return;
    }

    const runtime = await composeRuntime({ app: bundle.app, config, process: 'http', log });
    let shuttingDown = false;
    const metrics = createHttpMetrics();
    const app = createApp({
      routes: bundle.routes,
      runtime,
      openapi: bundle.openapiJson,
      docsAssetsDir: fileURLToPath(new URL('./docs/', import.meta.url)),
      isShuttingDown: () => shuttingDown,
      metrics,
    });
    const server = await listenHttp(app.fetch, config.http, log);
    // Metrics go on a port of their own, never on the API's: route counts and runtime details are not public.
    const metricsServer = await serveMetrics(metrics.registry, config.http.metrics, log);

    onShutdownSignal(log, async (signal) => {
      shuttingDown = true;
      await drain(signal, config.shutdownDrainMs, log);
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
      await metricsServer?.close();
      await runtime.close();
    });
  });
}

/**
 * On SIGTERM, keeps accepting and serving for `drainMs` while /readyz fails and every answer says
 * `Connection: close`: a load balancer (or a Kubernetes Service) takes a few seconds to stop sending here, and
 * a refused connection in that time would be a dropped request. SIGINT, an operator's Ctrl-C, stops at once.
 */
async function drain(signal: string, drainMs: number, log: Logger): Promise<void> {
  if (signal !== 'SIGTERM' || drainMs === 0) return;
  log.info({ drainMs }, 'draining: readiness fails, requests are still served');
  await new Promise((resolve) => setTimeout(resolve, drainMs));
  log.info('drain over: refusing new connections, finishing requests in flight');
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
