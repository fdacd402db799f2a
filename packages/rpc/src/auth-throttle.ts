/** Tuning of {@link AuthThrottle}. */
export interface AuthThrottleOptions {
  /**
   * Delay after the first failure from an address; it doubles with each further failure.
   * @default 100
   */
  baseDelayMs?: number;
  /**
   * Longest delay: between two checks from one address, before a proof is checked, and before a
   * refusal is answered. Keep it below the clients' `authTimeoutMs`.
   * @default 2000
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

/** Defaults of {@link AuthThrottleOptions}. */
export const DEFAULT_AUTH_THROTTLE = { baseDelayMs: 100, maxDelayMs: 2000, halfLifeMs: 30_000, maxAddresses: 10_000 } as const;

/** A proof's place in its address's queue of checks, from {@link AuthThrottle.reserveCheck}. */
export interface CheckReservation {
  readonly address: string;
  /** When the proof may be checked. */
  readonly at: number;
  /** `at - now`: how long to hold the proof, never more than `maxDelayMs`. */
  readonly waitMs: number;
}

interface Entry {
  score: number;
  updatedAt: number;
  /** When this address's last proof was checked. */
  lastCheckAt: number;
  /** Times reserved by proofs still waiting (released when their connection hangs up). */
  readonly reserved: number[];
}

/**
 * Slows down password guessing per remote address. Each failure adds 1 to the address's score,
 * which halves after every `halfLifeMs` without failures. While an address has a score its proofs
 * are checked in turn, spaced `min(baseDelayMs * 2^(score-1), maxDelayMs)` apart, but no proof
 * waits more than `maxDelayMs` for its check: past that, proofs waiting together are checked
 * together. Each failure is answered only after that delay. A success clears the address (unless
 * other proofs of it are waiting for their check).
 *
 * So an honest client sharing an address with a guesser (a NAT, every client of a Unix socket) is
 * checked at most `maxDelayMs` after its proof arrived, however hard the guesser tries; the price is
 * that a guesser's rate is bounded by the connections it keeps authenticating at once (at most
 * `maxPendingAuth`) per `maxDelayMs`, rather than by one per `maxDelayMs`. A proof whose connection
 * hangs up before its check gives its place back ({@link AuthThrottle.release}).
 */
export class AuthThrottle {
  readonly #entries = new Map<string, Entry>();
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #halfLifeMs: number;
  readonly #maxAddresses: number;

  constructor(options: AuthThrottleOptions = {}) {
    this.#baseDelayMs = options.baseDelayMs ?? DEFAULT_AUTH_THROTTLE.baseDelayMs;
    this.#maxDelayMs = options.maxDelayMs ?? DEFAULT_AUTH_THROTTLE.maxDelayMs;
    this.#halfLifeMs = options.halfLifeMs ?? DEFAULT_AUTH_THROTTLE.halfLifeMs;
    this.#maxAddresses = options.maxAddresses ?? DEFAULT_AUTH_THROTTLE.maxAddresses;
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

  /** Proofs of `address` waiting for their check. */
  waiting(address: string): number {
    return this.#entries.get(address)?.reserved.length ?? 0;
  }

  /**
   * Place a proof from `address` in the queue of its checks: after the address's previous checks
   * (checked or still waiting) plus its delay, but never more than `maxDelayMs` from `now`. Call
   * {@link AuthThrottle.checked} when the proof is checked, or {@link AuthThrottle.release} when
   * its connection went away first.
   */
  reserveCheck(address: string, now: number): CheckReservation {
    const entry = this.#entries.get(address);
    if (entry === undefined) return { address, at: now, waitMs: 0 };
    const score = this.#decay(entry, now);
    if (score < 0.5 && entry.reserved.length === 0) {
      this.#entries.delete(address);
      return { address, at: now, waitMs: 0 };
    }
    let latest = entry.lastCheckAt;
    for (const at of entry.reserved) if (at > latest) latest = at;
    const at = Math.min(Math.max(now, latest + this.#delayFor(score)), now + this.#maxDelayMs);
    entry.reserved.push(at);
    return { address, at, waitMs: at - now };
  }

  /** The proof holding `reservation` is being checked now. */
  checked(reservation: CheckReservation, now: number): void {
    const entry = this.#unreserve(reservation);
    if (entry !== undefined && now > entry.lastCheckAt) entry.lastCheckAt = now;
  }

  /** The proof holding `reservation` will not be checked (its connection closed): free its place. */
  release(reservation: CheckReservation): void {
    this.#unreserve(reservation);
  }

  /** Record a failure; returns how long to wait before answering it. */
  recordFailure(address: string, now: number): number {
    let entry = this.#entries.get(address);
    if (entry === undefined) {
      if (this.#entries.size >= this.#maxAddresses) this.#evictOne(now);
      entry = { score: 0, updatedAt: now, lastCheckAt: now, reserved: [] };
    } else {
      this.#decay(entry, now);
      // Re-insert so Map order stays "least recently failing first" for eviction.
      this.#entries.delete(address);
    }
    this.#entries.set(address, entry);
    entry.score += 1;
    // A failure is a check (also one the layers below made: a protocol error before authentication).
    if (now > entry.lastCheckAt) entry.lastCheckAt = now;
    return this.#delayFor(entry.score);
  }

  /**
   * An address authenticated: forget it, unless other proofs of it are still waiting for their
   * check. A success proves that one client knew the password, not that the address is clean: on
   * a shared address (a NAT, a Unix socket) a guesser's waiting proofs keep its score.
   */
  recordSuccess(address: string): void {
    const entry = this.#entries.get(address);
    if (entry !== undefined && entry.reserved.length === 0) this.#entries.delete(address);
  }

  #unreserve(reservation: CheckReservation): Entry | undefined {
    const entry = this.#entries.get(reservation.address);
    if (entry === undefined) return undefined;
    const index = entry.reserved.indexOf(reservation.at);
    if (index >= 0) {
      entry.reserved[index] = entry.reserved[entry.reserved.length - 1]!;
      entry.reserved.pop();
    }
    return entry;
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
      if (this.#decay(entry, now) < 0.5 && entry.reserved.length === 0) {
        this.#entries.delete(address);
        return;
      }
      break;
    }
    const oldest = this.#entries.keys().next();
    if (oldest.done !== true) this.#entries.delete(oldest.value);
  }
}
