import { BufferOverflowError, type FramePart, type FramePayload, InvalidArgError } from '@proto/framing';
import { partBytes } from '@proto/framing/internal';

/** Bounds of a {@link MessageWindow}. */
export interface MessageWindowBounds {
  /** Most messages held (an integer >= 0, or Infinity). */
  readonly maxMessages: number;
  /** Most bytes held (encoded message payloads). */
  readonly maxBytes: number;
}

const EMPTY: FramePayload = '';

interface RoomWaiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Bytes of a frame payload as it goes on the wire. */
export function payloadBytes(payload: FramePayload): number {
  if (!Array.isArray(payload)) return partBytes(payload as FramePart);
  let size = 0;
  for (const part of payload as readonly FramePart[]) size += partBytes(part);
  return size;
}

/**
 * The one structure behind the offline queue and the resume window: a bounded FIFO of encoded
 * messages, each with a sequence number (1, 2, 3, ... in the order pushed, never reused).
 *
 * - As an offline queue, a message leaves with {@link MessageWindow.shift} once it was written to a
 *   link.
 * - As a resume window, every message is pushed (sent at once or not), stays until the peer
 *   acknowledges it ({@link MessageWindow.ack}), and is read again for a resend with
 *   {@link MessageWindow.at}.
 *
 * A push past either bound throws `ERR_BUFFER_OVERFLOW` and keeps nothing. Payloads are held by
 * reference: a Buffer handed to it must not be modified until it leaves.
 */
export class MessageWindow {
  readonly maxMessages: number;
  readonly maxBytes: number;
  readonly #label: string;
  #payloads: FramePayload[] = [];
  #sizes: number[] = [];
  #head = 0;
  #bytes = 0;
  /** Sequence number of the message at #head (the next one pushed when empty). */
  #firstSeq = 1;
  #roomWaiters: RoomWaiter[] | undefined;

  /**
   * @param bounds the limits; both must be >= 0.
   * @param label names the structure in overflow errors (`offline queue`, `resume window`).
   * @throws InvalidArgError for a negative or non-integer bound.
   */
  constructor(bounds: MessageWindowBounds, label = 'message window') {
    const { maxMessages, maxBytes } = bounds;
    if (!(Number.isInteger(maxMessages) && maxMessages >= 0) && maxMessages !== Number.POSITIVE_INFINITY) {
      throw new InvalidArgError(`${label}: maxMessages must be an integer >= 0 or Infinity`);
    }
    if (!(maxBytes >= 0)) throw new InvalidArgError(`${label}: maxBytes must be a number >= 0`);
    this.maxMessages = maxMessages;
    this.maxBytes = maxBytes;
    this.#label = label;
  }

