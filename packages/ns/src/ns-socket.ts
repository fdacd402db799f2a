import { TLSSocket } from 'node:tls';
import {
  ConnectionClosedError,
  ConnectTimeoutError,
  connect as connectFramed,
  DEFAULT_CONNECT_TIMEOUT_MS,
  type FramedSocket,
  type FramePart,
  type FramePayload,
  FrameTooLargeError,
  InvalidArgError,
  NotConnectedError,
  ProtocolError,
} from '@proto/framing';
import ee2, { type event as EeEvent, type eventNS as EeEventNS, type Listener, type ListenerFn, type OnOptions } from 'eventemitter2';
import { type ClientState, configureClient, dialOptions } from './client-state.js';
import { connectChannel, debug, disconnectChannel, reconnectChannel } from './diagnostics.js';
import { encodeEvent, type ReceivedName, receivedName, sameName } from './event-cache.js';
import { assertSafeListenerType, EVENT_DELIMITER, patternSegments, type RESERVED_EVENT_SEGMENTS } from './event-name.js';
import type { DataListener, DefaultEvents, EventKey, EventMap, EventPattern, PatternData, SendArgs } from './event-types.js';
import { isFatal, type NsExtension } from './extension.js';
import {
  type AcceptingServer,
  type AnySocket,
  kAccept,
  kDeliverHeld,
  kHelloTimeout,
  kListenerAdded,
  kListenersChanged,
  kOnFrame,
  kOnLinkClose,
  kOnLinkError,
  kReconnect,
  kSendEncoded,
  toError,
} from './internal.js';
import { attachLink, detachLink, linkWritable, listenForFlowEvents, type OwnedFramed, wantsFlowEvents } from './link-handlers.js';
import { installListenerHooks } from './listener-hooks.js';
import {
  checkHello,
  EVENT_HEADER_BYTES,
  EXTENSION_TYPE_MAX,
  EXTENSION_TYPE_MIN,
  eventBodyOffset,
  HELLO_MESSAGE,
  MessageType,
  parseJsonBody,
  READY_MESSAGE,
} from './message.js';
import type { OfflineQueue } from './offline-queue.js';
import type { NsConnectOptions, NsSocketOptions } from './options.js';
import type { NsReconnectingInfo, NsSocketEvents, NsSocketState, NsSocketStats } from './socket-events.js';

const { EventEmitter2 } = ee2;

const State = { IDLE: 0, CONNECTING: 1, OPENING: 2, OPEN: 3, BACKOFF: 4, CLOSING: 5, CLOSED: 6 } as const;
type State = (typeof State)[keyof typeof State];
const STATE_NAMES: readonly NsSocketState[] = ['idle', 'connecting', 'opening', 'open', 'reconnecting', 'closing', 'closed'];

// Bits of #link: what the current link has seen (and one socket-wide flag). A client's link opens
// once it has both HELLO_RECEIVED and EXTENSION_OPENED, in either order; an accepted link once it has
// EXTENSION_OPENED.
const HELLO_RECEIVED = 1;
const PEER_READY = 2;
const WAS_OPEN = 4;
const DELIVERING = PEER_READY | WAS_OPEN;
/** Not per link: someone listens for pause/resume/idle (see listenForFlowEvents). */
const WANTS_FLOW_EVENTS = 8;
/** This side's extension opened the link (at once without `onLinkOpening`). */
const EXTENSION_OPENED = 16;

/** Sanity bound on user events held while this side finishes opening (reading is paused meanwhile). */
const HOLD_MAX_BYTES = 32 * 1024 * 1024;
const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** EventEmitter2 settings shared by every socket (EventEmitter2 keeps a reference, never a copy). */
const EMITTER_CONF = Object.freeze({ wildcard: true, delimiter: EVENT_DELIMITER, ignoreErrors: true });

/** One-byte type prefixes of the extension range, shared. */
const EXTENSION_TYPE_BYTES: readonly Buffer[] = Array.from({ length: EXTENSION_TYPE_MAX - EXTENSION_TYPE_MIN + 1 }, (_, i) =>
  Buffer.from([EXTENSION_TYPE_MIN + i]),
);

/**
 * Reused `[type byte, ...body parts]` arrays, indexed by body part count (a lone part counts as 1),
 * so `sendExtension` allocates no array per message. Framing reads the array only inside `send()`
 * (it copies small frames into its batch and writes large parts, never keeping the array), so one
 * set serves every socket; `SCRATCH_BUSY` covers a re-entrant send (e.g. from a 'pause' listener).
 * Slots are reset to an empty buffer afterwards so no body outlives its send.
 */
const SCRATCH_MAX_PARTS = 4;
const SCRATCH_EMPTY: Buffer = Buffer.alloc(0);
const SCRATCH_PARTS: FramePart[][] = Array.from({ length: SCRATCH_MAX_PARTS + 1 }, (_, n) =>
  Array.from({ length: n + 1 }, () => SCRATCH_EMPTY),
);
let SCRATCH_BUSY = false;

/** EventEmitter2 internals the receive path reads (not in its typings). */
interface EmitterInternals {
  _all: ListenerFn[] | undefined;
  event: string;
}

const MAX_CACHED_HANDLERS = 64;

/** State most sockets never touch, or only once closed. */
interface RareState {
  bytesIn: number;
  bytesOut: number;
  reconnects: number;
  lastError: Error | undefined;
  /** The error given to destroy(). */
  finalError: Error | undefined;
  closeWaiter: { promise: Promise<void>; resolve: () => void } | undefined;
}

