import { build, type Histogram } from 'hdr-histogram-js';

/** Highest latency the histogram tracks: one hour, in microseconds (higher values are clamped). */
const HIGHEST_US = 3_600_000_000;

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/**
 * Latencies in an HdrHistogram (hdr-histogram-js): 1 µs resolution, 3 significant digits, fixed
 * memory however many values it records, percentiles read without sorting anything.
 */
export class LatencyHistogram {
  readonly #histogram: Histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
  });

  /** Record one latency in milliseconds. */
  record(ms: number): void {
    this.#histogram.recordValue(Math.min(HIGHEST_US, Math.max(1, Math.round(ms * 1000))));
  }

  /** How many latencies were recorded. */
  get count(): number {
    return this.#histogram.totalCount;
  }

  /** The latency at percentile `p` (0-100), in milliseconds; 0 when nothing was recorded. */
  percentile(p: number): number {
    return this.count === 0 ? 0 : this.#histogram.getValueAtPercentile(p) / 1000;
  }

  summary(): LatencySummary {
    const empty = this.count === 0;
    return {
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      max: empty ? 0 : this.#histogram.maxValue / 1000,
      mean: empty ? 0 : this.#histogram.mean / 1000,
    };
  }
}
