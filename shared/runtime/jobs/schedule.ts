import { Cron } from 'croner';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { NamedTask } from './queue.ts';
import type { Enqueue } from './task.ts';

type TickServices = { redis: Redis; log: Logger; enqueue: Enqueue };

/** Tries of one tick's enqueue, the waits between them doubling from `retryMs`, before the tick is given up. */
const TICK_ATTEMPTS = 5;

/**
 * Runs a task on its cron schedule. The tick is the pattern's own time, not the moment the timer fired, so
 * every worker names it alike (see enqueueTick).
 */
export function scheduleTask(task: NamedTask, schedule: string, services: TickServices): Cron {
  return new Cron(schedule, { protect: true, catch: true }, async (cron: Cron) => {
    const tick = (cron.previousRuns(1, new Date(Date.now() + 1))[0] ?? new Date()).toISOString();
    await enqueueTick(task, tick, services);
  });
}

/**
 * Enqueues one tick's job, once however many workers run. Each tick claims a Redis key unique to it; only the
 * worker that wins it enqueues, and the job id is the tick too, so even a late duplicate cannot create a
 * second job. The claim would otherwise make the tick's fate that one enqueue's: the winner retries a failed
 * enqueue (the same id makes a retry harmless), and gives the claim back if every try fails, so that the
 * tick is not silently lost behind it.
 */
export async function enqueueTick(
  task: NamedTask,
  tick: string,
  services: TickServices,
  retryMs = 500,
): Promise<{ jobId: string } | undefined> {
  const key = `schedule:${task.name}:${tick}`;
  const claimed = await services.redis.set(key, '1', 'PX', 86_400_000, 'NX');
  if (claimed !== 'OK') return undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      const { id } = await services.enqueue(
        task.definition,
        { scheduledAt: tick },
        { jobId: `${task.name}@${tick}` },
      );
      services.log.info({ task: task.name, jobId: id, tick, attempt }, 'scheduled job enqueued');
      return { jobId: id };
    } catch (error) {
      if (attempt >= TICK_ATTEMPTS) {
        await services.redis.del(key).catch(() => {});
        services.log.error(
          { task: task.name, tick, err: error },
          'scheduled job not enqueued; its tick is missed',
        );
        return undefined;
      }
      services.log.warn(
        { task: task.name, tick, attempt, err: error },
        'scheduled job not enqueued yet; retrying',
      );
      await new Promise((resolve) => setTimeout(resolve, retryMs * 2 ** (attempt - 1)));
    }
  }
}