/** User events held while this side finishes opening. */
interface Held {
  frames: Buffer[];
  bytes: number;
}

function reconnectTimerFired(socket: AnySocket): void {
  socket[kReconnect]();
}
function deliverHeldLater(socket: AnySocket): void {
  socket[kDeliverHeld]();
}
function helloTimerFired(socket: AnySocket): void {
  socket[kHelloTimeout]();
}

function dataEvent(pattern: EventPattern): string[] {
  const segments = patternSegments(pattern);
  segments.unshift('data');
  return segments;
}

function partBytes(part: FramePart): number {
  return typeof part === 'string' ? Buffer.byteLength(part) : part.byteLength;
}

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
export class NsSocket<Events extends EventMap = DefaultEvents> extends EventEmitter2 {
  #state: State = State.IDLE;
  #link = 0;
  #framed: OwnedFramed | undefined;
  #extension: NsExtension | undefined;
  #server: AcceptingServer | undefined;
  #client: ClientState | undefined;
  #opening: AbortController | undefined;
  #held: Held | undefined;
  #linkError: Error | undefined;
  /** Rarely needed state, allocated on first use so an idle accepted socket stays small. */
  #rare: RareState | undefined;
  #messagesIn = 0;
  #messagesOut = 0;
  /** The last received event name, recognised by its bytes. */
  #lastName: ReceivedName | undefined;
  /** Listeners per received name, so EventEmitter2's tree is not searched per message; dropped on any listener change. */
  #handlers: Map<ReceivedName, ListenerFn[]> | undefined;

  /**
   * Creates a client socket (not connected yet: call {@link NsSocket.connect}).
   * @throws InvalidArgError for invalid reconnect or offline-queue options.
   */
  constructor(options?: NsSocketOptions) {
    super(EMITTER_CONF);
    if (options !== undefined) this.#configure(options);
  }

  // ---- lifecycle --------------------------------------------------------------------------------

