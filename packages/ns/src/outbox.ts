import { type FramedSocket, type FramePart, FrameTooLargeError, NotConnectedError } from '@proto/framing';
import { partBytes } from '@proto/framing/internal';
import type { MessageWindow } from './message-window.js';
import { createOfflineQueue, type OfflineQueueOptions } from './offline-queue.js';
import type { ResolvedResumeOptions } from './resume-options.js';
import { Session } from './session.js';

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
 * partial) are the FIFO's either way: with `resume`, there is one {@link MessageWindow} (with the
 * resume bounds) serving as the offline queue before a session exists and as the session's window after.
 */
export class Outbox {
  /** User events handed to a link or accepted into a session (`stats.messagesOut`). */
  written = 0;
  #window: MessageWindow | undefined;
  /** The `offlineQueue` option is set. */
  #queueOption = false;
  #session: Session | undefined;

  /** Whether sends without a link are kept (an offline queue, or a session). */
  get queuing(): boolean {
    return this.#queueOption || this.#session?.established === true || this.#session?.lapsed === true;
  }

  /** Messages held and not yet written or acknowledged. */
  get queued(): number {
    return this.#window?.length ?? 0;
  }

  /** The session state when `resume` is enabled. */
  get session(): Session | undefined {
    return this.#session;
  }

  /**
   * Sets the offline queue bounds (`true` for the defaults, `false`/undefined for none) and the
   * resume settings. A window already holding messages is kept.
   * @throws InvalidArgError for invalid bounds (nothing changes then).
   */
  configure(option: boolean | OfflineQueueOptions | undefined, resume: ResolvedResumeOptions | undefined): void {
    const queueOption = option !== undefined && option !== false;
    let window = this.#window;
    if (window === undefined || window.length === 0) {
      if (resume !== undefined) window = createOfflineQueue(resume);
      else window = queueOption ? createOfflineQueue(option === true ? {} : option) : undefined;
    }
    this.#queueOption = queueOption;
    this.#window = window;
    if (resume === undefined) this.#session = undefined;
    else if (this.#session === undefined || this.#session.window !== window) this.#session = new Session(resume, undefined, window);
  }

  /** Validates `option` as {@link configure} would, without changing anything. */
  static check(option: boolean | OfflineQueueOptions | undefined): void {
    if (option !== undefined && typeof option !== 'boolean') createOfflineQueue(option);
  }

  /**
   * Writes a message to an open link (through the session when one runs on it).
   * @returns framing's backpressure boolean (and false past half the resume window).
   */
  write(framed: FramedSocket, message: OutgoingMessage): boolean {
    this.written++;
    const session = this.#session;
    if (session?.attached === true) return session.send(message, message[0].length + partBytes(message[1]));
    return framed.send(message);
  }

  /**
   * A send without a writable open link: keeps it for the next link (in the session, or the offline
   * queue), or throws.
   * @param why `closed`: the socket is closing or closed; `ending`: its open link is ending and a new
   *   one will be dialed; `final`: it is ending and none will follow (without a session, refused: it
   *   would only be dropped at close); `down`: no link.
   * @returns true, or (in a session) false past half the window.
   * @throws NotConnectedError when closed, or without an offline queue or session. FrameTooLargeError past
   *   `maxFrameBytes`; BufferOverflowError past the window's bounds.
   */
  hold(message: OutgoingMessage, why: 'closed' | 'ending' | 'final' | 'down', maxFrameBytes: number): boolean {
    if (why === 'closed') throw new NotConnectedError('cannot send: the socket is closed');
    const session = this.#session?.established === true ? this.#session : undefined;
    if (why === 'final' && session === undefined) throw new NotConnectedError('cannot send: the link is closing (and the socket does not reconnect)');
    if (session === undefined && !this.#queueOption && this.#session?.lapsed !== true) {
      throw new NotConnectedError(
        why === 'ending' ? 'cannot send: the link is closing' : 'cannot send: not connected (enable offlineQueue to queue sends while disconnected)',
      );
    }
    const [prefix, body] = message;
    const size = prefix.length + partBytes(body);
    if (size > maxFrameBytes) throw new FrameTooLargeError(`message of ${String(size)} bytes exceeds maxFrameBytes (${String(maxFrameBytes)})`);
    if (session !== undefined) {
      const ok = session.send(message, size);
      this.written++;
      return ok;
    }
    this.#window!.push(message, size);
    return true;
  }

  /**
   * Writes every queued message to a link that just opened without a session, in order.
   * @throws what framing's send throws; the message that failed stays first in the queue.
   */
  flush(framed: FramedSocket): void {
    const window = this.#window;
    if (window === undefined) return;
    for (let item = window.peek(); item !== undefined; item = window.peek()) {
      framed.send(item);
      window.shift();
      this.written++;
    }
  }

  /** Drops every queued message and the session (the socket closed). */
  clear(error: Error): void {
    this.#session?.forget();
    this.#window?.clear();
    this.#window?.failWaiters(error);
  }
}
