import { AbortedError, DEFAULT_MAX_FRAME_BYTES, InvalidArgError, NotConnectedError, type SocketAddress } from '@proto/framing';
import { encodeEvent } from './event-cache.js';
import type { RESERVED_EVENT_SEGMENTS } from './event-name.js';
import type { DefaultEvents, EventKey, EventMap, SendArgs } from './event-types.js';
import type { NsExtensionHooks } from './extension.js';
import type { Link } from './link.js';
import { LinkAccess } from './link-access.js';
import { endTimeoutMs, type NsClientOptions, type NsEndOptions } from './options.js';
import type { Session } from './session.js';
import { SocketCore, State } from './socket-core.js';
import type { NsSocketState, NsSocketStats } from './socket-events.js';

/** Hooks for the layer above ns, called with the socket: see {@link NsExtensionHooks}. */
export type NsExtension = NsExtensionHooks<NsSocket>;
/** Options of a client {@link NsSocket}. */
export type NsSocketOptions = NsClientOptions<NsExtension>;
/** Options of `connect()`: an address plus {@link NsSocketOptions}. */
export type NsConnectOptions = NsSocketOptions & SocketAddress & { signal?: AbortSignal | undefined };

/**
 * Namespaced events over one framed connection, with JSON or raw binary data. An EventEmitter2
 * (`wildcard: true`, delimiter `::`): user events are emitted as `data::<segments>` with the
 * arguments `(data, segments)`, so `socket.data(['chat', '*'], fn)` is `socket.on(['data', 'chat', '*'], fn)`.
 *
 * Create clients with `new NsSocket(options).connect()` or `connect(options)`; servers create
 * accepted sockets (which never reconnect).
 *
 * @typeParam Events - optional map from event names to data types, for typed `send`/`data`.
 */
export class NsSocket<Events extends EventMap = DefaultEvents> extends LinkAccess<Events> {
  /** The state and everything that changes it (socket-core.ts); this class is the public API over it. */
  readonly #core: SocketCore<this>;

  /**
   * Creates a client socket (not connected yet: call {@link NsSocket.connect}).
   * @throws InvalidArgError for invalid reconnect or offline-queue options.
   */
  constructor(options?: NsSocketOptions) {
    super();
    this.#core = new SocketCore(this);
    if (options !== undefined) this.#core.configure(options);
  }

  /** Where the socket is in its life. An open link that is ending (e.g. the peer ended it) is `closing`. */
  get state(): NsSocketState {
    return this.#core.stateName;
  }

  /** Whether a link is open and takes user events: false once it starts ending, before `close`/`disconnect`. */
  get connected(): boolean {
    return this.#core.connected;
  }

  /**
   * Counters over all links of this socket: a live object (the same one on every read, its counters
   * read the current values, nothing is allocated per read); `{ ...socket.stats }` is a snapshot.
   */
  get stats(): NsSocketStats {
    return this.#core.stats;
  }

  /**
   * Connects (client sockets). Resolves once a link is open: the peer's hello arrived and the
   * extension's `onLinkOpening`, if any, resolved; at once when already open; while connecting,
   * opening or reconnecting, the pending attempt. With `reconnect`, failed attempts are retried first.
   * After `close` it starts over. `options` are merged over the constructor's; `options.signal`
   * (not kept) abandons the attempt: connect() rejects with AbortedError and the socket closes.
   * @throws (rejects) the connection error (after the last attempt with `reconnect`), ConnectTimeoutError
   *   (no hello within `connectTimeoutMs`), a fatal extension error, ConnectionClosedError when `end()`
   *   comes first, the error given to `destroy()`, AbortedError; InvalidArgError on an accepted socket, without an
   *   address, or for invalid options.
   */
  connect(options?: Partial<NsConnectOptions>): Promise<this> {
    const core = this.#core;
    if (core.server !== undefined) return Promise.reject(new InvalidArgError('an accepted socket cannot connect'));
    if (core.state === State.CLOSING) return Promise.reject(new NotConnectedError('the socket is closing'));
    const { signal, ...settings } = options ?? {};
    if (signal?.aborted === true) return Promise.reject(new AbortedError('connect() was aborted', { cause: signal.reason }));
    let dialer;
    try {
      dialer = options !== undefined || core.dialer === undefined ? core.configure(settings) : core.dialer;
      dialer.checkAddress();
    } catch (error) {
      return Promise.reject(error);
    }
    if (core.connected) return Promise.resolve(this);
    const pending = dialer.pending(signal);
    core.start(dialer);
    return pending;
  }

