import type { Metric, Registry } from 'prom-client';

/** One sample as prom-client's registry formats it; buckets carry prom-client's empty exemplar. */
type Sample = { labels: object; sharedLabels: object; value: number; metricName: string; exemplar?: null };

/** The observations of one label set: how many fell in each bucket (the last past every bound), sum, count. */
export class HistogramSeries {
  readonly buckets: number[];
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    readonly bounds: readonly number[],
  ) {
    this.buckets = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    // As prom-client: the first bucket whose bound is at least the value.
    let bucket = 0;
    while (bucket < bounds.length && value > (bounds[bucket] as number)) bucket += 1;
    this.buckets[bucket] = (this.buckets[bucket] as number) + 1;
    this.sum += value;
    this.count += 1;
  }
}

/**
 * A histogram written at each scrape exactly as prom-client writes its own, whose observations are counted in
 * plain numbers. prom-client's `observe` hashes and checks its labels and looks its bucket up by a bound turned
 * into a string on every call: about a microsecond of every request and every job. A caller asks once for the
 * series of each label set it uses (`series`) and keeps it.
 */
export class TalliedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    bounds: number[],
    registers: Registry[],
  ) {
    this.#bounds = [...bounds].sort((a, b) => a - b);
    for (const registry of registers) registry.registerMetric(this as unknown as Metric);
  }

  /** The series of one label set, made on first use; the same one for the same labels. */
  series(labels: Record<string, string>): HistogramSeries {
    const key = JSON.stringify(labels);
    let series = this.#series.get(key);
    if (!series) {
      series = new HistogramSeries({ ...labels }, this.#bounds);
      this.#series.set(key, series);
    }
    return series;
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
    for (const series of this.#series.values()) {
      // A series reset since it was handed out counts from nothing again; one never observed is not shown.
      if (series.count === 0) continue;
      const shared = series.labels;
      let below = 0;
      for (const [index, le] of this.#bounds.entries()) {
        below += series.buckets[index] as number;
        values.push({
          labels: { le },
          sharedLabels: shared,
          value: below,
          metricName: `${name}_bucket`,
          exemplar: null,
        });
      }
      values.push({
        labels: { le: '+Inf' },
        sharedLabels: shared,
        value: series.count,
        metricName: `${name}_bucket`,
        exemplar: null,
      });
      values.push({ labels: {}, sharedLabels: shared, value: series.sum, metricName: `${name}_sum` });
      values.push({ labels: {}, sharedLabels: shared, value: series.count, metricName: `${name}_count` });
    }
    return { name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Forgets every observation (the series handed out stay valid and count again from nothing). */
  reset(): void {
    for (const series of this.#series.values()) {
      series.buckets.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}
