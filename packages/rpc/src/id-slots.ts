/** Slots a table starts with once used. */
const INITIAL_SLOTS = 16;
/** An emptied table this many times larger than its recent peak is dropped. */
const SHRINK_FACTOR = 8;
/** An empty table shares this (never written: the first id grows the table). */
const NO_SLOTS: readonly undefined[] = Object.freeze([undefined]);

/**
 * Entries keyed by ids the table hands out itself, in a power-of-two array of slots (`id & mask`).
 * `nextId()` counts up and skips ids whose slot is taken, so two pending entries never share a
 * slot; the array doubles when half full, which keeps that true. A lookup is one array read and an
 * id comparison (an unknown or stale id finds nothing).
 *
 * Why not a Map: V8 rehashes a Map into a fresh backing table as entries come and go, and the
 * discarded table keeps pointing at its successor and at the entries it held. Once one discarded
 * table has been promoted to the old generation, that chain keeps every later request's objects
 * alive through young-generation GCs until the next full GC. Under old-generation pressure (a
 * process holding a large buffer) an rpc client measured ~300 promoted bytes and ~40% more CPU per
 * request with a Map here; with this table, no promotion.
 */
export class IdSlots<T extends { readonly id: number }> {
  #slots: (T | undefined)[] = NO_SLOTS as undefined[];
  #mask = 0;
  #size = 0;
  /** Most entries held at once since the table was last empty. */
  #peak = 0;
  #next: number;

  /** `firstId` only matters to tests of the wrap-around. */
  constructor(firstId = 0) {
    this.#next = firstId >>> 0;
  }

  /** Entries held. */
  get size(): number {
    return this.#size;
  }

  /** A fresh id: the next of a u32 counter whose slot is free (skipping ids still pending). */
  nextId(): number {
    if ((this.#size + 1) * 2 > this.#slots.length) this.#resize(Math.max(INITIAL_SLOTS, this.#slots.length * 2));
    const slots = this.#slots;
    const mask = this.#mask;
    let id = this.#next;
    while (slots[id & mask] !== undefined) id = (id + 1) >>> 0;
    this.#next = (id + 1) >>> 0;
    return id;
  }

  /** The entry with `id`, if held. */
  get(id: number): T | undefined {
    const entry = this.#slots[id & this.#mask];
    return entry !== undefined && entry.id === id ? entry : undefined;
  }

  /** Hold `entry`, whose id came from {@link IdSlots.nextId}. */
  add(entry: T): void {
    // nextId() left this slot free; if something took it since (a request sent from inside a
    // send), doubling separates two distinct ids sooner or later.
    while (this.#slots[entry.id & this.#mask] !== undefined) this.#resize(this.#slots.length * 2);
    this.#slots[entry.id & this.#mask] = entry;
    if (++this.#size > this.#peak) this.#peak = this.#size;
  }

  /** Let go of `entry`; false if it was not held. */
  delete(entry: T): boolean {
    const index = entry.id & this.#mask;
    if (this.#slots[index] !== entry) return false;
    this.#slots[index] = undefined;
    if (--this.#size === 0) {
      // Empty after a burst far above what is in flight now and then: give the memory back. A
      // table that empties between rounds of the same size (a closed loop) keeps its slots.
      if (this.#slots.length > SHRINK_FACTOR * this.#peak && this.#slots.length > INITIAL_SLOTS) {
        this.#slots = NO_SLOTS as undefined[];
        this.#mask = 0;
      }
      this.#peak = 0;
    }
    return true;
  }

  /** Every entry held, then none. */
  takeAll(): T[] {
    const entries: T[] = [];
    if (this.#size === 0) return entries;
    const slots = this.#slots;
    for (let i = 0; i < slots.length; i++) {
      const entry = slots[i];
      if (entry !== undefined) entries.push(entry);
    }
    this.#slots = NO_SLOTS as undefined[];
    this.#mask = 0;
    this.#size = 0;
    this.#peak = 0;
    return entries;
  }

  #resize(length: number): void {
    const slots = new Array<T | undefined>(length).fill(undefined);
    const mask = length - 1;
    // Distinct ids in distinct slots stay distinct in a table twice the size.
    const old = this.#slots;
    for (let i = 0; i < old.length; i++) {
      const entry = old[i];
      if (entry !== undefined) slots[entry.id & mask] = entry;
    }
    this.#slots = slots;
    this.#mask = mask;
  }
}