  /** Messages held. */
  get length(): number {
    return this.#payloads.length - this.#head;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Sequence number of the oldest message held (of the next push when empty). */
  get firstSeq(): number {
    return this.#firstSeq;
  }

  /** Sequence number of the newest message pushed (0 before the first push). */
  get lastSeq(): number {
    return this.#firstSeq + this.length - 1;
  }

  /**
   * Whether the window is past three quarters of a bound: where a sender is told to back off (the
   * gap to {@link MessageWindow.hasRoom} keeps it from stopping and starting on every message).
   */
  get nearlyFull(): boolean {
    return this.length * 4 > this.maxMessages * 3 || this.#bytes * 4 > this.maxBytes * 3;
  }

  /**
   * Whether the window is at or below half of both bounds: where a writer told to back off goes on
   * (see {@link MessageWindow.waitForRoom}).
   */
  get hasRoom(): boolean {
    return this.length * 2 <= this.maxMessages && this.#bytes * 2 <= this.maxBytes;
  }

  /**
   * Appends a message.
   * @param size its bytes, when the caller already knows them (else counted here).
   * @returns its sequence number.
   * @throws BufferOverflowError when it would pass either bound (nothing is kept then).
   */
  push(payload: FramePayload, size: number = payloadBytes(payload)): number {
    if (this.length + 1 > this.maxMessages || this.#bytes + size > this.maxBytes) {
      throw new BufferOverflowError(
        `${this.#label} full (${String(this.length)} messages, ${String(this.#bytes)} bytes; limits ${String(this.maxMessages)} messages, ${String(this.maxBytes)} bytes)`,
      );
    }
    this.#payloads.push(payload);
    this.#sizes.push(size);
    this.#bytes += size;
    return this.lastSeq;
  }

  /**
   * Takes back the newest message (a send that failed before anything was written).
   * @returns it, or undefined when empty.
   */
  pop(): FramePayload | undefined {
    if (this.length === 0) return undefined;
    const payload = this.#payloads.pop()!;
    this.#bytes -= this.#sizes.pop()!;
    if (this.length === 0) {
      this.#payloads = [];
      this.#sizes = [];
      this.#head = 0;
    }
    return payload;
  }

  /** The oldest message, left in place. */
  peek(): FramePayload | undefined {
    return this.#head < this.#payloads.length ? this.#payloads[this.#head] : undefined;
  }

  /** Removes and returns the oldest message. */
  shift(): FramePayload | undefined {
    if (this.#head >= this.#payloads.length) return undefined;
    const payload = this.#payloads[this.#head]!;
    this.#drop(1);
    return payload;
  }

  /** The message with sequence number `seq`, if it is still held. */
  at(seq: number): FramePayload | undefined {
    const index = seq - this.#firstSeq;
    if (index < 0 || index >= this.length) return undefined;
    return this.#payloads[this.#head + index];
  }

  /**
   * Drops every message up to and including `seq` (a cumulative acknowledgement).
   * @returns how many were dropped (0 for an old or repeated acknowledgement).
   * @throws RangeError when `seq` is past the newest message or not an integer.
   */
  ack(seq: number): number {
    if (!Number.isInteger(seq) || seq > this.lastSeq) {
      throw new RangeError(`acknowledgement ${String(seq)} is past the newest message ${String(this.lastSeq)}`);
    }
    const count = seq - this.#firstSeq + 1;
    if (count <= 0) return 0;
    this.#drop(count);
    return count;
  }

  /**
   * Drops everything (sequence numbers go on from where they were).
   * @returns how many messages were dropped.
   */
  clear(): number {
    const count = this.length;
    this.#firstSeq += count;
    this.#payloads = [];
    this.#sizes = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#wakeWaiters();
    return count;
  }

  /** Keeps what is held and numbers it from 1 again (queued messages becoming a new session's first). */
  renumber(): void {
    this.#firstSeq = 1;
  }

  /** Drops everything and numbers the next push 1 again (a new session). */
  reset(): number {
    const count = this.clear();
    this.#firstSeq = 1;
    return count;
  }

  /**
   * Resolves once {@link MessageWindow.hasRoom} (at once when it already does).
   * @throws (rejects) the error given to {@link MessageWindow.failWaiters} first.
   */
  waitForRoom(): Promise<void> {
    if (this.hasRoom) return Promise.resolve();
    return new Promise<void>((resolve, reject) => (this.#roomWaiters ??= []).push({ resolve, reject }));
  }

  /** Rejects every pending {@link MessageWindow.waitForRoom} (the socket closed). */
  failWaiters(error: Error): void {
    const waiters = this.#roomWaiters;
    if (waiters === undefined) return;
    this.#roomWaiters = undefined;
    for (const waiter of waiters) waiter.reject(error);
  }

  #drop(count: number): void {
    const payloads = this.#payloads;
    const sizes = this.#sizes;
    const end = this.#head + count;
    for (let i = this.#head; i < end; i++) {
      this.#bytes -= sizes[i]!;
      payloads[i] = EMPTY;
    }
    this.#head = end;
    this.#firstSeq += count;
    if (this.#head === payloads.length) {
      this.#payloads = [];
      this.#sizes = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= payloads.length) {
      this.#payloads = payloads.slice(this.#head);
      this.#sizes = sizes.slice(this.#head);
      this.#head = 0;
    }
    if (this.#roomWaiters !== undefined) this.#wakeWaiters();
  }

  #wakeWaiters(): void {
    const waiters = this.#roomWaiters;
    if (waiters === undefined || !this.hasRoom) return;
    this.#roomWaiters = undefined;
    for (const waiter of waiters) waiter.resolve();
  }
}
