/**
 * What a fault test sends a cluster and reads back from it: requests that cannot hang, batches and steady
 * load of jobs, which jobs the ledger and the workers' logs show, bee-queue's own keys, and polling.
 */
import { Redis } from 'ioredis';
import type { Sql } from 'postgres';
import type { BundleProcess } from '../../support/processes.ts';
import type { Cluster } from './cluster.ts';

/** What a request came to: its status, `hung` when it passed its deadline, `error` when the socket failed. */
export type Outcome = number | 'hung' | 'error';

/** One POST as the client saw it. `status` 0: no answer before the client's own deadline (a hang). */
export type Posted = {
  key: string;
  status: number;
  /** When the request was sent and when its answer came, in ms since the epoch. */
  sentAt: number;
  answeredAt: number;
  retryAfter: string | null;
};

/** A job for the fault app: POST /jobs reads `ms`, `task` and `delayMs`; POST /jobs/tx `failAfterEnqueue`. */
export type JobBody = {
  key: string;
  ms?: number;
  task?: string;
  delayMs?: number;
  failAfterEnqueue?: boolean;
};

/** How long a request may go unanswered unless the test says otherwise: past any deadline the app keeps. */
const DEFAULT_TIMEOUT_MS = 10_000;

/** Sends one request with a deadline, so that a fault can never leave the test waiting on a hung answer. */
async function request(
  url: string,
  init: { method?: string; body?: unknown },
  timeoutMs: number,
): Promise<{ outcome: Outcome; retryAfter: string | null }> {
  try {
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      ...(init.body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(init.body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.arrayBuffer();
    return { outcome: response.status, retryAfter: response.headers.get('retry-after') };
  } catch (error) {
    return { outcome: (error as Error).name === 'TimeoutError' ? 'hung' : 'error', retryAfter: null };
  }
}

/** Sends one request (GET unless said) and says what it came to. */
export async function send(
  url: string,
  init: { method?: string; body?: unknown } = {},
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<Outcome> {
  return (await request(url, init, timeoutMs)).outcome;
}

/** Posts one job to `path` (POST /jobs unless said), timing it and keeping its Retry-After. */
export async function postJob(
  base: string,
  body: JobBody,
  timeoutMs = DEFAULT_TIMEOUT_MS,
  path = '/jobs',
): Promise<Posted> {
  const sentAt = Date.now();
  const { outcome, retryAfter } = await request(`${base}${path}`, { method: 'POST', body }, timeoutMs);
  const status = typeof outcome === 'number' ? outcome : 0;
  return { key: body.key, status, sentAt, answeredAt: Date.now(), retryAfter };
}

/** Posts each body to `path` (POST /jobs unless said), `lanes` requests in flight; the answers in order. */
export async function postAll(
  base: string,
  bodies: JobBody[],
  options: { timeoutMs?: number; lanes?: number; path?: string } = {},
): Promise<Posted[]> {
  const answers: Posted[] = new Array(bodies.length);
  let next = 0;
  const lane = async () => {
    while (next < bodies.length) {
      const index = next++;
      answers[index] = await postJob(base, bodies[index] as JobBody, options.timeoutMs, options.path);
    }
  };
  await Promise.all(Array.from({ length: options.lanes ?? 16 }, lane));
  return answers;
}

/**
 * Sends `perSecond` jobs a second without waiting for answers, as independent clients would, until `stop`,
 * which resolves with every answer. `body(i)` makes the i-th job; `path(i)` picks its route.
 */
export function steadyLoad(
  base: string,
  options: {
    perSecond: number;
    timeoutMs: number;
    body: (i: number) => JobBody;
    path?: (i: number) => string;
  },
) {
  const answers: Promise<Posted>[] = [];
  const settled: Posted[] = [];
  const timer = setInterval(() => {
    const i = answers.length;
    const answer = postJob(base, options.body(i), options.timeoutMs, options.path?.(i));
    answers.push(
      answer.then((posted) => {
        settled.push(posted);
        return posted;
      }),
    );
  }, 1000 / options.perSecond);
  return {
    sent: () => answers.length,
    /** The answers that came so far, in the order they came. */
    answered: (): readonly Posted[] => settled,
    async stop(): Promise<Posted[]> {
      clearInterval(timer);
      return Promise.all(answers);
    },
  };
}

/** Of `keys`, how many the ledger shows finished. */
export async function finishedAmong(sql: Sql, keys: string[]): Promise<number> {
  if (keys.length === 0) return 0;
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from ledger where key = any(${keys}) and finished_at is not null`;
  return row?.n ?? 0;
}

/** Of `keys`, those that have a ledger row. */
export async function inLedger(sql: Sql, keys: string[]): Promise<string[]> {
  if (keys.length === 0) return [];
  const rows = await sql<{ key: string }[]>`select key from ledger where key = any(${keys})`;
  return rows.map((row) => row.key);
}

/**
 * Job ids that some worker ran, from the `job` log line each run ends with. A job refused with 503 has no
 * ledger row (the fault app deletes it), so only these logs can show that it ran anyway.
 */
export function jobIdsRun(workers: { generations: BundleProcess[] }[]): Set<string> {
  const ids = new Set<string>();
  for (const worker of workers) {
    for (const process of worker.generations) {
      for (const line of process.logs()) if (line.msg === 'job') ids.add(String(line.jobId));
    }
  }
  return ids;
}

/** How many runs a worker (any of its processes) ended at or after `since` (ms since the epoch). */
export function runsEndedSince(worker: { generations: BundleProcess[] }, since: number): number {
  return worker.generations
    .flatMap((process) => process.logs())
    .filter((line) => line.msg === 'job' && Date.parse(String(line.time)) >= since).length;
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

/** Polls `read` every 200 ms until `done` says so or `timeoutMs` passes; returns the last value either way. */
export async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await sleep(200);
    value = await read();
  }
  return value;
}

/** Polls until `read` gives a value, or throws after `timeoutMs` naming what did not happen. */
export async function waitFor<T>(
  what: string,
  read: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const value = await pollUntil(read, (value) => value !== undefined, timeoutMs);
  if (value === undefined) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
  return value;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
