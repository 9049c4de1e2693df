import { readFile, rename, writeFile } from 'node:fs/promises';

/** What the worker last knew about itself, written where `worker.mjs health` can read it. */
export type Heartbeat = { at: number; pid: number; postgres: string; redis: string };

export const HEARTBEAT_INTERVAL_MS = 5_000;

/** Written to a temp name and renamed, so a reader never sees half a file. */
export async function writeHeartbeat(file: string, beat: Heartbeat): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(beat));
  await rename(temp, file);
}

/**
 * Healthy means a beat newer than three intervals with both stores answering.
 * Returns the reason it is not healthy, or undefined when it is.
 */
export async function heartbeatProblem(file: string, now = Date.now()): Promise<string | undefined> {
  let beat: Heartbeat;
  try {
    beat = JSON.parse(await readFile(file, 'utf8')) as Heartbeat;
  } catch (error) {
    return `no heartbeat at ${file} (${(error as Error).message}); is the worker running?`;
  }
  const age = now - beat.at;
  if (age > HEARTBEAT_INTERVAL_MS * 3) return `the last heartbeat is ${Math.round(age / 1000)} s old`;
  if (beat.postgres !== 'ok') return `PostgreSQL is ${beat.postgres}`;
  if (beat.redis !== 'ok') return `Redis is ${beat.redis}`;
  return undefined;
}
