import { loadConfig } from './config.ts';
import { createSql } from './db.ts';
import { storeStates } from './health.ts';
import { HEARTBEAT_INTERVAL_MS, heartbeatProblem, writeHeartbeat } from './heartbeat.ts';
import { createLogger } from './log.ts';
import { onShutdownSignal, runMain } from './process.ts';
import type { NamedTask } from './queue.ts';
import { createRedis } from './redis.ts';
import { startWorker } from './worker.ts';

/**
 * The worker process. `health` exits 0 when the running worker's heartbeat is fresh and its stores
 * answer (for Compose's healthcheck); anything else runs every task until SIGTERM.
 */
export function main(tasks: NamedTask[], argv = process.argv.slice(2)): void {
  runMain(async () => {
    const config = loadConfig();
    if (argv[0] === 'health') {
      const problem = await heartbeatProblem(config.worker.heartbeatFile);
      process.stdout.write(problem ? `unhealthy: ${problem}\n` : 'healthy\n');
      process.exit(problem ? 1 : 0);
    }
    const log = createLogger(config.logLevel, { process: 'worker' });
    const sql = createSql(config.postgres);
    const redis = createRedis(config.redis, log);
    const worker = startWorker({ tasks, config, sql, redis, log });

    const beat = async () => {
      const states = await storeStates(sql, redis);
      await writeHeartbeat(config.worker.heartbeatFile, { at: Date.now(), pid: process.pid, ...states });
    };
    const heartbeat = setInterval(
      () => beat().catch((error) => log.warn({ err: error }, 'heartbeat failed')),
      HEARTBEAT_INTERVAL_MS,
    );
    await beat().catch((error) => log.warn({ err: error }, 'heartbeat failed'));

    onShutdownSignal(log, async () => {
      clearInterval(heartbeat);
      await worker.close(config.shutdownTimeoutMs);
      await Promise.allSettled([sql.end({ timeout: 5 }), redis.quit()]);
    });
  });
}
