/** Input items the holding node accepts ahead of the peer's stream, per stream (rpc's default input credit). */
export const INPUT_WINDOW = 16;

/**
 * The `input` of a stream served for another node: the items the caller's node sends (`ii`),
 * handed to the peer's local stream as an async iterator. rpc pulls it only within the credit the
 * peer grants, so it waits here; this node grants the caller {@link INPUT_WINDOW} items at first
 * and then again, by half-windows, as rpc takes them, so the caller never has more in flight and
 * its input is never pulled before it may send. `return()` (the local stream ended or was
 * cancelled) stops the grants; `close()` ends it from this side.
 */
export class InputFeed implements AsyncIterableIterator<unknown> {
  readonly #grant: (count: number) => void;
  readonly #items: unknown[] = [];
  #waiter: ((result: IteratorResult<unknown>) => void) | undefined;
  /** The caller's input finished. */
  #ended = false;
  /** Nobody reads any more. */
  #closed = false;
  #taken = 0;

  constructor(grant: (count: number) => void) {
    this.#grant = grant;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Grant the first window (once the local stream is open). */
  start(): void {
    this.#grant(INPUT_WINDOW);
  }

  /** An item from the caller; false when it is past the credit granted (a broken caller). */
  push(value: unknown): boolean {
    if (this.#closed) return true;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      this.#took();
      waiter({ value, done: false });
      return true;
    }
    if (this.#items.length >= INPUT_WINDOW) return false;
    this.#items.push(value);
    return true;
  }

  /** The caller's input finished: the peer's `ctx.input` ends after the items already here. */
  end(): void {
    this.#ended = true;
    this.#finishWaiter();
  }

  /** End it from this side (the stream is over). */
  close(): void {
    this.#closed = true;
    this.#items.length = 0;
    this.#finishWaiter();
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.#items.length > 0) {
      const value = this.#items.shift();
      this.#took();
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended || this.#closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  return(): Promise<IteratorResult<unknown>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  #took(): void {
    if (this.#closed || this.#ended) return;
    if (++this.#taken * 2 >= INPUT_WINDOW) {
      this.#grant(this.#taken);
      this.#taken = 0;
    }
  }

  #finishWaiter(): void {
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    this.#waiter = undefined;
    waiter({ value: undefined, done: true });
  }
}
