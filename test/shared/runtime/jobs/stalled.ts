import type BeeQueue from 'bee-queue';
import type { Redis } from 'ioredis';

/**
 * Puts a job through bee-queue's stall recovery as if a worker had taken it and died: it is moved to the
 * active list and left in the stalling set, and the queue's real stall check (the runtime's counted script)
 * moves it back to waiting. `redis` is the app client, whose RD_PREFIX the queues' keys share.
 * Resolves with the number of jobs the check recovered.
 */
export async function recoverAsStalled(queue: BeeQueue, redis: Redis, id: string): Promise<number> {
  const key = (name: string) => `q:${queue.name}:${name}`;
  await redis
    .multi()
    .lrem(key('waiting'), 0, id)
    .lpush(key('active'), id)
    .sadd(key('stalling'), id)
    .del(key('stallBlock'))
    .exec();
  return queue.checkStalledJobs();
}
