import { CreditBalance } from './credit.js';

/** Any source of items: an async iterable (an `async function*`) or a plain iterable. */
export type ItemSource<T> = AsyncIterable<T> | Iterable<T>;

/** The iterator of an {@link ItemSource}; sync iterators are awaited the same way. */
interface SourceIterator<T> {
  next(): IteratorResult<T> | Promise<IteratorResult<T>>;
  return?(): unknown;
}

/** What a pump writes to. */
export interface PumpSink<T> {
  /**
   * Send one item. Returns false when the transport is backed up (the pump waits for
   * {@link PumpSink.drained} before pulling the next item). Throws when the item cannot be sent.
   */
  sendItem(value: T): boolean;
  /** The source finished. */
  sendEnd(): void;
  /** The source threw (`fromSource`) or an item could not be sent (the source was closed). */
  failed(error: unknown, fromSource: boolean): void;
  /** Resolves once the transport took what was queued (or closed). */
  drained(): Promise<void>;
  /**
   * Whether the transport reported backpressure since the last drain, also for items the sink
   * sent later than {@link PumpSink.sendItem} returned (a batch at the end of the tick).
   */
  readonly congested?: boolean;
}

/** Whether `value` can be iterated by a pump. */
export function isItemSource(value: unknown): value is ItemSource<unknown> {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  const source = value as Partial<AsyncIterable<unknown> & Iterable<unknown>>;
  return typeof source[Symbol.asyncIterator] === 'function' || typeof source[Symbol.iterator] === 'function';
}

function iteratorOf<T>(source: ItemSource<T>): SourceIterator<T> {
  const asyncIterable = source as AsyncIterable<T>;
  if (typeof asyncIterable[Symbol.asyncIterator] === 'function') return asyncIterable[Symbol.asyncIterator]();
  return (source as Iterable<T>)[Symbol.iterator]();
}

function ignore(): void {}

/**
 * The producing end of one direction of a stream. It pulls the source's next item only when it may
 * send it: with credit from the consumer AND with the transport not backed up. So a consumer that
 * stops reading holds the source (a generator: at its `yield`) and nothing queues without bound.
 * `stop()` closes the source with `return()`, so a generator's `finally` blocks run.
 */
export class Pump<T> {
  readonly #sink: PumpSink<T>;
  readonly #credit: CreditBalance;
  #source: ItemSource<T> | undefined;
  #iterator: SourceIterator<T> | undefined;
  #wakeUp: (() => void) | undefined;
  #backedUp = false;
  #stopped = false;
  /** Items sent. */
  sent = 0;

  constructor(source: ItemSource<T>, sink: PumpSink<T>, initialCredit: number) {
    this.#source = source;
    this.#sink = sink;
    this.#credit = new CreditBalance(initialCredit);
  }

  /** Whether the pump stopped (source done or failed, or `stop()`). */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Start pulling: the first pull happens now if there is credit (the source's code runs up to its first `yield` or `await`). */
  start(): void {
    void this.#run();
  }

  /** The consumer granted more credit (throws ProtocolError on overflow). */
  grant(credit: number): void {
    this.#credit.add(credit);
    this.#wake();
  }

  /**
   * Stop for good: no more pulls, and the source is closed (`return()`), now or, when a pull is
   * under way, as soon as the source lets go of it. Idempotent.
   */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#closeSource();
    this.#wake();
  }

  #wake(): void {
    const wakeUp = this.#wakeUp;
    if (wakeUp === undefined) return;
    this.#wakeUp = undefined;
    wakeUp();
  }

  #closeSource(): void {
    const iterator = this.#iterator;
    this.#source = undefined;
    this.#iterator = undefined;
    if (iterator?.return === undefined) return;
    try {
      const closing = iterator.return();
      // A source whose cleanup fails has nobody left to tell; don't let it become unhandled.
      if (closing instanceof Promise) closing.catch(ignore);
    } catch {
      // as above
    }
  }

  async #run(): Promise<void> {
    const sink = this.#sink;
    try {
      const source = this.#source;
      if (source === undefined || this.#stopped) return;
      this.#iterator = iteratorOf(source);
    } catch (error) {
      this.#stopped = true;
      sink.failed(error, true);
      return;
    }
    for (;;) {
      while (this.#credit.available === 0 && !this.#stopped) {
        await new Promise<void>((resolve) => (this.#wakeUp = resolve));
      }
      if ((this.#backedUp || sink.congested === true) && !this.#stopped) {
        this.#backedUp = false;
        await sink.drained();
      }
      const iterator = this.#iterator;
      if (this.#stopped || iterator === undefined) return;
      let result: IteratorResult<T>;
      try {
        result = await iterator.next();
      } catch (error) {
        this.#iterator = undefined;
        if (this.#stopped) return;
        this.#stopped = true;
        sink.failed(error, true);
        return;
      }
      if (this.#stopped) return; // stop() already closed the source; the item is dropped
      if (result.done === true) {
        this.#stopped = true;
        this.#iterator = undefined;
        sink.sendEnd();
        return;
      }
      this.#credit.take();
      try {
        if (!sink.sendItem(result.value)) this.#backedUp = true;
      } catch (error) {
        this.#stopped = true;
        this.#closeSource();
        sink.failed(error, false);
        return;
      }
      this.sent++;
    }
  }
}
