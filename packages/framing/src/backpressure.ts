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

const PAUSED = 1;
/** Destroyed: write completions no longer matter. */
const STOPPED = 2;
const CLOSED = 4;
/** Write completions are reported. */
const WATCHING = 8;

function aborted(signal: AbortSignal): AbortedError {
  return new AbortedError('drained() was aborted', { cause: signal.reason });
}

/**
 * Refuses a frame of `frameBytes` (header included) that would take the buffer past
 * `maxBufferedBytes`; call before writing anything of it.
 *
 * @returns the bytes buffered once it is written, at most (pass it to {@link Backpressure.afterSend}).
 * @throws BufferOverflowError then.
 */
export function admit(limits: ResolvedSocketLimits, writer: FrameWriter, frameBytes: number): number {
  const buffered = writer.bufferedBytes;
  const max = limits.maxBufferedBytes;
  if (buffered + frameBytes > max) {
    throw new BufferOverflowError(
      `sending ${String(frameBytes)} bytes with ${String(buffered)} buffered would exceed maxBufferedBytes (${String(max)})`,
    );
  }
  return buffered + frameBytes;
}

/**
 * Whether, after a frame was written with `atMost` bytes buffered at most (what {@link admit}
 * returned: a write only ever lowers it), bytes are below `highWaterMark`: the sender goes on, and a
 * socket that is not paused needs no {@link Backpressure} for it.
 */
export function belowHighWater(limits: ResolvedSocketLimits, writer: FrameWriter, atMost: number): boolean {
  const highWaterMark = limits.highWaterMark;
  return atMost < highWaterMark || writer.bufferedBytes < highWaterMark;
}

/**
 * Outbound watermarks of one socket, as a `net.Socket` means them: `pause` (and `send()` returning
 * `false`) only when bytes really remain queued after a write, `resume` once they fall to the low
 * mark, and a hard limit past which a frame is refused before anything of it is written.
 *
 * Made by the socket at its first `pause` or `drained()`: most sockets never need one (until then
 * the socket checks frames with {@link admit} and {@link belowHighWater}). Write completions are
 * watched from then on only: an unwatched write costs nothing extra.
 */
export class Backpressure {
  readonly #limits: ResolvedSocketLimits;
  readonly #writer: FrameWriter;
  /** {@link PAUSED} | {@link STOPPED} | {@link CLOSED} | {@link WATCHING} (one field: idle sockets are many). */
  #flags = 0;
  #waiters: Set<DrainWaiter> | undefined;

  /**
   * `limits` may be shared by many sockets (a server's); it is never written. `stopped`/`closed`: made
   * for a socket already destroyed or closed (as if {@link stop} or {@link close} had been called).
   */
  constructor(limits: ResolvedSocketLimits, writer: FrameWriter, stopped: boolean, closed: boolean) {
    this.#limits = limits;
    this.#writer = writer;
    this.#flags = (stopped ? STOPPED : 0) | (closed ? STOPPED | CLOSED : 0);
  }

  /** Whether `pause` fired and `resume` has not yet. */
  get paused(): boolean {
    return (this.#flags & PAUSED) !== 0;
  }

  /**
   * After a frame was written: whether the sender may go on. Bytes batched past `highWaterMark`
   * leave at once, and only what the stream could not take then counts. `atMost` is what
   * {@link admit} returned: a write only ever lowers it, so below the mark nothing is measured.
   */
  afterSend(target: PauseTarget, atMost: number): boolean {
    const writer = this.#writer;
    if ((this.#flags & PAUSED) !== 0) return writer.bufferedBytes === 0;
    if (belowHighWater(this.#limits, writer, atMost)) return true;
    writer.flush();
    if (writer.bufferedBytes < this.#limits.highWaterMark) return true;
    this.#flags |= PAUSED;
    this.#watch(target);
    target.emit('pause');
    return false;
  }

  /** Resolves once buffered bytes are at or below `lowWaterMark` (see `FramedSocket.drained`). */
  drained(signal: AbortSignal | undefined, target: PauseTarget): Promise<void> {
    if ((this.#flags & CLOSED) !== 0) return Promise.reject(new ConnectionClosedError('the socket closed before draining'));
    if (signal?.aborted) return Promise.reject(aborted(signal));
    if ((this.#flags & PAUSED) === 0 && this.#writer.bufferedBytes <= this.#limits.lowWaterMark) return Promise.resolve();
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
      this.#watch(target);
    });
  }

  /** The socket is being destroyed: no `resume` any more; `drained()` calls wait for {@link close}. */
  stop(): void {
    this.#flags |= STOPPED;
  }

  /** The socket closed: pending `drained()` calls reject, and nothing fires any more. */
  close(): void {
    this.#flags |= STOPPED | CLOSED;
    const waiters = this.#waiters;
    this.#waiters = undefined;
    if (waiters === undefined) return;
    for (const waiter of waiters) {
      if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.reject(new ConnectionClosedError('the socket closed before draining'));
    }
  }

  /** Runs after every watched write completes. */
  #afterWrite(target: PauseTarget): void {
    const flags = this.#flags;
    if ((flags & STOPPED) !== 0 || ((flags & PAUSED) === 0 && this.#waiters === undefined)) return;
    if (this.#writer.bufferedBytes > this.#limits.lowWaterMark) return;
    if ((flags & PAUSED) !== 0) {
      this.#flags &= ~PAUSED;
      target.emit('resume');
    }
    const waiters = this.#waiters;
    this.#waiters = undefined;
    if (waiters === undefined) return;
    for (const waiter of waiters) {
      if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve();
    }
  }

  #watch(target: PauseTarget): void {
    if ((this.#flags & WATCHING) !== 0) return;
    this.#flags |= WATCHING;
    // One closure per socket, made only once backpressure is needed.
    this.#writer.watchWrites((error) => {
      if (error == null) this.#afterWrite(target);
    });
  }
}
