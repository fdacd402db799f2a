import { capturedReject, capturedResolve, pendingPromise } from './captured-promise.js';
import { type Deadlined, DeadlineQueue, type DueList } from './deadline-queue.js';
import { AbortedError, ConnectionClosedError, RequestTimeoutError } from './errors.js';
import { IdSlots } from './id-slots.js';

/** What a {@link RequestTable} needs from the link it belongs to. */
export interface RequestTableHost {
  /** Tell the peer to stop working on `id` (the request timed out or was aborted). */
  sendCancel(id: number): void;
  /** A request settled; `pending` is how many remain (lets graceful close wait for zero). */
  requestSettled(entry: PendingRequest, error: Error | undefined, pending: number): void;
}

/**
 * The one abort listener a signal gets, however many pending requests share it (a signal shared by
 * thousands of concurrent requests would otherwise trip Node's MaxListenersExceededWarning). Removed
 * as soon as none of its requests is pending.
 */
class SignalWatch {
  readonly signal: AbortSignal;
  readonly entries = new Set<PendingRequest>();

  constructor(signal: AbortSignal) {
    this.signal = signal;
  }

  /** Abort listener (EventListenerObject). */
  handleEvent(): void {
    const reason: unknown = this.signal.reason;
    for (const entry of [...this.entries]) {
      entry.table.cancel(entry, new AbortedError(`request ${entry.method} aborted`, { cause: reason }));
    }
  }
}

const watches = new WeakMap<AbortSignal, SignalWatch>();

function watch(signal: AbortSignal, entry: PendingRequest): void {
  let watcher = watches.get(signal);
  if (watcher === undefined) {
    watcher = new SignalWatch(signal);
    watches.set(signal, watcher);
    signal.addEventListener('abort', watcher);
  }
  watcher.entries.add(entry);
}

function unwatch(signal: AbortSignal, entry: PendingRequest): void {
  const watcher = watches.get(signal);
  if (watcher === undefined) return;
  watcher.entries.delete(entry);
  if (watcher.entries.size === 0) {
    signal.removeEventListener('abort', watcher);
    watches.delete(signal);
  }
}

/** One outgoing request awaiting its answer. */
export class PendingRequest implements Deadlined {
  readonly id: number;
  readonly method: string;
  /** `performance.now()` at send when someone watches diagnostics, else 0. */
  readonly startedAt: number;
  readonly table: RequestTable;
  /** Settles when the request does. */
  readonly promise: Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: Error) => void;
  /** Own timer, only when the deadline queue has no list for its timeout. */
  timer: NodeJS.Timeout | undefined = undefined;
  signal: AbortSignal | undefined = undefined;
  dueAt = 0;
  dueList: DueList | undefined = undefined;
  prevDue: PendingRequest | undefined = undefined;
  nextDue: PendingRequest | undefined = undefined;

  constructor(table: RequestTable, id: number, method: string, startedAt: number) {
    this.table = table;
    this.id = id;
    this.method = method;
    this.startedAt = startedAt;
    this.promise = pendingPromise();
    this.resolve = capturedResolve();
    this.reject = capturedReject();
  }
}

function onRequestTimeout(entry: PendingRequest): void {
  entry.timer = undefined;
  entry.table.cancel(entry, new RequestTimeoutError(`request ${entry.method} timed out`));
}

/** Node's timers cannot wait longer than this. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * Outgoing requests of one link, by id ({@link IdSlots}). Ids are a u32 counter scoped to the link
 * and direction.
 * Every entry settles exactly once (answer, remote error, timeout, abort or link drop) and releases
 * its deadline and abort listener on every path. Timeouts share one timer per link (see
 * {@link DeadlineQueue}) instead of one per request.
 */
export class RequestTable {
  readonly #pending: IdSlots<PendingRequest>;
  readonly #host: RequestTableHost;
  /** Made by the first request with a timeout: a link that only serves (most server links) never needs it. */
  #deadlines: DeadlineQueue<PendingRequest> | undefined = undefined;

  /** `firstId` only matters to tests of the wrap-around. */
  constructor(host: RequestTableHost, firstId = 0) {
    this.#host = host;
    this.#pending = new IdSlots(firstId);
  }

  /** Requests awaiting an answer. */
  get size(): number {
    return this.#pending.size;
  }

  /** A fresh id: the next of a u32 counter, skipping ids that cannot be used now (see IdSlots). */
  nextId(): number {
    return this.#pending.nextId();
  }

  /** Whether the shared deadline timer is armed (tests: it must not outlive the last request). */
  get deadlineTimerArmed(): boolean {
    return this.#deadlines?.armed ?? false;
  }

  /**
   * Track a request that was just sent. `timeoutMs` 0 (or Infinity) means no timeout. The signal,
   * if any, must not be aborted yet (callers reject at once, before sending, when it is).
   */
  add(entry: PendingRequest, timeoutMs: number, signal: AbortSignal | undefined): void {
    this.#pending.add(entry);
    // Past Node's longest timer (24.8 days) a fallback timer would fire at once: no timeout then.
    if (timeoutMs > 0 && timeoutMs !== Infinity && !(this.#deadlines ??= new DeadlineQueue<PendingRequest>(onRequestTimeout)).add(entry, timeoutMs) && timeoutMs <= MAX_TIMER_DELAY_MS) {
      entry.timer = setTimeout(onRequestTimeout, timeoutMs, entry);
    }
    if (signal !== undefined) {
      entry.signal = signal;
      watch(signal, entry);
    }
  }

  /** Take the entry for an answer to `id`; undefined for unknown or already settled ids. */
  take(id: number): PendingRequest | undefined {
    const entry = this.#pending.get(id);
    if (entry !== undefined) {
      this.#pending.delete(entry);
      this.#release(entry);
    }
    return entry;
  }

  /** Report a taken entry as settled (after resolving or rejecting it). */
  settled(entry: PendingRequest, error: Error | undefined): void {
    this.#host.requestSettled(entry, error, this.#pending.size);
  }

  /** Give up on `entry` locally (timeout, abort), telling the peer to cancel. */
  cancel(entry: PendingRequest, error: Error): void {
    if (!this.#pending.delete(entry)) return;
    this.#release(entry);
    this.#host.sendCancel(entry.id);
    entry.reject(error);
    this.settled(entry, error);
  }

  /** Reject everything pending (the link dropped); nothing is replayed. */
  rejectAll(message: string, cause?: Error): void {
    if (this.#pending.size === 0) return;
    const entries = this.#pending.takeAll();
    for (const entry of entries) {
      this.#release(entry);
      const error = new ConnectionClosedError(message, cause === undefined ? undefined : { cause });
      entry.reject(error);
      this.settled(entry, error);
    }
  }

  #release(entry: PendingRequest): void {
    if (entry.dueList !== undefined) this.#deadlines!.remove(entry);
    else if (entry.timer !== undefined) {
      clearTimeout(entry.timer);
      entry.timer = undefined;
    }
    if (entry.signal !== undefined) {
      unwatch(entry.signal, entry);
      entry.signal = undefined;
    }
  }
}
