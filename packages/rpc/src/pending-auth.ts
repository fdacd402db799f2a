/** What the pool needs from a connection it tracks. */
export interface PendingAuthHolder {
  /** The pool evicted it (its slot is already free): refuse it now. */
  evicted(): void;
  /**
   * Whether it has sent nothing worth keeping yet (no proof): only such a holder may be evicted for
   * a newcomer from its own address. Holders without this method never are.
   */
  awaitingProof?(): boolean;
}

/**
 * The server's slots for connections still authenticating, grouped by remote address.
 *
 * `max` bounds them all. One address may take more than `perAddress` of them only while nobody else
 * needs them: when every slot is taken, a connection from an address holding fewer than
 * `perAddress` evicts the oldest pending connection of the address holding the most, provided that
 * one holds more than `perAddress`. So one address opening silent connections cannot lock the
 * others out, and a busy address (many clients behind one NAT, a load test) still gets the whole
 * pool when it is alone. And when the full pool's largest holder is the newcomer's own address
 * (always so over a Unix socket, where every peer is one address), the newcomer evicts that
 * address's oldest connection that has not sent its proof yet: silent connections cannot lock
 * out the honest clients that share their address either.
 */
export class PendingAuthPool<T extends PendingAuthHolder> {
  readonly #max: number;
  readonly #perAddress: number;
  /** Holders by address, each set in arrival order (first = oldest). */
  readonly #byAddress = new Map<string, Set<T>>();
  readonly #addressOf = new Map<T, string>();

  constructor(max: number, perAddress: number) {
    this.#max = max;
    this.#perAddress = perAddress;
  }

  /** Connections holding a slot. */
  get size(): number {
    return this.#addressOf.size;
  }

  /**
   * Give `holder` a slot for `address`, evicting another address's oldest connection if the pool
   * is full and fairness allows it.
   * @returns false when refused (the pool is full and `address` already has its share, or no address is over its share).
   */
  acquire(address: string, holder: T): boolean {
    if (this.#addressOf.size >= this.#max) {
      const victim = this.#victimFor(address) ?? this.#silentOf(address);
      if (victim === undefined) return false;
      this.release(victim);
      victim.evicted();
      // evicted() could in principle have started another acquire; check again.
      if (this.#addressOf.size >= this.#max) return false;
    }
    let holders = this.#byAddress.get(address);
    if (holders === undefined) {
      holders = new Set();
      this.#byAddress.set(address, holders);
    }
    holders.add(holder);
    this.#addressOf.set(holder, address);
    return true;
  }

  /** Free `holder`'s slot. Safe to call more than once, or for a holder that never had one. */
  release(holder: T): void {
    const address = this.#addressOf.get(holder);
    if (address === undefined) return;
    this.#addressOf.delete(holder);
    const holders = this.#byAddress.get(address)!;
    holders.delete(holder);
    if (holders.size === 0) this.#byAddress.delete(address);
  }

  /** The oldest holder of `address` still awaiting its proof, if `address` holds more than its share. */
  #silentOf(address: string): T | undefined {
    const holders = this.#byAddress.get(address);
    if (holders === undefined || holders.size <= this.#perAddress) return undefined;
    for (const holder of holders) if (holder.awaitingProof?.() === true) return holder;
    return undefined;
  }

  #victimFor(address: string): T | undefined {
    if ((this.#byAddress.get(address)?.size ?? 0) >= this.#perAddress) return undefined;
    let largest: Set<T> | undefined;
    // Only runs when the pool is full: at most `max` holders over at most `max` addresses.
    for (const holders of this.#byAddress.values()) {
      if (holders.size > this.#perAddress && (largest === undefined || holders.size > largest.size)) largest = holders;
    }
    if (largest === undefined) return undefined;
    return largest.values().next().value;
  }
}
