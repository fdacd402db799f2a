import { AbortedError, BufferOverflowError, ConnectionClosedError } from './errors.js';
import type { FrameWriter } from './frame-writer.js';
import type { ResolvedSocketLimits } from './socket-options.js';

/** Where `pause` and `resume` are announced (the socket). */
export interface PauseTarget {
  emit(eventName: 'pause' | 'resume'): boolean;
}

interface DrainWaiter {
  resolve: () => void;
  reject: (error: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

function aborted(signal: AbortSignal): AbortedError {
  return new AbortedError('drained() was aborted', { cause: signal.reason });
}

/**
 * Outbound watermarks of one socket, as a `net.Socket` means them: `pause` (and `send()` returning
 * `false`) only when bytes really remain queued after a write, `resume` once they fall to the low
 * mark, and a hard limit past which a frame is refused before anything of it is written.
 *
 * Write completions are watched only from the first `pause` or `drained()` on: most sockets never
 * need them, and an unwatched write costs nothing extra.
 */
export class Backpressure {
  readonly #limits: ResolvedSocketLimits;
  readonly #writer: FrameWriter;
  readonly #target: PauseTarget;
  #paused = false;
  /** Destroyed: write completions no longer matter. */
  #stopped = false;
  #closed = false;
  #waiters: Set<DrainWaiter> | undefined;
  #watching = false;

  constructor(limits: ResolvedSocketLimits, writer: FrameWriter, target: PauseTarget) {
    this.#limits = limits;
    this.#writer = writer;
    this.#target = target;
  }

  /** Whether `pause` fired and `resume` has not yet. */
  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Refuses a frame of `frameBytes` (header included) that would take the buffer past
   * `maxBufferedBytes`; call before writing anything of it.
   *
   * @throws BufferOverflowError then.
   */
  admit(frameBytes: number): void {
    const buffered = this.#writer.bufferedBytes;
    const max = this.#limits.maxBufferedBytes;
    if (buffered + frameBytes > max) {
      throw new BufferOverflowError(
        `sending ${String(frameBytes)} bytes with ${String(buffered)} buffered would exceed maxBufferedBytes (${String(max)})`,
      );
    }
  }

  /**
   * After a frame was written: whether the sender may go on. Bytes batched past `highWaterMark`
   * leave at once, and only what the stream could not take then counts.
   */
  afterSend(): boolean {
    const writer = this.#writer;
    if (this.#paused) return writer.bufferedBytes === 0;
    const highWaterMark = this.#limits.highWaterMark;
    if (writer.bufferedBytes < highWaterMark) return true;
    writer.flush();
    if (writer.bufferedBytes < highWaterMark) return true;
    this.#paused = true;
    this.#watch();
    this.#target.emit('pause');
    return false;
  }

  /** Resolves once buffered bytes are at or below `lowWaterMark` (see `FramedSocket.drained`). */
  drained(signal: AbortSignal | undefined): Promise<void> {
    if (this.#closed) return Promise.reject(new ConnectionClosedError('the socket closed before draining'));
    if (signal?.aborted) return Promise.reject(aborted(signal));
    if (!this.#paused && this.#writer.bufferedBytes <= this.#limits.lowWaterMark) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: DrainWaiter = { resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          this.#waiters?.delete(waiter);
          reject(aborted(signal));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      (this.#waiters ??= new Set()).add(waiter);
      this.#watch();
    });
  }

  /** The socket is being destroyed: no `resume` any more; `drained()` calls wait for {@link close}. */
  stop(): void {
    this.#stopped = true;
  }

  /** The socket closed: pending `drained()` calls reject, and nothing fires any more. */
  close(): void {
    this.#stopped = true;
    this.#closed = true;
    const waiters = this.#waiters;
    this.#waiters = undefined;
    if (waiters === undefined) return;
    for (const waiter of waiters) {
      if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.reject(new ConnectionClosedError('the socket closed before draining'));
    }
  }

  /** Runs after every watched write completes. */
  #afterWrite(): void {
    if (this.#stopped || (!this.#paused && this.#waiters === undefined)) return;
    if (this.#writer.bufferedBytes > this.#limits.lowWaterMark) return;
    if (this.#paused) {
      this.#paused = false;
      this.#target.emit('resume');
    }
    const waiters = this.#waiters;
    this.#waiters = undefined;
    if (waiters === undefined) return;
    for (const waiter of waiters) {
      if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve();
    }
  }

  #watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    this.#writer.watchWrites((error) => {
      if (error == null) this.#afterWrite();
    });
  }
}
