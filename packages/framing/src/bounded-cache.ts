/**
 * A map with at most `maxEntries` entries: when full, a new key evicts the oldest one (insertion
 * order), so a peer cycling through keys costs recomputation, never unbounded memory.
 */
export class BoundedCache<K, V> {
  readonly #map = new Map<K, V>();
  readonly #maxEntries: number;

  /** @param maxEntries at least 1. */
  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries >= 1 ? maxEntries : 1;
  }

  /** Number of entries. */
  get size(): number {
    return this.#map.size;
  }

  /** The value for `key`, or `undefined`. */
  get(key: K): V | undefined {
    return this.#map.get(key);
  }

  /** Stores `value` under `key` (evicting the oldest entry when full) and returns `value`. */
  set(key: K, value: V): V {
    const map = this.#map;
    if (map.size >= this.#maxEntries && !map.has(key)) {
      const oldest = map.keys().next();
      if (oldest.done !== true) map.delete(oldest.value);
    }
    map.set(key, value);
    return value;
  }

  /** Removes `key`; returns whether it was there. */
  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  /** Removes every entry. */
  clear(): void {
    this.#map.clear();
  }
}
