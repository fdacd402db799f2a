// Latency percentiles from an HDR histogram (hdr-histogram-js): fixed memory however many samples,
// 3 significant digits from 1 µs to 60 s, and the same p50/p90/p99/max for every latency figure.
import { build } from 'hdr-histogram-js';

/** Percentiles of one latency distribution, milliseconds. */
export interface LatencySummary {
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Records latencies in milliseconds (stored as whole microseconds). */
export class LatencyRecorder {
  readonly #histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });

  /** Adds one sample, in milliseconds. */
  record(ms: number): void {
    this.#histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  /** Number of samples. */
  get count(): number {
    return this.#histogram.totalCount;
  }

  /** p50/p90/p99/max so far, milliseconds (NaN without samples). */
  summary(): LatencySummary {
    const h = this.#histogram;
    if (h.totalCount === 0) return { p50Ms: Number.NaN, p90Ms: Number.NaN, p99Ms: Number.NaN, maxMs: Number.NaN };
    // A percentile is its bucket's highest equivalent value, which may lie just above the true max.
    const max = h.maxValue;
    const at = (q: number): number => Math.min(h.getValueAtPercentile(q), max) / 1000;
    return { p50Ms: at(50), p90Ms: at(90), p99Ms: at(99), maxMs: max / 1000 };
  }

  /** Frees the histogram. */
  destroy(): void {
    this.#histogram.destroy();
  }
}
