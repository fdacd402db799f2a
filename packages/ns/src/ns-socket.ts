import {
  AbortedError,
  ConnectionClosedError,
  DEFAULT_MAX_FRAME_BYTES,
  type FramedSocket,
  InvalidArgError,
  NotConnectedError,
  type SocketAddress,
} from '@proto/framing';
import type { Acceptance, AcceptingServer } from './accepting-server.js';
import { Dialer, type DialerHost } from './dialer.js';
import { publishConnect, publishDisconnect, publishReconnect } from './diagnostics.js';
import { encodeEvent } from './event-cache.js';
import type { RESERVED_EVENT_SEGMENTS } from './event-name.js';
import type { DefaultEvents, EventKey, EventMap, SendArgs } from './event-types.js';
import { isFatal, type NsExtensionHooks } from './extension.js';
import { Link, type LinkExtension, type LinkHost } from './link.js';
import { LinkAccess } from './link-access.js';
import { READY_MESSAGE } from './message.js';
import { endTimeoutMs, type NsClientOptions, type NsEndOptions } from './options.js';
import { Outbox, type OutgoingMessage } from './outbox.js';
import { resolveResumeOptions } from './resume-options.js';
import type { Session } from './session.js';
import { type ExchangeHost, sessionMessage, sessionReady } from './session-exchange.js';
import {
  createExchangeHost,
  endSession,
  linkResumeFor,
  type SocketInternals,
  sessionClosed,
  sessionDetached,
  sessionOnOpen,
} from './socket-session.js';
import type { NsReconnectingInfo, NsSocketState, NsSocketStats } from './socket-events.js';
import { SocketTotals } from './socket-stats.js';
import { type Deferred, deferred, toError } from '@proto/framing/internal';

const State = { IDLE: 0, CONNECTING: 1, OPENING: 2, OPEN: 3, BACKOFF: 4, CLOSING: 5, CLOSED: 6 } as const;
type State = (typeof State)[keyof typeof State];
const STATE_NAMES: readonly NsSocketState[] = ['idle', 'connecting', 'opening', 'open', 'reconnecting', 'closing', 'closed'];

/** Hooks for the layer above ns, called with the socket: see {@link NsExtensionHooks}. */
export type NsExtension = NsExtensionHooks<NsSocket>;
/** Options of a client {@link NsSocket}. */
export type NsSocketOptions = NsClientOptions<NsExtension>;
/** Options of `connect()`: an address plus {@link NsSocketOptions}. */
export type NsConnectOptions = NsSocketOptions & SocketAddress & { signal?: AbortSignal | undefined };

/** An NsSocket of any event map. */
type AnySocket = NsSocket<EventMap>;

/** Gives a connection accepted by an NsServer to its new socket (for server.ts; assigned below). */
export let acceptSocket: (socket: object, framed: FramedSocket, acceptance: Acceptance) => void;
/** Sends an encoded user event on an open link (server broadcast: one encoding for all); false when not open or ending. */
export let sendEncoded: (socket: object, message: OutgoingMessage) => boolean;

