/** Tuning of {@link AuthThrottle}. */
export interface AuthThrottleOptions {
  /**
   * Delay after the first failure from an address; it doubles with each further failure.
   * @default 100
   */
  baseDelayMs?: number;
  /**
   * Longest delay between two checks from one address.
   * @default 5000
   */
  maxDelayMs?: number;
  /**
   * An address's failure score halves after this long without new failures.
   * @default 30000
   */
  halfLifeMs?: number;
  /**
   * Addresses tracked at once; past it the least recently failing is forgotten.
   * @default 10000
   */
  maxAddresses?: number;
}

interface Entry {
  score: number;
  updatedAt: number;
  /** Earliest time the next proof from this address may be checked. */
  nextCheckAt: number;
}

/**
 * Slows down password guessing per remote address. Each failure adds 1 to the address's score,
 * which halves after every `halfLifeMs` without failures. While an address has a score, its proofs
 * are checked one at a time, spaced `min(baseDelayMs * 2^(score-1), maxDelayMs)` apart however many
 * connections it opens, and each failure is answered only after that delay. With the defaults one
 * address gets about 5 attempts in its first 3 seconds, then at most one every 5 seconds (0.2 per
 * second) for as long as it keeps failing. A success clears the address.
 */
export class AuthThrottle {
  readonly #entries = new Map<string, Entry>();
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #halfLifeMs: number;
  readonly #maxAddresses: number;

  constructor(options: AuthThrottleOptions = {}) {
    this.#baseDelayMs = options.baseDelayMs ?? 100;
    this.#maxDelayMs = options.maxDelayMs ?? 5000;
    this.#halfLifeMs = options.halfLifeMs ?? 30_000;
    this.#maxAddresses = options.maxAddresses ?? 10_000;
  }

  /** Addresses currently tracked. */
  get size(): number {
    return this.#entries.size;
  }

  /** Current (decayed) failure score of `address`. */
  score(address: string, now: number): number {
    const entry = this.#entries.get(address);
    return entry === undefined ? 0 : this.#decay(entry, now);
  }

  /**
   * Milliseconds to hold a proof from `address` before checking it. Reserves the slot, so
   * concurrent attempts from one address are spaced out rather than checked together.
   */
  reserveCheck(address: string, now: number): number {
    const entry = this.#entries.get(address);
    if (entry === undefined) return 0;
    const score = this.#decay(entry, now);
    if (score < 0.5 && entry.nextCheckAt <= now) {
      this.#entries.delete(address);
      return 0;
    }
    const start = Math.max(now, entry.nextCheckAt);
    entry.nextCheckAt = start + this.#delayFor(score);
    return start - now;
  }

  /** Record a failure; returns how long to wait before answering it. */
  recordFailure(address: string, now: number): number {
    let entry = this.#entries.get(address);
    if (entry === undefined) {
      if (this.#entries.size >= this.#maxAddresses) this.#evictOne(now);
      entry = { score: 0, updatedAt: now, nextCheckAt: now };
    } else {
      this.#decay(entry, now);
      // Re-insert so Map order stays "least recently failing first" for eviction.
      this.#entries.delete(address);
    }
    this.#entries.set(address, entry);
    entry.score += 1;
    const delay = this.#delayFor(entry.score);
    entry.nextCheckAt = Math.max(entry.nextCheckAt, now + delay);
    return delay;
  }

  /** Forget an address after it authenticated. */
  recordSuccess(address: string): void {
    this.#entries.delete(address);
  }

  #delayFor(score: number): number {
    if (score < 0.5) return 0;
    const exponent = Math.max(0, Math.round(score) - 1);
    return Math.min(this.#baseDelayMs * 2 ** Math.min(exponent, 30), this.#maxDelayMs);
  }

  #decay(entry: Entry, now: number): number {
    const elapsed = now - entry.updatedAt;
    if (elapsed > 0) {
      entry.score *= 0.5 ** (elapsed / this.#halfLifeMs);
      entry.updatedAt = now;
    }
    return entry.score;
  }

  #evictOne(now: number): void {
    // Oldest failures sit first; drop those that have decayed away, else the very oldest.
    for (const [address, entry] of this.#entries) {
      if (this.#decay(entry, now) < 0.5 && entry.nextCheckAt <= now) {
        this.#entries.delete(address);
        return;
      }
      break;
    }
    const oldest = this.#entries.keys().next();
    if (oldest.done !== true) this.#entries.delete(oldest.value);
  }
}
