import type { Sql } from 'postgres';
import type { BundleProcess } from '../../support/processes.ts';

/** One POST as the client saw it. `status` 0: no answer before the client's own deadline (a hang). */
export type Posted = {
  key: string;
  status: number;
  /** When the request was sent and when its answer came, in ms since the epoch. */
  sentAt: number;
  answeredAt: number;
  retryAfter: string | null;
};

export type JobBody = { key: string; ms?: number; task?: string; delayMs?: number };

/** Posts one job to `path` (POST /jobs unless said), giving up after `timeoutMs` so no request can hang. */
export async function postJob(
  base: string,
  body: JobBody,
  timeoutMs: number,
  path = '/jobs',
): Promise<Posted> {
  const sentAt = Date.now();
  try {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.arrayBuffer();
    const retryAfter = response.headers.get('retry-after');
    return { key: body.key, status: response.status, sentAt, answeredAt: Date.now(), retryAfter };
  } catch {
    return { key: body.key, status: 0, sentAt, answeredAt: Date.now(), retryAfter: null };
  }
}

/** Posts every body with `lanes` requests in flight; returns each answer. */
export async function postAll(
  base: string,
  bodies: JobBody[],
  options: { timeoutMs: number; lanes?: number; path?: string },
): Promise<Posted[]> {
  const answers: Posted[] = [];
  let next = 0;
  const lane = async () => {
    for (let body = bodies[next++]; body; body = bodies[next++]) {
      answers.push(await postJob(base, body, options.timeoutMs, options.path));
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

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