let linkHost: LinkHost;
let dialerHost: DialerHost;
let exchangeHost: ExchangeHost;
let internals: SocketInternals;

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
  #state: State = State.IDLE;
  #link: Link | undefined;
  #extension: LinkExtension | undefined;
  #server: AcceptingServer | undefined;
  /** Client sockets only. */
  #dialer: Dialer<this> | undefined;
  readonly #outbox = new Outbox();
  /** Allocated on first use, so an idle accepted socket stays small. */
  #stats: SocketTotals | undefined;
  /** The error given to destroy(). */
  #finalError: Error | undefined;
  #closeWaiter: Deferred<void> | undefined;

  /**
   * Creates a client socket (not connected yet: call {@link NsSocket.connect}).
   * @throws InvalidArgError for invalid reconnect or offline-queue options.
   */
  constructor(options?: NsSocketOptions) {
    super();
    if (options !== undefined) this.#configure(options);
  }

  /** Where the socket is in its life. An open link that is ending (e.g. the peer ended it) is `closing`. */
  get state(): NsSocketState {
    const state = this.#state;
    if (state === State.OPEN && !this.#link!.writable) return 'closing';
    return STATE_NAMES[state]!;
  }

  /** Whether a link is open and takes user events: false once it starts ending, before `close`/`disconnect`. */
  get connected(): boolean {
    return this.#state === State.OPEN && this.#link!.writable;
  }

  /** Counters over all links of this socket (a fresh snapshot on each read). */
  get stats(): NsSocketStats {
    return SocketTotals.snapshot(this.#stats, this.#link, this.#outbox.written);
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
    if (this.#server !== undefined) return Promise.reject(new InvalidArgError('an accepted socket cannot connect'));
    if (this.#state === State.CLOSING) return Promise.reject(new NotConnectedError('the socket is closing'));
    const { signal, ...settings } = options ?? {};
    if (signal?.aborted === true) return Promise.reject(new AbortedError('connect() was aborted', { cause: signal.reason }));
    let dialer: Dialer<this>;
    try {
      dialer = options !== undefined || this.#dialer === undefined ? this.#configure(settings) : this.#dialer;
      dialer.checkAddress();
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.connected) return Promise.resolve(this);
    const pending = dialer.pending(signal);
    if (this.#state === State.IDLE || this.#state === State.CLOSED) {
      this.#finalError = undefined;
      dialer.resetAttempts();
      this.#state = State.CONNECTING;
      dialer.dial();
    }
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
    const state = this.#state;
    if (state === State.CLOSED || state === State.IDLE) {
      if (state === State.IDLE) this.#finalize(undefined);
      return Promise.resolve();
    }
    const waiter = (this.#closeWaiter ??= deferred()).promise;
    if (state === State.CLOSING) return waiter;
    endSession(this.#link);
    this.#shutDown(undefined, 'ended')?.end(new ConnectionClosedError('the socket was ended while opening'), limit);
    return waiter;
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
    if (this.#state === State.CLOSED) return;
    if (error !== undefined) this.#finalError = error;
    this.#shutDown(error, 'destroyed')?.destroy(error ?? new ConnectionClosedError('the socket was destroyed while opening'));
  }

  /** end()/destroy(): no more dialing; a pending connect() fails now; closed at once without a link, else the link to close. */
  #shutDown(error: Error | undefined, how: 'ended' | 'destroyed'): Link | undefined {
    this.#dialer?.cancel();
    if (this.#state !== State.OPEN) this.#dialer?.rejectPending(error ?? new ConnectionClosedError(`the socket was ${how} before it connected`));
    const link = this.#link;
    if (link === undefined) this.#finalize(error);
    else this.#state = State.CLOSING;
    return link;
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
    const message = encodeEvent(event, data);
    const link = this.#link;
    if (this.#state === State.OPEN && link!.writable) return this.#outbox.write(link!.framed, message);
    const state = this.#state;
    const ending = state === State.OPEN ? (this.#dialer?.reconnects === true ? 'ending' : 'final') : 'down';
    return this.#outbox.hold(message, state >= State.CLOSING ? 'closed' : ending, this.configuredMaxFrameBytes);
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
    const state = this.#state;
    const dialer = this.#dialer;
    const keepsSocket = this.#server === undefined ? dialer?.reconnects === true : this.inSession;
    if (!keepsSocket || state === State.CLOSING || state === State.CLOSED) {
      this.destroy(error);
      return;
    }
    const err = error ?? new ConnectionClosedError('the link was dropped');
    if (state === State.CONNECTING) {
      dialer!.abortDial();
      this.#totals().lastError = err;
      this.#afterLinkFailure(err, false, false);
      return;
    }
    const link = this.#link;
    if (link === undefined || (state !== State.OPEN && state !== State.OPENING)) return;
    this.#totals().lastError = err;
    // The caller sees disconnect/reconnecting before it returns.
    link.drop(err);
  }

  protected get currentLink(): Link | undefined {
    return this.#link;
  }

  /** With `resume`: whether a session is established (it survives link drops until it ends or is lost). */
  get inSession(): boolean {
    return this.#outbox.session?.established === true && this.#state < State.CLOSING;
  }

  protected get session(): Session | undefined {
    return this.#outbox.session;
  }

  protected sequenced(type: number): boolean {
    return this.#extension?.linkMessageTypes?.has(type) !== true;
  }

  protected get configuredMaxFrameBytes(): number {
    return this.#dialer?.options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** Someone may listen for pause/resume/idle now: wire them on the current link. */
  protected override flowEventsWanted(): void {
    this.#link?.listenForFlowEvents();
  }

  /** Merges options into the client settings (validating them) and returns the dialer. */
  #configure(options: NsSocketOptions): Dialer<this> {
    const dialer = this.#dialer ?? new Dialer<this>(this, dialerHost);
    dialer.configure(options, (merged) => {
      Outbox.check(merged.offlineQueue);
      resolveResumeOptions(merged.resume);
    });
    this.#dialer = dialer;
    this.#outbox.configure(dialer.options.offlineQueue, resolveResumeOptions(dialer.options.resume));
    this.#extension = dialer.options.extension;
    return dialer;
  }

  /** Wires a new link and starts opening it (see {@link Link.start} for when it opens). */
  #attach(framed: FramedSocket, failure: Error | undefined): void {
    const accepted = this.#server !== undefined;
    const hello = accepted || failure !== undefined ? undefined : this.#dialer?.helloDeadline();
    const resume = linkResumeFor(this.#outbox, accepted, this.#extension);
    const link = new Link(framed, this, linkHost, this.#extension, { accepted, flowEvents: this.wantsFlowEvents, hello, resume });
    this.#link = link;
    this.#state = State.OPENING;
    link.start(failure);
  }

  /** The link is open: READY, offline queue, `connect`, the server's `connection`, connect() resolves. */
  #opened(link: Link, inFrame: boolean): void {
    this.#state = State.OPEN;
    const dialer = this.#dialer;
    const resumed = link.resume?.resumed === true;
    let resent: number;
    try {
      link.framed.send(READY_MESSAGE);
      dialer?.resetAttempts();
      resent = sessionOnOpen(exchangeHost, internals, this, link);
      if (resent < 0 && dialer !== undefined) this.#outbox.flush(link.framed);
      if (dialer !== undefined) this.#totals().linkOpened();
    } catch (error) {
      link.framed.destroy(toError(error));
      return;
    }
    // A resumed session on the server: the same socket goes on (no second `connection`).
    if (resumed && this.#server !== undefined) return void this.emit('resumed', { resent });
    publishConnect(this, this.#server !== undefined);
    link.scheduleHeld(inFrame && dialer?.connectPending === true);
    try {
      this.emit('connect');
      if (this.#link === link) this.#server?.socketOpened(this);
    } catch (error) {
      // A throwing connect or connection listener costs this link, as a throwing data listener does
      // (this may run in a promise callback, where a throw would be an unhandled rejection).
      link.framed.destroy(toError(error));
      return;
    }
    if (this.#link === link) dialer?.resolvePending();
    if (resumed && this.#link === link) this.emit('resumed', { resent });
  }

  #linkClosed(link: Link): void {
    this.#totals().add(link);
    this.#link = undefined;
    const { wasOpen, error } = link;
    this.#outbox.session?.detach();
    // A server keeps a socket whose session lives on, waiting ttlMs for the client to come back.
    const detached = this.#server !== undefined && this.inSession;
    const closing = this.#state === State.CLOSING || (this.#server !== undefined && !detached);
    // Not OPEN any more while the callbacks below run: sends queue or throw.
    this.#state = closing ? State.CLOSING : State.BACKOFF;
    if (closing && wasOpen) publishDisconnect(this, this.#server !== undefined, error, false);
    try {
      this.#extension?.onLinkClosed?.(this, error);
    } catch (hookError) {
      this.emit('error', toError(hookError)); // reported, it must not derail the close
    }
    if (detached) return sessionDetached(this, this.#server!, this.#outbox.session!, error);
    this.#server?.socketClosed(this);
    // An accepted socket closes for good here (unless its session waits); destroy(err)'s error wins over the link's.
    if (closing) this.#finalize(this.#finalError ?? error);
    else this.#afterLinkFailure(error ?? new ConnectionClosedError('the peer closed the connection'), wasOpen, false);
  }

  /** One failure (a failed dial or a lost link) schedules at most one reconnect. */
  #afterLinkFailure(error: Error, wasOpen: boolean, fatal: boolean): void {
    if (this.#state === State.CLOSED) return; // ended from a callback
    const dialer = this.#dialer;
    if (dialer?.retryPending === true) return; // never two timers for one socket
    const next = dialer === undefined || fatal || isFatal(error) ? undefined : dialer.scheduleRetry();
    if (next === undefined) {
      if (wasOpen) publishDisconnect(this, this.#server !== undefined, error, false);
      this.#finalize(error);
      return;
    }
    this.#state = State.BACKOFF;
    if (wasOpen) {
      publishDisconnect(this, false, error, true);
      this.emit('disconnect', error);
      if (this.#state !== State.BACKOFF) return;
    }
    publishReconnect(this, next.attempt, next.delayMs, error);
    this.emit('reconnecting', { attempt: next.attempt, delayMs: next.delayMs, error } satisfies NsReconnectingInfo);
  }

  /** The one place that emits `close`. */
  #finalize(error: Error | undefined): void {
    if (this.#state === State.CLOSED) return;
    this.#state = State.CLOSED;
    const dialer = this.#dialer;
    dialer?.cancel();
    sessionClosed(this, this.#server, this.#outbox, this.#extension, error);
    dialer?.rejectPending(error ?? new ConnectionClosedError('the socket closed before it connected'));
    if (error !== undefined && error === this.#finalError) this.emit('error', error);
    this.emit('close', error);
    const waiter = this.#closeWaiter;
    this.#closeWaiter = undefined;
    waiter?.resolve();
  }

  #totals(): SocketTotals {
    return (this.#stats ??= new SocketTotals());
  }

  static {
    // Links and dialers are created by a socket for itself only: the socket they hand back is one.
    linkHost = {
      opened: (link, inFrame) => (link.socket as AnySocket).#opened(link, inFrame),
      failed: (link, error) => {
        const socket = link.socket as AnySocket;
        socket.#totals().lastError = error;
        socket.emit('error', error);
      },
      closed: (link) => (link.socket as AnySocket).#linkClosed(link),
      sessionReady: (link, inFrame) => sessionReady(exchangeHost, link, inFrame),
      sessionMessage: (link, frame) => sessionMessage(exchangeHost, link, frame),
    };
    internals = {
      outbox: (socket) => (socket as AnySocket).#outbox,
      extension: (socket) => (socket as AnySocket).#extension,
      server: (socket) => (socket as AnySocket).#server,
      connectTimeoutMs: (socket) => (socket as AnySocket).#dialer?.options.connectTimeoutMs,
      link: (socket) => (socket as AnySocket).#link,
      setLink: (socket, link) => void (((socket as AnySocket).#link = link), ((socket as AnySocket).#state = State.OPENING)),
      retire: (target) => {
        const socket = target as AnySocket;
        socket.#link = undefined;
        socket.#extension?.onLinkClosed?.(socket, undefined);
        socket.#finalize(undefined);
      },
      flowEvents: (socket) => (socket as AnySocket).wantsFlowEvents,
      linkHost,
    };
    exchangeHost = createExchangeHost(internals);
    dialerHost = {
      dialed: (socket, framed) => (socket as AnySocket).#attach(framed, undefined),
      dialFailed: (target, error, fatal) => {
        const socket = target as AnySocket;
        socket.#totals().lastError = error;
        socket.#afterLinkFailure(error, false, fatal);
      },
      aborted: (socket) => (socket as AnySocket).destroy(),
      retry: (target) => {
        const socket = target as AnySocket;
        if (socket.#state !== State.BACKOFF) return;
        socket.#state = State.CONNECTING;
        socket.#dialer!.dial();
      },
    };
    acceptSocket = (target, framed, { server, extension, failure, resume }) => {
      const socket = target as AnySocket;
      socket.#server = server;
      socket.#extension = extension;
      socket.#outbox.configure(undefined, resume);
      socket.#attach(framed, failure);
    };
    sendEncoded = (target, message) => {
      const socket = target as AnySocket;
      const link = socket.#link;
      if (socket.#state !== State.OPEN || !link!.writable) return false;
      socket.#outbox.write(link!.framed, message);
      return true;
    };
  }
}
