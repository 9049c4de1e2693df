import type { Metric, Registry } from 'prom-client';

/** One task's runs: how many fell in each bucket (the last past every bound), their sum and count. */
/** One sample as prom-client's registry formats it; buckets carry prom-client's empty exemplar. */
type Sample = { labels: object; sharedLabels: object; value: number; metricName: string; exemplar?: null };

type Tally = { readonly task: { task: string }; readonly buckets: number[]; sum: number; count: number };

/**
 * A histogram of run times by task, written at each scrape exactly as prom-client writes its own histograms,
 * that counts each run in plain numbers. prom-client's `observe` hashes and checks its labels and looks its
 * bucket up by a bound turned into a string on every call: about a microsecond of every job.
 */
export class RunTimes {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  readonly #tallies = new Map<string, Tally>();

  constructor(
    readonly name: string,
    readonly help: string,
    bounds: number[],
    registers: Registry[],
  ) {
    this.#bounds = [...bounds].sort((a, b) => a - b);
    for (const registry of registers) registry.registerMetric(this as unknown as Metric);
  }

  observe(task: string, seconds: number): void {
    const tally = this.#tallies.get(task) ?? this.#tally(task);
    const bounds = this.#bounds;
    // As prom-client: the first bucket whose bound is at least the value.
    let bucket = 0;
    while (bucket < bounds.length && seconds > (bounds[bucket] as number)) bucket += 1;
    tally.buckets[bucket] = (tally.buckets[bucket] as number) + 1;
    tally.sum += seconds;
    tally.count += 1;
  }

  /** As prom-client's Histogram#get: every sample with all its labels (what getMetricsAsJSON reads). */
  async get() {
    const data = await this.getForPromString();
    const values = data.values.map(({ labels, sharedLabels, ...sample }) => ({
      ...sample,
      labels: { ...labels, ...sharedLabels },
    }));
    return { ...data, values };
  }

  /** What a registry reads at each scrape, in the shape and order of prom-client's Histogram#getForPromString. */
  async getForPromString() {
    const { name } = this;
    const values: Sample[] = [];
    for (const tally of this.#tallies.values()) {
      let below = 0;
      for (const [index, le] of this.#bounds.entries()) {
        below += tally.buckets[index] as number;
        values.push({
          labels: { le },
          sharedLabels: tally.task,
          value: below,
          metricName: `${name}_bucket`,
          exemplar: null,
        });
      }
      values.push({
        labels: { le: '+Inf' },
        sharedLabels: tally.task,
        value: tally.count,
        metricName: `${name}_bucket`,
        exemplar: null,
      });
      values.push({ labels: {}, sharedLabels: tally.task, value: tally.sum, metricName: `${name}_sum` });
      values.push({ labels: {}, sharedLabels: tally.task, value: tally.count, metricName: `${name}_count` });
    }
    return { name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.#tallies.clear();
  }

  #tally(task: string): Tally {
    const tally: Tally = {
      task: { task },
      buckets: new Array<number>(this.#bounds.length + 1).fill(0),
      sum: 0,
      count: 0,
    };
    this.#tallies.set(task, tally);
    return tally;
  }
}
