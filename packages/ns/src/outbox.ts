import { type FramedSocket, type FramePart, FrameTooLargeError, NotConnectedError } from '@proto/framing';
import { partBytes } from '@proto/framing/internal';
import { OfflineQueue, type OfflineQueueOptions, type QueuedMessage } from './offline-queue.js';

/** An encoded user event: the cached `[type][nameLen][name]` prefix and the body. */
export type OutgoingMessage = readonly [prefix: Buffer, body: FramePart];

/**
 * The user events a socket sends, numbered in the order they were sent: message `n` is the n-th
 * `send()` accepted (counting from 1). Messages `1..written` went to a link; `written+1..accepted`
 * wait in the FIFO for the next link (the offline queue).
 *
 * A resume window is the same mechanism with one change: a message leaves the FIFO when the peer
 * acknowledges its number instead of when it is written, and a new link resends the FIFO from the
 * first unacknowledged number. The bounds (`maxMessages`, `maxBytes`, `ERR_BUFFER_OVERFLOW`, nothing
 * partial) are the FIFO's either way.
 */
export class Outbox {
  /** User events handed to a link (`stats.messagesOut`); also the number of the last one written. */
  written = 0;
  #queue: OfflineQueue | undefined;

  /** Whether sends without a link are queued. */
  get queuing(): boolean {
    return this.#queue !== undefined;
  }

  /** Messages waiting for a link. */
  get queued(): number {
    return this.#queue?.length ?? 0;
  }

  /**
   * Sets the offline queue bounds (`true` for the defaults, `false`/undefined for none). A queue
   * already holding messages is kept.
   * @throws InvalidArgError for invalid bounds (nothing changes then).
   */
  configure(option: boolean | OfflineQueueOptions | undefined): void {
    this.#queue = option === undefined || option === false ? undefined : (this.#queue ?? new OfflineQueue(option === true ? {} : option));
  }

  /** Validates `option` as {@link configure} would, without changing anything. */
  static check(option: boolean | OfflineQueueOptions | undefined): void {
    if (option !== undefined && typeof option !== 'boolean') new OfflineQueue(option);
  }

  /** Writes a message to an open link. @returns framing's backpressure boolean. */
  write(framed: FramedSocket, message: OutgoingMessage): boolean {
    const ok = framed.send(message);
    this.written++;
    return ok;
  }

  /**
   * A send without a writable open link: queues it for the next link, or throws.
   * @param why `closed`: the socket is closing or closed; `ending`: its open link is ending and a new
   *   one will be dialed; `final`: it is ending and none will follow; `down`: no link.
   * @throws NotConnectedError when closed, or without an offline queue. FrameTooLargeError past
   *   `maxFrameBytes`; BufferOverflowError past the queue's bounds.
   */
  hold(message: OutgoingMessage, why: 'closed' | 'ending' | 'final' | 'down', maxFrameBytes: number): true {
    if (why === 'closed') throw new NotConnectedError('cannot send: the socket is closed');
    // Queued on a link that ends for good, it would only be dropped at close.
    if (why === 'final') throw new NotConnectedError('cannot send: the link is closing (and the socket does not reconnect)');
    if (this.#queue === undefined) {
      throw new NotConnectedError(
        why === 'ending' ? 'cannot send: the link is closing' : 'cannot send: not connected (enable offlineQueue to queue sends while disconnected)',
      );
    }
    const [prefix, body] = message;
    const size = prefix.length + partBytes(body);
    if (size > maxFrameBytes) throw new FrameTooLargeError(`message of ${String(size)} bytes exceeds maxFrameBytes (${String(maxFrameBytes)})`);
    this.#queue.push(prefix, body);
    return true;
  }

  /**
   * Writes every queued message to a link that just opened, in order.
   * @throws what framing's send throws; the message that failed stays first in the queue.
   */
  flush(framed: FramedSocket): void {
    const queue = this.#queue;
    if (queue === undefined) return;
    for (let item: QueuedMessage | undefined = queue.shift(); item !== undefined; item = queue.shift()) {
      try {
        framed.send(item);
      } catch (error) {
        queue.unshift(item);
        throw error;
      }
      this.written++;
    }
  }

  /** Drops every queued message (the socket closed). */
  clear(): void {
    this.#queue?.clear();
  }
}