  /**
   * Closes gracefully: cancels any pending reconnect, flushes what was sent, closes the link, and
   * resolves once `close` was emitted. Queued offline messages are dropped. A link not closed within
   * `timeoutMs` (a peer that never closes its side, or stopped reading) is destroyed.
   * @throws InvalidArgError (rejects) for an invalid `timeoutMs`; never rejects otherwise.
   */
  end(options?: NsEndOptions): Promise<void> {
    let limit: number;
    try {
      limit = endTimeoutMs(options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#core.end(limit);
  }

  /** {@link NsSocket.end}, under the verb RpcClient and the servers use. */
  close(options?: NsEndOptions): Promise<void> {
    return this.end(options);
  }

  /**
   * Closes at once, dropping unsent data and cancelling any reconnect. With `error`, `error` is emitted
   * (when listened) and `close` carries it.
   */
  destroy(error?: Error): void {
    this.#core.destroy(error);
  }

  /** Ends the socket, for `await using socket = await connect(...)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.end();
  }

  /**
   * Sends a user event. `data` is any JSON value, or bytes (`Buffer`, `Uint8Array`, another view,
   * `ArrayBuffer`) sent raw, arriving as a Buffer. Large byte payloads are written without copying:
   * don't modify them until `drained()` resolves.
   * @param event `'a::b'` or `['a', 'b']`: non-empty segments without `::`, not starting or ending with
   *   `:`, no wildcard, none reserved ({@link RESERVED_EVENT_SEGMENTS}); 256 bytes each, 1024 joined.
   * @returns false when the writer should back off (until `resume` or `drained()`); true when queued offline.
   * @throws InvalidArgError for an invalid event name, or data JSON cannot serialize.
   * @throws NotConnectedError without an open link (one that is ending counts as none) and no offline queue, or after close.
   * @throws BufferOverflowError past `maxBufferedBytes` or the offline queue's bounds; FrameTooLargeError past `maxFrameBytes`.
   */
  send<const E extends EventKey<Events>>(event: E, ...data: SendArgs<Events, E>): boolean;
  send(event: string | readonly string[], data?: unknown): boolean {
    return this.#core.send(encodeEvent(event, data), this.configuredMaxFrameBytes);
  }

  /**
   * Fails the current link now, keeping the socket: for a layer above that finds the link dead (a
   * keepalive timeout) while the socket should go on reconnecting. On a client with `reconnect` the
   * link is destroyed at once and handled as a lost link before this returns (`onLinkClosed`, then
   * `disconnect` if it was open, then one `reconnecting`, normal backoff; the error is not emitted as
   * `error`); a dial in progress counts as a failed attempt; without a link it does nothing. On an
   * accepted socket, a client without `reconnect`, or a closing socket it is `destroy(error)`. The
   * package README ("Extension API") has the whole timeline.
   * @param error why the link is dropped; defaults to a ConnectionClosedError.
   */
  dropLink(error?: Error): void {
    this.#core.dropLink(error);
  }

  protected sentOnLink(): void {
    this.#core.server?.sent(this);
  }

  protected get currentLink(): Link | undefined {
    return this.#core.link;
  }

  /** With `resume`: whether a session is established (it survives link drops until it ends or is lost). */
  get inSession(): boolean {
    return this.#core.inSession;
  }

  protected get session(): Session | undefined {
    return this.#core.session;
  }

  protected sequenced(type: number): boolean {
    return this.#core.extension?.linkMessageTypes?.has(type) !== true;
  }

  protected get configuredMaxFrameBytes(): number {
    return this.#core.dialer?.options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** Someone may listen for pause/resume/idle now: wire them on the current link. */
  protected override flowEventsWanted(): void {
    this.#core.wantFlowEvents();
  }
}
