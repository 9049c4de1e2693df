import { describe, expect, it } from 'vitest';
import { DeadlineList, deadlinesOf } from '#runtime/jobs/deadlines.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('DeadlineList', () => {
  it('expires every pending deadline in the order set, and never a cleared one', async () => {
    const list = new DeadlineList(30);
    const expired: number[] = [];
    const deadlines = [0, 1, 2, 3, 4].map((n) => list.set(() => expired.push(n)));
    list.clear(deadlines[1] as never);
    await tick(10);
    // Set later than the first ones: it expires after them, on the same list.
    const late = list.set(() => expired.push(5));
    list.clear(deadlines[3] as never);
    await expect.poll(() => expired, { timeout: 2_000, interval: 5 }).toEqual([0, 2, 4, 5]);
    list.clear(late);
    await tick(50);
    expect(expired).toEqual([0, 2, 4, 5]);
  });

  it('keeps expiring deadlines set from inside an expiry, and after the list was empty', async () => {
    const list = new DeadlineList(10);
    const expired: string[] = [];
    list.set(() => {
      expired.push('first');
      list.set(() => expired.push('set by the first'));
    });
    await expect.poll(() => expired, { timeout: 2_000, interval: 5 }).toEqual(['first', 'set by the first']);
    list.set(() => expired.push('after empty'));
    await expect
      .poll(() => expired, { timeout: 2_000, interval: 5 })
      .toEqual(['first', 'set by the first', 'after empty']);
  });

  it('expires a deadline still pending behind many thousands set and cleared after it', async () => {
    const list = new DeadlineList(40);
    const expired: string[] = [];
    list.set(() => expired.push('long'));
    // Cleared ones pile up behind the pending first one until they are most of the list, then are dropped.
    for (let n = 0; n < 10_000; n++) list.clear(list.set(() => expired.push(`cleared ${n}`)));
    const last = list.set(() => expired.push('last'));
    list.clear(last);
    list.set(() => expired.push('pending'));
    await expect.poll(() => expired, { timeout: 2_000, interval: 5 }).toEqual(['long', 'pending']);
    list.clear(last);
    await tick(60);
    expect(expired).toEqual(['long', 'pending']);
  });

  it('is one list per length in a process', () => {
    expect(deadlinesOf(1_234)).toBe(deadlinesOf(1_234));
    expect(deadlinesOf(1_234)).not.toBe(deadlinesOf(1_235));
  });
});
