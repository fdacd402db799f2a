import { CreditWindow } from './credit.js';

/** Where an inbox sends the credit its reader frees. */
export interface InboxHost {
  /** The reader took `grant` items since the last grant: let the producer send that many more. */
  grantCredit(grant: number): void;
}

const State = {
  /** Items may still arrive. */
  OPEN: 0,
  /** The producer finished: buffered items, then done. */
  ENDED: 1,
  /** Buffered items, then the error (once), then done. */
  FAILED: 2,
  /** Done: nothing more is delivered. */
  CLOSED: 3,
} as const;
type State = (typeof State)[keyof typeof State];

interface Waiter {
  resolve(result: IteratorResult<unknown>): void;
  reject(error: Error): void;
}

const DONE: IteratorResult<never> = Object.freeze({ value: undefined, done: true });

function resumeAfterGrant(inbox: Inbox<unknown>): void {
  inbox.resumeAfterGrant();
}

/**
 * The receiving end of one direction of a stream: the items that arrived and were not read yet
 * (never more than the credit window), the reader's pending `next()` calls, and how the stream
 * ended. Items leave in arrival order; the freed credit goes back to the producer in batches.
 * An error from the producer comes after the items sent before it; a local abort comes at once.
 *
 * After a read frees a grant, the next item is handed out only at the next tick, after the grant's
 * frame: socket writes leave at `process.nextTick`, and a reader that takes a whole window of
 * buffered items in microtasks would otherwise hold every grant back until it is done, so the
 * producer idled while the consumer worked and the other way round (one window per round trip
 * instead of two halves in flight). One tick per grant (half the window), not per item.
 */
export class Inbox<T> {
  readonly window: CreditWindow;
  readonly #host: InboxHost;
  #items: unknown[] = [];
  #head = 0;
  #state: State = State.OPEN;
  #error: Error | undefined;
  #waiters: Waiter[] | undefined;
  /** A grant went out: items wait for the tick after its frame is written. */
  #yielding = false;

  constructor(host: InboxHost, highWaterMark: number) {
    this.#host = host;
    this.window = new CreditWindow(highWaterMark);
  }

  /** Items received and not read yet. */
  get buffered(): number {
    return this.#items.length - this.#head;
  }

  /** Whether items may still arrive (the producer has not finished or failed, nobody closed it). */
  get open(): boolean {
    return this.#state === State.OPEN;
  }

  /** Whether the reader has seen (or will see, with nothing buffered) the end. */
  get finished(): boolean {
    return this.#state === State.CLOSED || (this.#state === State.ENDED && this.buffered === 0);
  }

  /** An item arrived (uses one credit: throws ProtocolError past the window). Ignored once not open. */
  push(value: unknown): void {
    this.window.received();
    if (this.#state !== State.OPEN) return;
    const waiters = this.#waiters;
    if (waiters !== undefined && waiters.length > 0 && !this.#yielding) {
      const waiter = waiters.shift()!;
      this.#consumed();
      waiter.resolve({ value, done: false });
      return;
    }
    this.#items.push(value);
  }

  /** The producer finished: the reader gets what is buffered, then done. */
  end(): void {
    if (this.#state !== State.OPEN) return;
    this.#state = State.ENDED;
    this.#settleWaiters();
  }

  /** The producer failed: the reader gets what is buffered, then `error`. */
  fail(error: Error): void {
    if (this.#state !== State.OPEN) return;
    this.#state = State.FAILED;
    this.#error = error;
    this.#settleWaiters();
  }

  /** Stop now (abort, timeout, link lost): buffered items are dropped, the reader gets `error` next. */
  abort(error: Error): void {
    if (this.finished) return;
    this.#drop();
    this.#state = State.FAILED;
    this.#error = error;
    this.#settleWaiters();
  }

  /** The reader is done (`break`): buffered items are dropped, every later `next()` is done. */
  close(): void {
    if (this.#state === State.CLOSED) return;
    this.#drop();
    this.#state = State.CLOSED;
    this.#error = undefined;
    this.#settleWaiters();
  }

  /** The next item, the end, or the error. */
  next(): Promise<IteratorResult<T>> {
    if (this.#yielding && this.#state !== State.CLOSED && (this.#head < this.#items.length || this.#state === State.OPEN)) return this.#wait();
    if (this.#head < this.#items.length) return Promise.resolve({ value: this.#take() as T, done: false });
    switch (this.#state) {
      case State.OPEN:
        return this.#wait();
      case State.FAILED: {
        const error = this.#error!;
        this.#state = State.CLOSED;
        this.#error = undefined;
        return Promise.reject(error);
      }
      default:
        return Promise.resolve(DONE);
    }
  }

  /** The tick after a grant: serve the readers that waited, in order. */
  resumeAfterGrant(): void {
    this.#yielding = false;
    const waiters = this.#waiters;
    while (waiters !== undefined && waiters.length > 0 && !this.#yielding && this.#head < this.#items.length) {
      waiters.shift()!.resolve({ value: this.#take(), done: false });
    }
    if (!this.#yielding && this.#head === this.#items.length && this.#state !== State.OPEN) this.#settleWaiters();
  }

  #wait(): Promise<IteratorResult<T>> {
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      (this.#waiters ??= []).push({ resolve: resolve as Waiter['resolve'], reject });
    });
  }

  #take(): unknown {
    const items = this.#items;
    const value = items[this.#head];
    items[this.#head++] = undefined;
    if (this.#head === items.length) {
      this.#items = items.length > 64 ? [] : items;
      items.length = 0;
      this.#head = 0;
    }
    this.#consumed();
    return value;
  }

  #consumed(): void {
    const grant = this.window.consumed();
    if (grant > 0 && this.#state === State.OPEN) {
      this.#host.grantCredit(grant);
      if (!this.#yielding) {
        this.#yielding = true;
        process.nextTick(resumeAfterGrant, this);
      }
    }
  }

  #drop(): void {
    this.#items = [];
    this.#head = 0;
  }

  /** With nothing buffered, settle pending `next()` calls from the state. */
  #settleWaiters(): void {
    const waiters = this.#waiters;
    if (waiters === undefined || waiters.length === 0) return;
    // Items still buffered behind a grant's tick go first; the tick settles the rest.
    if (this.#head < this.#items.length) return;
    this.#waiters = undefined;
    for (const waiter of waiters) {
      if (this.#state === State.FAILED) {
        const error = this.#error!;
        this.#state = State.CLOSED;
        this.#error = undefined;
        waiter.reject(error);
      } else waiter.resolve(DONE);
    }
  }
}
