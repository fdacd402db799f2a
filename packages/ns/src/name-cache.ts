/**
 * A small bounded map shared by every socket of the process: validated event names to their encoded
 * prefixes (send side) or segments (receive side). When full it starts over, so a peer cycling through
 * names costs re-validation, never unbounded memory.
 */
export class NameCache<V> {
  readonly #map = new Map<string, V>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get(name: string): V | undefined {
    return this.#map.get(name);
  }

  set(name: string, value: V): V {
    if (this.#map.size >= this.#max) this.#map.clear();
    this.#map.set(name, value);
    return value;
  }
}