  /** Where the socket is in its life. An open link that is ending (e.g. the peer ended it) is `closing`. */
  get state(): NsSocketState {
    const state = this.#state;
    if (state === State.OPEN && !linkWritable(this.#framed!)) return 'closing';
    return STATE_NAMES[state]!;
  }

  /**
   * Whether a link is open and can take user events. False as soon as the link starts ending (the
   * peer's end arrived, or `end()`), before `close`/`disconnect` tell it is gone.
   */
  get connected(): boolean {
    return this.#state === State.OPEN && linkWritable(this.#framed!);
  }

  /**
   * Connects (client sockets). Resolves once a link is open: the peer's hello arrived and the
   * extension's `onLinkOpening`, if any, resolved. A peer that closes (or stays silent past
   * `connectTimeoutMs`) before its hello is a failed attempt; with `reconnect`, failed attempts are
   * retried first. Resolves at once when already open; while connecting, opening or reconnecting,
   * returns the pending attempt. After `close` it starts over.
   *
   * @param options address and settings, merged over the constructor's.
   * @throws (rejects) the connection error (after the last attempt with `reconnect`), ConnectTimeoutError
   *   when the peer's hello does not come in time, a fatal error of the extension, or (at once)
   *   ConnectionClosedError when `end()` is called first, the error given to `destroy()`.
   * @throws InvalidArgError (rejects) on an accepted socket, without an address, or for invalid options.
   */
  connect(options?: Partial<NsConnectOptions>): Promise<this> {
    if (this.#server !== undefined) return Promise.reject(new InvalidArgError('an accepted socket cannot connect'));
    if (this.#state === State.CLOSING) return Promise.reject(new NotConnectedError('the socket is closing'));
    let client: ClientState;
    try {
      client = options !== undefined || this.#client === undefined ? this.#configure((options ?? {}) as NsSocketOptions) : this.#client;
      if (client.options.path === undefined && client.options.port === undefined) {
        throw new InvalidArgError('connect() needs a port (with an optional host) or a Unix socket path');
      }
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#state === State.OPEN && linkWritable(this.#framed!)) return Promise.resolve(this);
    let pending = client.pending;
    if (pending === undefined) {
      let resolve!: () => void;
      let reject!: (error: Error) => void;
      const promise = new Promise<AnySocket>((res, rej) => {
        resolve = () => res(this as unknown as AnySocket);
        reject = rej;
      });
      client.pending = pending = { promise, resolve, reject };
    }
    if (this.#state === State.IDLE || this.#state === State.CLOSED) {
      this.#state = State.IDLE;
      if (this.#rare !== undefined) this.#rare.finalError = undefined;
      client.reconnector?.reset();
      this.#dial();
    }
    return pending.promise as Promise<unknown> as Promise<this>;
  }

  /**
   * Closes gracefully: cancels any pending reconnect, flushes what was sent, closes the link, and
   * resolves once `close` was emitted. Queued offline messages are dropped. Never rejects.
   */
  end(): Promise<void> {
    const state = this.#state;
    if (state === State.CLOSED || state === State.IDLE) {
      if (state === State.IDLE) this.#finalize(undefined);
      return Promise.resolve();
    }
    const waiter = this.#closeWaiterPromise();
    if (state === State.CLOSING) return waiter;
    this.#cancelClient();
    // connect() cannot succeed any more: say so now, not when a peer that may never close its side
    // does. (While open, a pending connect() belongs to a connect listener that is running: the link
    // did open.)
    if (state !== State.OPEN) this.#rejectPending(new ConnectionClosedError('the socket was ended before it connected'));
    const framed = this.#framed;
    if (framed === undefined) {
      this.#finalize(undefined);
      return waiter;
    }
    this.#state = State.CLOSING;
    this.#opening?.abort(new ConnectionClosedError('the socket was ended while opening'));
    this.#dropHeldUnlessOpen(framed);
    void framed.end();
    return waiter;
  }

  /**
   * Closes at once, dropping unsent data and cancelling any reconnect. With `error`, `error` is emitted
   * (when listened) and `close` carries it.
   */
  destroy(error?: Error): void {
    if (this.#state === State.CLOSED) return;
    if (error !== undefined) this.#rareState().finalError = error;
    this.#cancelClient();
    if (this.#state !== State.OPEN) this.#rejectPending(error ?? new ConnectionClosedError('the socket was destroyed before it connected'));
    const framed = this.#framed;
    if (framed === undefined) {
      this.#finalize(error);
      return;
    }
    this.#state = State.CLOSING;
    this.#opening?.abort(error ?? new ConnectionClosedError('the socket was destroyed while opening'));
    framed.destroy();
  }

  /** Ends the socket, for `await using socket = await connect(...)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.end();
  }

  /**
   * Resolves once outbound buffered bytes are at or below the low-water mark (at once without a link).
   * @throws ConnectionClosedError (rejects) when the link closes first.
   */
  drained(): Promise<void> {
    const framed = this.#framed;
    return framed === undefined ? Promise.resolve() : framed.drained();
  }

  // ---- user events ------------------------------------------------------------------------------

  /**
   * Sends a user event. `data` is any JSON value, or bytes (`Buffer`, `Uint8Array`, another view,
   * `ArrayBuffer`) sent raw, arriving as a Buffer. Large byte payloads are written without copying:
   * don't modify them until `drained()` resolves.
   *
   * @param event `'a::b'` or `['a', 'b']`; segments must be non-empty, without `::`, not starting or
   *   ending with `:`, not a wildcard, not reserved ({@link RESERVED_EVENT_SEGMENTS}); at most 256
   *   bytes each, 1024 bytes joined.
   * @returns false when the writer should back off (until `resume` or `drained()`); true when queued offline.
   * @throws InvalidArgError for an invalid event name, or data JSON cannot serialize.
   * @throws NotConnectedError without an open link and no offline queue (or after close). A link that
   *   is ending (the peer's end arrived, `close` not yet) counts as no link.
   * @throws BufferOverflowError past `maxBufferedBytes`, or past the offline queue's bounds.
   * @throws FrameTooLargeError when the message exceeds `maxFrameBytes`.
   */
  send<const E extends EventKey<Events>>(event: E, ...data: SendArgs<Events, E>): boolean;
  send(event: string | readonly string[], data?: unknown): boolean {
    const message = encodeEvent(event, data);
    if (this.#state !== State.OPEN || !linkWritable(this.#framed!)) return this.#sendOffline(message[0], message[1]);
    const ok = this.#framed!.send(message);
    this.#messagesOut++;
    return ok;
  }

  /**
   * Listens for user events matching `event`: `*` matches one segment, `**` any number (including none).
   * The listener gets `(data, segments)`; inside a `function` listener `this.event` is `'data::…'`.
   * @throws InvalidArgError for an invalid pattern (a reserved segment too: {@link RESERVED_EVENT_SEGMENTS}).
   */
  data<const P extends EventPattern>(event: P, listener: DataListener<PatternData<Events, P>>): this {
    super.on(dataEvent(event), listener as ListenerFn);
    return this;
  }

  /** Like {@link NsSocket.data}, for the first matching event only. */
  dataOnce<const P extends EventPattern>(event: P, listener: DataListener<PatternData<Events, P>>): this {
    super.once(dataEvent(event), listener as ListenerFn);
    return this;
  }

  /** Removes a listener added with {@link NsSocket.data} or {@link NsSocket.dataOnce} (same pattern). */
  offData<const P extends EventPattern>(event: P, listener: DataListener<PatternData<Events, P>>): this {
    this.off(dataEvent(event), listener as ListenerFn);
    return this;
  }

  // ---- typed lifecycle events -------------------------------------------------------------------

  /**
   * Adds a listener; lifecycle events are typed ({@link NsSocketEvents}), anything else is EventEmitter2's.
   * @throws InvalidArgError for an event with a reserved segment ({@link RESERVED_EVENT_SEGMENTS}), as
   *   every other way of adding a listener (`once`, `many`, `prependListener`, `waitFor`, ...).
   */
  override on<K extends keyof NsSocketEvents>(event: K, listener: (...args: NsSocketEvents[K]) => void): this;
  override on(event: EeEvent | EeEventNS, listener: ListenerFn, options?: boolean | OnOptions): this | Listener;
  override on(event: EeEvent | EeEventNS, listener: ListenerFn, options?: boolean | OnOptions): this | Listener {
    return super.on(event, listener, options);
  }

  /** Adds a one-time listener; lifecycle events are typed ({@link NsSocketEvents}). */
  override once<K extends keyof NsSocketEvents>(event: K, listener: (...args: NsSocketEvents[K]) => void): this;
  override once(event: EeEvent | EeEventNS, listener: ListenerFn, options?: true | OnOptions): this | Listener;
  override once(event: EeEvent | EeEventNS, listener: ListenerFn, options?: true | OnOptions): this | Listener {
    return super.once(event, listener, options);
  }

  /** Removes a listener; lifecycle events are typed ({@link NsSocketEvents}). */
  override off<K extends keyof NsSocketEvents>(event: K, listener: (...args: NsSocketEvents[K]) => void): this;
  override off(event: EeEvent | EeEventNS, listener: ListenerFn): this;
  override off(event: EeEvent | EeEventNS, listener: ListenerFn): this {
    this.#handlers = undefined;
    return super.off(event, listener);
  }

  /** Sets the per-event listener limit of this socket only (the default settings object is shared). */
  override setMaxListeners(n: number): void {
    const self = this as unknown as { _conf: object };
    if (self._conf === EMITTER_CONF) self._conf = { ...EMITTER_CONF };
    super.setMaxListeners(n);
  }

  // ---- stats and transport ----------------------------------------------------------------------

  /** Counters over all links of this socket (a fresh snapshot on each read). */
  get stats(): NsSocketStats {
    const framed = this.#framed;
    return {
      bytesIn: (this.#rare?.bytesIn ?? 0) + (framed?.stats.bytesIn ?? 0),
      bytesOut: (this.#rare?.bytesOut ?? 0) + (framed?.stats.bytesOut ?? 0),
      messagesIn: this.#messagesIn,
      messagesOut: this.#messagesOut,
      reconnects: this.#rare?.reconnects ?? 0,
      lastError: this.#rare?.lastError,
    };
  }

  /** The peer's IP address; undefined without a link or over a Unix socket. */
  get remoteAddress(): string | undefined {
    return this.#framed?.remoteAddress;
  }

  /** The peer's port; undefined without a link or over a Unix socket. */
  get remotePort(): number | undefined {
    return this.#framed?.remotePort;
  }

  /** Outbound bytes accepted but not yet handed to the kernel (0 without a link). */
  get bufferedBytes(): number {
    return this.#framed?.bufferedBytes ?? 0;
  }

  /**
   * Largest frame, in bytes, in both directions, on the current link. Setting it changes the current
   * link only (the layer above tightens it while opening and relaxes it after); new links start from
   * the `maxFrameBytes` option.
   * @throws NotConnectedError (on set) without a link. InvalidArgError (on set) for an invalid value.
   */
  get maxFrameBytes(): number {
    return this.#framed?.maxFrameBytes ?? this.#client?.options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  set maxFrameBytes(value: number) {
    const framed = this.#framed;
    if (framed === undefined) throw new NotConnectedError('maxFrameBytes can only be set on a live link');
    framed.maxFrameBytes = value;
  }

  /**
   * TLS keying material of the current link (RFC 5705), for channel binding; undefined over plain
   * TCP, Unix sockets, or without a link.
   */
  exportKeyingMaterial(length: number, label: string, context?: Buffer): Buffer | undefined {
    const stream = this.#framed?.stream;
    if (!(stream instanceof TLSSocket)) return undefined;
    // Node treats an undefined context as "no context" (RFC 5705), unlike an empty one.
    return stream.exportKeyingMaterial(length, label, context as Buffer);
  }

  // ---- extension API ----------------------------------------------------------------------------

  /**
   * Sends a message of the extension layer: `[type][body]`. Allowed while the link is opening.
   * @param type in {@link EXTENSION_TYPE_MIN}..{@link EXTENSION_TYPE_MAX}
   * @param body bytes or strings (UTF-8); an array is concatenated on the wire (one frame).
   * @returns framing's backpressure boolean.
   * @throws InvalidArgError for a type outside the range. NotConnectedError without a live link.
   *   FrameTooLargeError / BufferOverflowError as `send`.
   */
  sendExtension(type: number, body: FramePayload): boolean {
    if (!Number.isInteger(type) || type < EXTENSION_TYPE_MIN || type > EXTENSION_TYPE_MAX) {
      throw new InvalidArgError(`extension type must be an integer in 0x40..0x7f, got ${String(type)}`);
    }
    const framed = this.#framed;
    if (framed === undefined || (this.#state !== State.OPEN && this.#state !== State.OPENING)) {
      throw new NotConnectedError('cannot send an extension message without a live link');
    }
    const typeByte = EXTENSION_TYPE_BYTES[type - EXTENSION_TYPE_MIN]!;
    const isArray = Array.isArray(body);
    const count = isArray ? (body as readonly FramePart[]).length : 1;
    if (SCRATCH_BUSY || count > SCRATCH_MAX_PARTS) {
      return framed.send(isArray ? [typeByte, ...(body as readonly FramePart[])] : [typeByte, body as FramePart]);
    }
    const parts = SCRATCH_PARTS[count]!;
    parts[0] = typeByte;
    if (isArray) for (let i = 0; i < count; i++) parts[i + 1] = (body as readonly FramePart[])[i]!;
    else parts[1] = body as FramePart;
    SCRATCH_BUSY = true;
    try {
      return framed.send(parts);
    } finally {
      SCRATCH_BUSY = false;
      for (let i = 1; i <= count; i++) parts[i] = SCRATCH_EMPTY;
    }
  }

  /**
   * Fails the current link now, keeping the socket: for a layer above that finds the link dead (a
   * keepalive timeout) while the socket should go on reconnecting.
   *
   * On a client with `reconnect` the link is destroyed at once (unsent data dropped, nothing
   * flushed) and handled as a lost link, synchronously: the extension's `onLinkClosed`, then
   * `disconnect` with the error (if the link was open), then exactly one `reconnecting`, scheduled
   * with the normal backoff; the attempt counter is not reset (it already restarted when the link
   * opened, so a link that was open reconnects as attempt 1). Sends until the next link opens go to
   * the offline queue when there is one (else `ERR_NOT_CONNECTED`). A link still opening fails that
   * attempt (its `signal` aborts); a dial in progress is abandoned and counts as a failed attempt.
   * The error is not emitted as `error` (the caller knows it): it rides on `disconnect`,
   * `reconnecting` and `stats.lastError`. An error marked `fatal: true`, or used-up attempts, close
   * the socket instead. While reconnecting or idle (no link) it does nothing.
   *
   * On an accepted socket, a client without `reconnect`, or a socket that is closing (`end()`), it
   * is `destroy(error)`.
   *
   * @param error why the link is dropped; defaults to a ConnectionClosedError.
   */
  dropLink(error?: Error): void {
    const state = this.#state;
    const client = this.#client;
    if (this.#server !== undefined || client?.reconnector === undefined || state === State.CLOSING || state === State.CLOSED) {
      this.destroy(error);
      return;
    }
    const err = error ?? new ConnectionClosedError('the link was dropped');
    if (state === State.CONNECTING) {
      client.dial?.abort();
      client.dial = undefined;
      this.#rareState().lastError = err;
      if (debug.enabled) debug('ns client: dial dropped: %s', err.message);
      this.#afterLinkFailure(err, false, false);
      return;
    }
    const framed = this.#framed;
    if (framed === undefined || (state !== State.OPEN && state !== State.OPENING)) return;
    this.#linkError ??= err;
    this.#rareState().lastError = err;
    if (debug.enabled) debug('ns client: link dropped: %s', err.message);
    // No error to framing: it would come back as an `error` event. The link's close is handled now,
    // not when the stream's close arrives, so the caller sees disconnect/reconnecting before it returns.
    framed.destroy();
    this[kOnLinkClose](framed);
  }

  // ---- internals: connecting --------------------------------------------------------------------

  /** Merges options into the client settings (validating them) and returns the client state. */
  #configure(options: NsSocketOptions): ClientState {
    const client = configureClient(this.#client, options, reconnectTimerFired);
    this.#client = client;
    this.#extension = client.options.extension;
    return client;
  }

  #dial(): void {
    const client = this.#client!;
    const abort = new AbortController();
    client.dial = abort;
    client.dialStartedAt = Date.now();
    this.#state = State.CONNECTING;
    connectFramed(dialOptions(client.options, abort.signal)).then(
      (framed) => {
        if (client.dial !== abort) {
          framed.destroy();
          return;
        }
        client.dial = undefined;
        this.#attach(framed);
      },
      (error: unknown) => {
        if (client.dial !== abort) return;
        client.dial = undefined;
        const err = toError(error);
        this.#rareState().lastError = err;
        if (debug.enabled) debug('ns client: connect failed: %s', err.message);
        // Bad options will not get better by retrying.
        this.#afterLinkFailure(err, false, err instanceof InvalidArgError);
      },
    );
  }

  /** @internal Adopts a connection accepted by a server. */
  [kAccept](framed: FramedSocket, server: AcceptingServer): void {
    this.#server = server;
    const factory = server.extensionFactory;
    let failure: Error | undefined;
    if (factory !== undefined) {
      try {
        this.#extension = factory(this as unknown as AnySocket);
      } catch (error) {
        failure = toError(error);
      }
    }
    this.#attach(framed, failure);
  }

  /**
   * Wires a new link, sends the hello and starts opening. A client's link opens once the server's
   * hello has arrived and the extension (if any) has opened it: a server that accepts and closes, or
   * never speaks ns, must not count as a connection (no `connect`, no backoff reset, no flush). An
   * accepted link opens as soon as its extension has opened it (at once without one), so connection
   * listeners run before the client's first byte is read, as they always have.
   */
  #attach(stream: FramedSocket, failure?: Error): void {
    const framed = attachLink(stream, this as unknown as AnySocket, this.#server === undefined, (this.#link & WANTS_FLOW_EVENTS) !== 0);
    this.#framed = framed;
    this.#link &= WANTS_FLOW_EVENTS;
    this.#linkError = undefined;
    this.#state = State.OPENING;
    if (failure !== undefined) {
      framed.destroy(failure);
      return;
    }
    try {
      framed.send(HELLO_MESSAGE);
    } catch (error) {
      framed.destroy(toError(error));
      return;
    }
    const client = this.#client;
    if (client !== undefined && this.#server === undefined) this.#startHelloTimer(client);
    const onLinkOpening = this.#extension?.onLinkOpening;
    if (onLinkOpening === undefined) {
      this.#link |= EXTENSION_OPENED;
      if (this.#server !== undefined) this.#open(framed, false);
      return;
    }
    const controller = new AbortController();
    this.#opening = controller;
    let result: Promise<void> | void;
    try {
      result = onLinkOpening.call(this.#extension, this as unknown as AnySocket, controller.signal);
    } catch (error) {
      this.#openingFailed(framed, controller, error);
      return;
    }
    if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
      (result as Promise<void>).then(
        () => this.#extensionOpened(framed, controller),
        (error: unknown) => this.#openingFailed(framed, controller, error),
      );
    } else this.#extensionOpened(framed, controller);
  }

  /** The attempt's connectTimeoutMs (counted from the dial) also bounds the wait for the peer's hello. */
  #startHelloTimer(client: ClientState): void {
    const timeoutMs = client.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    if (timeoutMs <= 0) return;
    const left = Math.max(0, timeoutMs - (Date.now() - client.dialStartedAt));
    client.helloTimer = setTimeout(helloTimerFired, left, this as unknown as AnySocket);
  }

  #clearHelloTimer(): void {
    const client = this.#client;
    if (client?.helloTimer !== undefined) {
      clearTimeout(client.helloTimer);
      client.helloTimer = undefined;
    }
  }

  /** @internal The hello timer fired: the attempt failed. */
  [kHelloTimeout](): void {
    const client = this.#client!;
    client.helloTimer = undefined;
    const framed = this.#framed;
    if (framed === undefined || (this.#link & HELLO_RECEIVED) !== 0 || this.#state !== State.OPENING) return;
    const timeoutMs = client.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    framed.destroy(new ConnectTimeoutError(`the peer did not send its ns hello within connectTimeoutMs (${String(timeoutMs)} ms)`));
  }

  /** Events held for a link that will never open are dropped, and reading resumes so the close is seen. */
  #dropHeldUnlessOpen(framed: OwnedFramed): void {
    if (this.#held === undefined || (this.#link & WAS_OPEN) !== 0) return;
    this.#held = undefined;
    framed.resume();
  }

  #openingFailed(framed: OwnedFramed, controller: AbortController, error: unknown): void {
    if (this.#framed !== framed || this.#opening !== controller) return;
    this.#opening = undefined;
    const err = toError(error);
    if (debug.enabled) debug('ns: link opening failed: %s', err.message);
    framed.destroy(err);
  }

  /** onLinkOpening resolved: the link opens now (a client: if the server's hello is in, else when it arrives). */
  #extensionOpened(framed: OwnedFramed, controller: AbortController): void {
    if (this.#framed !== framed || this.#state !== State.OPENING || this.#opening !== controller) return;
    this.#opening = undefined;
    this.#link |= EXTENSION_OPENED;
    if (this.#server !== undefined || (this.#link & HELLO_RECEIVED) !== 0) this.#open(framed, false);
  }

  /**
   * The link is open: READY, offline queue, `connect`, the server's `connection`, connect() resolves.
   * @param inFrame called while the server's frames are being delivered (its hello just arrived).
   */
  #open(framed: OwnedFramed, inFrame: boolean): void {
    this.#state = State.OPEN;
    this.#link |= WAS_OPEN;
    const client = this.#client;
    try {
      framed.send(READY_MESSAGE);
      if (client !== undefined) {
        client.reconnector?.reset();
        if (client.queue !== undefined) this.#flushQueue(framed, client.queue);
      }
    } catch (error) {
      framed.destroy(toError(error));
      return;
    }
    if (debug.enabled) debug('ns: link open (%s)', this.#server === undefined ? 'client' : 'accepted');
    if (connectChannel.hasSubscribers) {
      connectChannel.publish({
        socket: this,
        server: this.#server !== undefined,
        remoteAddress: framed.remoteAddress,
        remotePort: framed.remotePort,
      });
    }
    // Held events go out after connect() resolved and the connection listener ran, so their
    // listeners exist: a macrotask later, after every promise continuation. Opened by the hello
    // itself, events right behind it in the same chunk must wait for that too.
    if (inFrame && client?.pending !== undefined) this.#held ??= { frames: [], bytes: 0 };
    if (this.#held !== undefined) setImmediate(deliverHeldLater, this as unknown as AnySocket);
    try {
      this.emit('connect');
      if (this.#framed === framed) this.#server?.socketOpened(this as unknown as AnySocket);
    } catch (error) {
      // A throwing connect or connection listener costs this link, as a throwing data listener does
      // (this may run in a promise callback, where a throw would be an unhandled rejection).
      framed.destroy(toError(error));
      return;
    }
    if (this.#framed !== framed) return;
    const pending = client?.pending;
    if (pending !== undefined && this.#framed === framed) {
      client!.pending = undefined;
      pending.resolve();
    }
  }

  #flushQueue(framed: OwnedFramed, queue: OfflineQueue): void {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      try {
        framed.send(item);
      } catch (error) {
        queue.unshift(item);
        throw error;
      }
      this.#messagesOut++;
    }
  }

  /** A user send without a writable open link: queue it, or throw. */
  #sendOffline(prefix: Buffer, body: FramePart): boolean {
    const state = this.#state;
    const queue = this.#client?.queue;
    if (state === State.CLOSING || state === State.CLOSED) throw new NotConnectedError('cannot send: the socket is closed');
    if (queue === undefined) {
      throw new NotConnectedError(
        state === State.OPEN
          ? 'cannot send: the link is closing'
          : 'cannot send: not connected (enable offlineQueue to queue sends while disconnected)',
      );
    }
    const size = prefix.length + partBytes(body);
    const max = this.#client!.options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (size > max) throw new FrameTooLargeError(`message of ${String(size)} bytes exceeds maxFrameBytes (${String(max)})`);
    queue.push(prefix, body);
    return true;
  }

  /**
   * @internal Sends an encoded user event on an open link (server broadcast: one encoding for all).
   * @returns false when not open, or the link is ending.
   */
  [kSendEncoded](message: readonly [Buffer, FramePart]): boolean {
    if (this.#state !== State.OPEN || !linkWritable(this.#framed!)) return false;
    this.#framed!.send(message);
    this.#messagesOut++;
    return true;
  }

  // ---- internals: receiving ---------------------------------------------------------------------

  /** @internal */
  [kOnFrame](framed: OwnedFramed, frame: Buffer): void {
    if (this.#framed !== framed) return;
    try {
      const type = frame[0];
      // Open (or closing after it was open: what the peer sent before our end() still arrives).
      if ((type === MessageType.EVENT_JSON || type === MessageType.EVENT_BINARY) && (this.#link & DELIVERING) === DELIVERING && this.#held === undefined) {
        this.#deliver(frame, type);
      } else this.#control(framed, frame);
    } catch (error) {
      // Bad input from the peer, or an exception of a listener: this link fails, nothing escapes.
      framed.destroy(toError(error));
    }
  }

  #deliver(frame: Buffer, type: number): void {
    const offset = eventBodyOffset(frame);
    let name = this.#lastName;
    if (name === undefined || !sameName(frame, EVENT_HEADER_BYTES, offset, name)) {
      this.#lastName = name = receivedName(frame, EVENT_HEADER_BYTES, offset);
    }
    const data = type === MessageType.EVENT_JSON ? parseJsonBody(frame, offset) : frame.subarray(offset);
    this.#messagesIn++;
    const self = this as unknown as EmitterInternals;
    if (self._all !== undefined && self._all.length > 0) {
      this.emit(name.emitType, data, name.segments.slice());
      return;
    }
    // What EventEmitter2's emit does, minus the tree search: the same listeners in the same order,
    // called on a snapshot (a listener removed meanwhile still runs this time), with `this.event` set.
    let handlers = this.#handlers?.get(name);
    if (handlers === undefined) {
      handlers = this.listeners(name.emitType) as ListenerFn[];
      const cache = (this.#handlers ??= new Map());
      if (cache.size >= MAX_CACHED_HANDLERS) cache.clear();
      cache.set(name, handlers);
    }
    if (handlers.length === 0) return;
    const segments = name.segments.slice();
    for (let i = 0; i < handlers.length; i++) {
      self.event = name.eventString;
      handlers[i]!.call(this, data, segments);
    }
  }

  /** @internal Listeners changed: the per-name listener cache is stale. */
  [kListenersChanged](): void {
    this.#handlers = undefined;
  }

  /**
   * @internal A listener for `type` is being added (onAny: `type` is the listener).
   * @throws InvalidArgError for a type with a reserved segment: EventEmitter2 would file it on a built-in.
   */
  [kListenerAdded](type: unknown): void {
    assertSafeListenerType(type);
    this.#handlers = undefined;
    if ((this.#link & WANTS_FLOW_EVENTS) !== 0 || !wantsFlowEvents(type)) return;
    this.#link |= WANTS_FLOW_EVENTS;
    if (this.#framed !== undefined) listenForFlowEvents(this.#framed);
  }

  /** Everything but a user event on an open link. */
  #control(framed: OwnedFramed, frame: Buffer): void {
    const type = frame[0];
    if ((this.#link & HELLO_RECEIVED) === 0) {
      if (type !== MessageType.HELLO) throw new ProtocolError('peer sent a message before its hello (not an @proto/ns peer?)');
      checkHello(frame);
      this.#link |= HELLO_RECEIVED;
      this.#clearHelloTimer();
      if ((this.#link & EXTENSION_OPENED) !== 0 && this.#state === State.OPENING) this.#open(framed, true);
      return;
    }
    if (type === MessageType.EVENT_JSON || type === MessageType.EVENT_BINARY) {
      this.#hold(framed, frame);
      return;
    }
    if (type !== undefined && type >= EXTENSION_TYPE_MIN && type <= EXTENSION_TYPE_MAX) {
      const extension = this.#extension;
      if (extension === undefined) throw new ProtocolError(`peer sent extension message 0x${type.toString(16)} but no extension is installed`);
      extension.onMessage(this as unknown as AnySocket, type, frame.subarray(1));
      return;
    }
    if (type === MessageType.READY) {
      if ((this.#link & PEER_READY) !== 0) throw new ProtocolError('peer sent READY twice');
      this.#link |= PEER_READY;
      return;
    }
    if (type === MessageType.HELLO) throw new ProtocolError('peer sent a second hello');
    if (type === undefined) throw new ProtocolError('peer sent an empty message');
    throw new ProtocolError(`peer sent unknown message type 0x${type.toString(16).padStart(2, '0')}`);
  }

  /** A user event that arrived before this side is open (or while held events wait for delivery). */
  #hold(framed: OwnedFramed, frame: Buffer): void {
    if ((this.#link & PEER_READY) === 0) throw new ProtocolError('peer sent a user event before it finished opening');
    if ((this.#link & WAS_OPEN) !== 0 && this.#held === undefined) {
      this.#deliver(frame, frame[0]!);
      return;
    }
    // Ending before this side ever opened: nobody will listen, and reading must go on to see the close.
    if (this.#state !== State.OPENING && (this.#link & WAS_OPEN) === 0) return;
    // The peer is open and this side settles in a moment (its extension already has what it needs),
    // or held events are waiting for delivery: keep the order, and stop reading so the hold stays small.
    let held = this.#held;
    if (held === undefined) this.#held = held = { frames: [], bytes: 0 };
    if (held.frames.length === 0) {
      framed.pause();
      if (debug.enabled) debug('ns: holding user events until this side finishes opening');
    }
    held.frames.push(frame);
    held.bytes += frame.length;
    if (held.bytes > HOLD_MAX_BYTES) throw new ProtocolError('peer sent too many user events before this side finished opening');
  }

  /** @internal Delivers user events held while opening, in order, then resumes reading. */
  [kDeliverHeld](): void {
    const framed = this.#framed;
    const held = this.#held;
    if (framed === undefined || held === undefined || (this.#link & WAS_OPEN) === 0) return;
    this.#held = undefined;
    if (held.frames.length === 0) return; // reading was never paused
    for (let i = 0; i < held.frames.length; i++) {
      if (this.#framed !== framed) return;
      const frame = held.frames[i]!;
      try {
        this.#deliver(frame, frame[0]!);
      } catch (error) {
        framed.destroy(toError(error));
        return;
      }
    }
    framed.resume();
  }

  // ---- internals: closing -----------------------------------------------------------------------

  /** @internal */
  [kOnLinkError](framed: FramedSocket, error: Error): void {
    if (this.#framed !== framed) return;
    this.#linkError ??= error;
    this.#rareState().lastError = error;
    if (debug.enabled) debug('ns: link error: %s', error.message);
    this.emit('error', error);
  }

  /** @internal */
  [kOnLinkClose](framed: OwnedFramed): void {
    if (this.#framed !== framed) return;
    detachLink(framed);
    const rare = this.#rareState();
    rare.bytesIn += framed.stats.bytesIn;
    rare.bytesOut += framed.stats.bytesOut;
    this.#framed = undefined;
    this.#held = undefined;
    this.#clearHelloTimer();
    const wasOpen = (this.#link & WAS_OPEN) !== 0;
    const error = this.#linkError;
    const opening = this.#opening;
    this.#opening = undefined;
    opening?.abort(error ?? new ConnectionClosedError('the link closed while opening'));
    const closing = this.#state === State.CLOSING || this.#server !== undefined;
    // Not OPEN any more while the callbacks below run: sends queue or throw.
    this.#state = closing ? State.CLOSING : State.BACKOFF;
    if (closing && wasOpen) this.#publishDisconnect(error, false);
    this.#linkClosedHook(error);
    this.#server?.socketClosed(this as unknown as AnySocket, error);
    // An accepted socket always closes for good here; destroy(err)'s error wins over the link's.
    if (closing) this.#finalize(this.#rare?.finalError ?? error);
    else this.#afterLinkFailure(error ?? new ConnectionClosedError('the peer closed the connection'), wasOpen, false);
  }

  /** Tells the extension; a throw there is reported as `error`, it must not derail the close. */
  #linkClosedHook(error: Error | undefined): void {
    try {
      this.#extension?.onLinkClosed?.(this as unknown as AnySocket, error);
    } catch (hookError) {
      this.emit('error', toError(hookError));
    }
  }

  /** One failure (a failed dial or a lost link) schedules at most one reconnect. */
  #afterLinkFailure(error: Error, wasOpen: boolean, fatal: boolean): void {
    if (this.#state === State.CLOSED) return; // ended from a callback
    const reconnector = this.#client?.reconnector;
    if (reconnector?.pending === true) return; // never two timers for one socket
    const next = reconnector === undefined || fatal || isFatal(error) ? undefined : reconnector.schedule(this as unknown as AnySocket);
    if (next === undefined) {
      if (wasOpen) this.#publishDisconnect(error, false);
      this.#finalize(error);
      return;
    }
    this.#state = State.BACKOFF;
    this.#rareState().reconnects++;
    if (debug.enabled) debug('ns client: reconnect attempt %d in %d ms', next.attempt, next.delayMs);
    if (wasOpen) {
      this.#publishDisconnect(error, true);
      this.emit('disconnect', error);
      if (this.#state !== State.BACKOFF) return;
    }
    if (reconnectChannel.hasSubscribers) reconnectChannel.publish({ socket: this, attempt: next.attempt, delayMs: next.delayMs, error });
    this.emit('reconnecting', { attempt: next.attempt, delayMs: next.delayMs, error } satisfies NsReconnectingInfo);
  }

  /** @internal */
  [kReconnect](): void {
    if (this.#state === State.BACKOFF) this.#dial();
  }

  #publishDisconnect(error: Error | undefined, willReconnect: boolean): void {
    if (debug.enabled) debug('ns: link lost%s', error === undefined ? '' : `: ${error.message}`);
    if (disconnectChannel.hasSubscribers) {
      disconnectChannel.publish({ socket: this, server: this.#server !== undefined, error, willReconnect });
    }
  }

  /** Stops everything a client has scheduled: the reconnect timer, a dial, the hello timer. */
  #cancelClient(): void {
    const client = this.#client;
    if (client === undefined) return;
    client.reconnector?.cancel();
    this.#clearHelloTimer();
    if (client.dial !== undefined) {
      client.dial.abort();
      client.dial = undefined;
    }
  }

  /** The one place that emits `close`. */
  #finalize(error: Error | undefined): void {
    if (this.#state === State.CLOSED) return;
    this.#state = State.CLOSED;
    this.#cancelClient();
    const client = this.#client;
    client?.queue?.clear();
    this.#rejectPending(error ?? new ConnectionClosedError('the socket closed before it connected'));
    if (error !== undefined && error === this.#rare?.finalError) this.emit('error', error);
    this.emit('close', error);
    const waiter = this.#rare?.closeWaiter;
    if (waiter !== undefined) this.#rare!.closeWaiter = undefined;
    waiter?.resolve();
  }

  /** Rejects the promise of a pending connect(), if any. */
  #rejectPending(error: Error): void {
    const client = this.#client;
    const pending = client?.pending;
    if (pending === undefined) return;
    client!.pending = undefined;
    pending.reject(error);
  }

  #closeWaiterPromise(): Promise<void> {
    const rare = this.#rareState();
    if (rare.closeWaiter === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      rare.closeWaiter = { promise, resolve };
    }
    return rare.closeWaiter.promise;
  }

  #rareState(): RareState {
    return (this.#rare ??= { bytesIn: 0, bytesOut: 0, reconnects: 0, lastError: undefined, finalError: undefined, closeWaiter: undefined });
  }
}

installListenerHooks(NsSocket.prototype, EventEmitter2.prototype);
