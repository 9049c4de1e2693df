import { startPostgres, startRedis } from './throwaway-servers.ts';

/** A server a run connects to; `given` when the environment named it rather than a throwaway started here. */
export type Store = { host: string; port: number; user?: string; password: string; given: boolean };

type Undo = (step: () => Promise<unknown>) => void;

/**
 * The PostgreSQL and Redis of a test or bench run: the servers PG_HOST / RD_HOST name (with PG_PORT,
 * POSTGRES_USER, POSTGRES_PASSWORD, RD_PORT, RD_PASSWORD), otherwise throwaway ones started from the machine's
 * binaries, whose stops are handed to `undo`.
 */
export async function openStores(
  env: Record<string, string | undefined>,
  undo: Undo,
): Promise<{ pg: Store & { user: string }; redis: Store }> {
  let pg: Store & { user: string };
  if (env.PG_HOST) {
    pg = {
      host: env.PG_HOST,
      port: Number(env.PG_PORT || 5432),
      user: env.POSTGRES_USER || 'postgres',
      password: env.POSTGRES_PASSWORD ?? '',
      given: true,
    };
  } else {
    const server = await startPostgres();
    undo(server.stop);
    pg = { host: server.host, port: server.port, user: server.user, password: '', given: false };
  }
  let redis: Store;
  if (env.RD_HOST) {
    redis = {
      host: env.RD_HOST,
      port: Number(env.RD_PORT || 6379),
      password: env.RD_PASSWORD ?? '',
      given: true,
    };
  } else {
    const server = await startRedis();
    undo(server.stop);
    redis = { host: server.host, port: server.port, password: '', given: false };
  }
  return { pg, redis };
}
