// The consuming side of a stream benchmark: counts items, starts the clock after a warm-up, stops
// at a count or a time cap, and reports its own CPU time and the wall-clock window (so the producer's
// CPU over the same window can be read from its samples).
import { cpuMicros, epochMs } from '../lib/cpu.js';
import { now } from '../lib/stats.js';

export interface StreamParams {
  host: string;
  port: number;
  /** Items counted after the warm-up at most. */
  total: number;
  /** Items before the clock starts. */
  warm: number;
  /** The consumer stops after this long even below `total`. */
  capMs: number;
  /** Size of a large item (0: small JSON items). */
  itemBytes: number;
}

export interface ConsumeResult {
  items: number;
  ms: number;
  cpuUs: number;
  /** epochMs() when the clock started and stopped. */
  t0: number;
  t1: number;
  /** Median request round trip measured before the stream (µs), when the contender measures it. */
  rttUs?: number;
}

/** One compare per item; `add()` returns true once the consumer should stop. */
export class ConsumeMeter {
  #seen = 0;
  #start = 0;
  #startCpu = 0;
  #t0 = 0;
  #result: ConsumeResult | undefined;
  readonly #params: Pick<StreamParams, 'total' | 'warm' | 'capMs'>;
  #deadline = Number.POSITIVE_INFINITY;

  constructor(params: Pick<StreamParams, 'total' | 'warm' | 'capMs'>) {
    this.#params = params;
  }

  add(): boolean {
    const seen = ++this.#seen;
    if (seen === this.#params.warm) {
      this.#start = now();
      this.#startCpu = cpuMicros();
      this.#t0 = epochMs();
      this.#deadline = this.#start + this.#params.capMs;
      return false;
    }
    if (seen < this.#params.warm) return false;
    const counted = seen - this.#params.warm;
    if (counted < this.#params.total && ((counted & 0x3ff) !== 0 || now() < this.#deadline)) return false;
    this.#result = { items: counted, ms: now() - this.#start, cpuUs: cpuMicros() - this.#startCpu, t0: this.#t0, t1: epochMs() };
    return true;
  }

  get result(): ConsumeResult {
    if (this.#result === undefined) throw new Error(`the stream ended after ${this.#seen} items, before the meter was done`);
    return this.#result;
  }
}
