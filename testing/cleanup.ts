/**
 * Things a test opened, closed in afterEach in reverse order. Each entry is a function so any kind of
 * resource fits (`cleanup.add(() => server.close())`). A failing close does not stop the others; the
 * first failure is rethrown at the end.
 */
export class Cleanup {
  readonly #tasks: (() => unknown)[] = [];

  /** Registers a close function; returns `value` for chaining (`const s = cleanup.add(x, () => x.close())`). */
  add<T>(value: T, close: (value: T) => unknown): T {
    this.#tasks.push(() => close(value));
    return value;
  }

  /** Registers a close function with no value. */
  defer(close: () => unknown): void {
    this.#tasks.push(close);
  }

  /** Runs every close function, newest first. */
  async run(): Promise<void> {
    let failure: unknown;
    while (this.#tasks.length > 0) {
      const task = this.#tasks.pop()!;
      try {
        await task();
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  }
}
