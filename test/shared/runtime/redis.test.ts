import { describe, expect, it } from 'vitest';
import { beeQueueRedisSettings } from '#runtime/redis.ts';
import { testConfig } from '../../support/context.ts';

describe('beeQueueRedisSettings', () => {
  const settings = beeQueueRedisSettings(testConfig().redis);

  it('reconnects with a backoff capped at 5 s, and never gives up', () => {
    const delays = [1, 2, 10, 1_000, 1_000_000].map((attempt) => settings.retry_strategy({ attempt }));
    expect(delays).toEqual([200, 400, 2_000, 5_000, 5_000]);
    // node_redis stops for good once it has spent connect_timeout reconnecting, whatever retry_strategy says.
    expect(settings.connect_timeout).toBeGreaterThanOrEqual(20 * 24 * 3_600_000);
    expect(settings.connect_timeout).toBeLessThanOrEqual(2 ** 31 - 1);
  });

  it('buffers commands while disconnected only when asked to', () => {
    expect(settings.enable_offline_queue).toBe(true);
    expect(beeQueueRedisSettings(testConfig().redis, { offlineQueue: false }).enable_offline_queue).toBe(
      false,
    );
  });
});
