import { Redis } from 'ioredis';
import type { Cluster } from './cluster.ts';

/** What a request came to: its status, `hung` when it passed its deadline, `error` when the socket failed. */
export type Outcome = number | 'hung' | 'error';

/** Sends one request with a deadline, so that a fault can never leave the test waiting on a hung answer. */
export async function send(
  url: string,
  init: { method?: string; body?: unknown } = {},
  timeoutMs = 10_000,
): Promise<Outcome> {
  try {
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      ...(init.body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(init.body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.arrayBuffer();
    return response.status;
  } catch (error) {
    return (error as Error).name === 'TimeoutError' ? 'hung' : 'error';
  }
}

/** Posts each body to `path` with `concurrency` requests in flight; the outcomes in the bodies' order. */
export async function postAll(
  cluster: Cluster,
  path: string,
  bodies: unknown[],
  concurrency = 16,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(bodies.length);
  let next = 0;
  const lane = async () => {
    while (next < bodies.length) {
      const index = next++;
      outcomes[index] = await send(`${cluster.base}${path}`, { method: 'POST', body: bodies[index] });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return outcomes;
}

/**
 * A client on the cluster's Redis that reads bee-queue's keys of a task (`waiting`, `delayed`, `failed`, ...),
 * for figures the API does not show.
 */
export function queueReader(cluster: Cluster) {
  const redis = new Redis({
    host: cluster.env.RD_HOST,
    port: Number(cluster.env.RD_PORT),
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
  });
  redis.on('error', () => {});
  const key = (task: string, set: string) => `${cluster.env.RD_PREFIX}:q:${task}:${set}`;
  return {
    key,
    delayed: (task: string) => redis.zcard(key(task, 'delayed')),
    isFailed: async (task: string, id: string) => (await redis.sismember(key(task, 'failed'), id)) === 1,
    failedCount: (task: string) => redis.scard(key(task, 'failed')),
    close: () => redis.quit().catch(() => redis.disconnect()),
  };
}

/** Waits `ms`. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
