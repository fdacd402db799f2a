import { codeOf } from '../exit-codes.js';
import { LatencyHistogram } from './histogram.js';

/** What a benchmark run counted. */
export class Tally {
  /** Requests answered with a result. */
  ok = 0;
  /** Failed requests by error code. */
  readonly errors = new Map<string, number>();
  /** The first failure, reported (and turned into the exit code) after the summary. */
  firstError: unknown;
  /** Latencies of the answered requests. */
  readonly latency = new LatencyHistogram();

  success(latencyMs: number): void {
    this.ok++;
    this.latency.record(latencyMs);
  }

  failure(error: unknown): void {
    const code = codeOf(error) ?? 'Error';
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
    this.firstError ??= error;
  }

  get failed(): number {
    let total = 0;
    for (const count of this.errors.values()) total += count;
    return total;
  }
}
