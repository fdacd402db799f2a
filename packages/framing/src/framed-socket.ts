import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { admit, Backpressure, belowHighWater } from './backpressure.js';
import { type FrameHandler, FrameDecoder } from './decoder.js';
import { FrameTooLargeError, NotConnectedError } from './errors.js';
import { checkMaxFrameBytes, resolveFrameOptions } from './frame-options.js';
import { FrameWriter } from './frame-writer.js';
import { type FramedSocketEvents, type FramedSocketStats, listenedEventNames, type SocketTracker, statsView, useListenerTable } from './framed-socket-events.js';
import { type FramePayload, payloadBytes } from './part-bytes.js';
import { type FramedSocketOptions, type ResolvedSocketLimits, resolveSocketLimits } from './socket-options.js';
import { type ReadSink, readerOf, type SocketReader } from './socket-reader.js';
import { toError } from './to-error.js';

export type { FramePart, FramePayload } from './part-bytes.js';
export type { FramedSocketEvents, FramedSocketStats, SocketTracker } from './framed-socket-events.js';
// The lifecycle, in order; a socket only moves forward. OPEN sends; ENDING sends no more but still
// flushes (our end() or the peer's); DESTROYED drops everything and waits for the stream's close.
const OPEN = 0;
const ENDING = 1;
const DESTROYED = 2;
const CLOSED = 3;
type Lifecycle = typeof OPEN | typeof ENDING | typeof DESTROYED | typeof CLOSED;

/** The stream's handlers find their socket through this property (ws's `kWebSocket`). */
const kFramed = Symbol('framedSocket');

interface FramedStream extends Duplex {
  [kFramed]: FramedSocket;
}

/** The way in for `setFrameHandler` (the private entry point); assigned by the class's static block. */
let installFrameHandler: <T>(socket: FramedSocket, handler: FrameHandler<T> | undefined, thisArg: T) => void;
/** @internal One stats counter of `socket`, read without making its `stats` view (ns sums them per link). */
export let framedCounter: (socket: FramedSocket, name: keyof FramedSocketStats) => number;
/** @internal Makes `tracker` the one told when `socket` closes (framing's server). */
export let setTracker: (socket: FramedSocket, tracker: SocketTracker) => void;
/** @internal The tracker given to {@link setTracker}. */
export let trackerOf: (socket: FramedSocket) => SocketTracker | undefined;

/**
 * Length-prefixed frames over any byte stream (a `net.Socket`, a `tls.TLSSocket`, or any `Duplex`),
 * with outbound backpressure, write coalescing and an idle timer.
 *
 * Small frames sent in one tick are copied into one batch buffer and leave in one `write()` at
 * `process.nextTick` (a lone frame waits for nothing else); payloads of 16 KiB or more are written
 * without copying, so don't modify them until `drained()` resolves or the socket closes.
 *
 * Like a `net.Socket`, it emits `error` for stream errors and for bad inbound bytes (then closes):
 * listen for `error`, or an error is thrown by the emitter. Exceptions thrown by a `frame` listener
 * also close the socket with that error instead of escaping.
 */
export class FramedSocket extends EventEmitter<FramedSocketEvents> {
  /** The underlying byte stream. */
  readonly stream: Duplex;

  readonly #decoder: FrameDecoder;
  readonly #writer: FrameWriter;
  /** Made at the first `pause` or `drained()` (most sockets never need one). */
  #backpressure: Backpressure | undefined;
  readonly #limits: ResolvedSocketLimits;
  // The stats counters are fields (no object per socket); `stats` is a view made on first read.
  #bytesIn = 0; #bytesOut = 0; #framesIn = 0; #framesOut = 0;
  /** A hook instead of a `close` listener: a second listener costs an array per idle connection. */
  #tracker: SocketTracker | undefined;
  readonly #idleTimer: NodeJS.Timeout | undefined;
  /** Sockets made by connect() and createServer() over TCP/Unix read through `onread`. */
  readonly #reader: SocketReader | undefined;
  /** The peer's end arrived while reads were held (paused): handled once they are decoded. */
  #endHeld = false;
  #maxFrameBytes: number;
  #state: Lifecycle = OPEN;
  /** Whether an `error` was emitted (reported by `close`). */
  #hadError = false;
  /** Set through the private entry point: frames go to it instead of the `frame` event. */
  #frameHandler: FrameHandler<unknown> | undefined;
  #frameThis: unknown;
  #closeWaiter: { promise: Promise<void>; resolve: () => void } | undefined;
  #remoteAddress: string | undefined;
  #remotePort: number | undefined;

  static {
    installFrameHandler = (socket, handler, thisArg) => {
      socket.#frameHandler = handler as FrameHandler<unknown> | undefined;
      socket.#frameThis = thisArg;
    };
    framedCounter = (socket, name) =>
      name === 'bytesIn' ? socket.#bytesIn : name === 'bytesOut' ? socket.#bytesOut : name === 'framesIn' ? socket.#framesIn : socket.#framesOut;
    setTracker = (socket, tracker) => {
      socket.#tracker = tracker;
    };
    trackerOf = (socket) => socket.#tracker;
  }

  /**
   * Wraps a connected stream. The socket takes over the stream's `data` events; write to it only
   * through {@link FramedSocket.send}.
   *
   * @throws InvalidArgError for invalid options.
   */
  constructor(stream: Duplex, options?: FramedSocketOptions) {
    super();
    useListenerTable(this);
    const { codec, maxFrameBytes } = resolveFrameOptions(options);
    const limits = resolveSocketLimits(options);
    this.stream = stream;
    this.#maxFrameBytes = maxFrameBytes;
    this.#decoder = new FrameDecoder({ lengthPrefix: codec, maxFrameBytes });
    this.#writer = new FrameWriter(stream, codec);
    this.#limits = limits;
    this.#captureRemote();

    (stream as FramedStream)[kFramed] = this;
    stream.on('error', FramedSocket.#streamOnError);
    stream.on('close', FramedSocket.#streamOnClose);
    stream.on('end', FramedSocket.#streamOnEnd);
    // Also with a reader (no `data` events then): the stream flows, so `end` fires.
    stream.on('data', FramedSocket.#streamOnData);
    this.#reader = readerOf(stream);
    this.#reader?.attach(FramedSocket.#readSink, this.#decoder, this);
    if (limits.idleTimeoutMs > 0) {
      if (stream instanceof Socket) {
        // net.Socket refreshes its own timer on every read and write, at no cost per frame.
        stream.setTimeout(limits.idleTimeoutMs);
        stream.on('timeout', FramedSocket.#streamOnTimeout);
      } else {
        this.#idleTimer = setTimeout(FramedSocket.#idleTimerFired, limits.idleTimeoutMs, this);
        this.#idleTimer.unref();
      }
    }
    if (stream.destroyed) process.nextTick(FramedSocket.#lateClose, this);
  }

  /**
   * Largest frame payload, in bytes, in both directions: inbound headers announcing more fail with
   * `ERR_FRAME_TOO_LARGE`, and `send()` refuses larger payloads. Upper layers tighten it before
   * authentication and relax it after.
   *
   * @throws InvalidArgError (on set) unless a positive integer the length prefix can express.
   */
  get maxFrameBytes(): number {
    return this.#maxFrameBytes;
  }

  set maxFrameBytes(value: number) {
    this.#maxFrameBytes = checkMaxFrameBytes(value, this.#writer.codec);
    this.#decoder.maxFrameBytes = this.#maxFrameBytes;
  }

  /** Outbound bytes accepted by `send()` but not yet handed to the kernel. */
  get bufferedBytes(): number {
    return this.#writer.bufferedBytes;
  }

  /**
   * Whether `send()` accepts frames: false from `end()`, `destroy()`, the peer's end or close on, and
   * once a write error destroyed the stream (its error comes at nextTick: a sender looping in
   * microtasks would otherwise get `true` for frames being dropped). Backpressure does not change it.
   */
  get writable(): boolean {
    return this.#state === OPEN && !this.stream.destroyed;
  }

  /** Whether the socket has closed (`close` was emitted). */
  get closed(): boolean {
    return this.#state === CLOSED;
  }

  /** Traffic counters; the object is live and updated in place. */
  get stats(): Readonly<FramedSocketStats> {
    return statsView(this, framedCounter);
  }

  /** The events listened for (as Node's, without the names of the listener table's empty fields). */
  override eventNames(): ReturnType<EventEmitter<FramedSocketEvents>['eventNames']> {
    return listenedEventNames(super.eventNames(), (name) => this.listenerCount(name));
  }

  /** The peer's IP address, or `undefined` for a Unix socket or a stream that has none. Kept after close. */
  get remoteAddress(): string | undefined {
    if (this.#remoteAddress === undefined) this.#captureRemote();
    return this.#remoteAddress;
  }

  /** The peer's port, or `undefined` for a Unix socket or a stream that has none. Kept after close. */
  get remotePort(): number | undefined {
    if (this.#remotePort === undefined) this.#captureRemote();
    return this.#remotePort;
  }

  /**
   * Sends one frame. Small payloads are copied into the current batch (strings encoded straight
   * into it); large ones are queued without copying. Frames always leave in the order sent.
   *
   * @returns `false` when, after this write, bytes still queued (not taken by the stream) reach
   *   `highWaterMark` (then `pause` fires), and while paused as long as any byte is queued: wait for
   *   `resume` or `drained()` before sending more. A frame the stream took at once returns `true`,
   *   however large. The frame was accepted either way.
   * @throws FrameTooLargeError when the payload exceeds `maxFrameBytes`; nothing is written.
   * @throws BufferOverflowError when the frame would take buffered bytes past `maxBufferedBytes`;
   *   nothing is written.
   * @throws NotConnectedError once the socket is not {@link FramedSocket.writable}.
   * @throws InvalidArgError for a payload that is not bytes, a string, or an array of them.
   */
  send(payload: FramePayload): boolean {
    if (!this.writable) throw new NotConnectedError('cannot send: the socket is closed or closing');
    const length = payloadBytes(payload);
    if (length > this.#maxFrameBytes) {
      throw new FrameTooLargeError(
        `frame of ${String(length)} bytes exceeds maxFrameBytes (${String(this.#maxFrameBytes)})`,
      );
    }
    const writer = this.#writer;
    const headerBytes = writer.headerBytes(length);
    const atMost = admit(this.#limits, writer, headerBytes + length);
    writer.write(payload, length, headerBytes);
    this.#framesOut++;
    this.#bytesOut += headerBytes + length;
    this.#idleTimer?.refresh();
    if (this.#backpressure === undefined && belowHighWater(this.#limits, writer, atMost)) return true;
    return this.#pressure().afterSend(this, atMost);
  }

  #pressure(): Backpressure {
    return (this.#backpressure ??= new Backpressure(this.#limits, this.#writer, this.#state >= DESTROYED, this.#state === CLOSED));
  }

  /**
   * Resolves once outbound buffered bytes are at or below `lowWaterMark` (at once if they already
   * are and the socket is not paused).
   *
   * @throws ConnectionClosedError (rejects) if the socket closes first.
   * @throws AbortedError (rejects) when `signal` aborts first.
   */
  drained(options?: { signal?: AbortSignal | undefined }): Promise<void> {
    return this.#pressure().drained(options?.signal, this);
  }

  /** Stops reading inbound bytes (frames already received in the current chunk are still delivered). */
  pause(): void {
    if (this.#reader === undefined) this.stream.pause();
    else this.#reader.pause();
  }

  /** Resumes reading inbound bytes after {@link FramedSocket.pause}. */
  resume(): void {
    if (this.#reader === undefined) this.stream.resume();
    else this.#reader.resume();
  }

  /**
   * Closes gracefully: flushes every frame sent so far, half-closes the stream, and resolves when
   * the socket has closed (the peer ends its side too). Later `send()` calls throw
   * `ERR_NOT_CONNECTED`. Never rejects.
   */
  end(): Promise<void> {
    if (this.#state === OPEN) {
      this.#state = ENDING;
      this.#writer.end();
    }
    if (this.#state === CLOSED) return Promise.resolve();
    if (this.#closeWaiter === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#closeWaiter = { promise, resolve };
    }
    return this.#closeWaiter.promise;
  }

  /**
   * Closes at once, dropping unsent frames. With `error`, `error` is emitted with it before `close`.
   */
  destroy(error?: Error): void {
    if (this.#state >= DESTROYED) return;
    this.#state = DESTROYED;
    this.#writer.close();
    this.#backpressure?.stop();
    this.stream.destroy(error);
  }

  #captureRemote(): void {
    const stream = this.stream as Partial<Socket> & { _peername?: object | undefined };
    const { remoteAddress, remotePort } = stream;
    if (typeof remoteAddress === 'string') this.#remoteAddress = remoteAddress;
    if (typeof remotePort === 'number') this.#remotePort = remotePort;
    // Held here now: drop net.Socket's own cache of it (~60 B an idle connection; it asks the handle again).
    if (stream._peername !== undefined) stream._peername = undefined;
  }

  // Stream and decoder handlers are static: one function for every socket, which each finds through
  // `this` (the stream's kFramed, or the decoder's thisArg), so no closure is made per connection.

  static #streamOnData(this: FramedStream, chunk: Buffer): void {
    const socket = this[kFramed];
    socket.#bytesIn += chunk.length;
    socket.#idleTimer?.refresh();
    try {
      socket.#decoder.push(chunk, FramedSocket.#decoderOnFrame, socket);
    } catch (error) {
      socket.destroy(toError(error));
    }
  }

  /** One for every socket (the reader keeps the decoder and the socket apart). */
  static readonly #readSink: ReadSink<FramedSocket> = { onFrame: FramedSocket.#decoderOnFrame, onBytes: FramedSocket.#readerOnBytes,
    onError: FramedSocket.#readerOnError, onReplayed: FramedSocket.#readerOnReplayed };

  static #readerOnBytes(this: FramedSocket, bytes: number): void {
    this.#bytesIn += bytes;
    this.#idleTimer?.refresh();
  }

  static #readerOnError(this: FramedSocket, error: unknown): void {
    this.destroy(toError(error));
  }

  static #readerOnReplayed(this: FramedSocket): void {
    if (!this.#endHeld) return;
    this.#endHeld = false;
    this.#peerEnded();
  }

  static #decoderOnFrame(this: FramedSocket, frame: Buffer): void {
    if (this.#state >= DESTROYED) return;
    this.#framesIn++;
    const handler = this.#frameHandler;
    if (handler === undefined) this.emit('frame', frame);
    else handler.call(this.#frameThis, frame);
  }

  static #streamOnEnd(this: FramedStream): void {
    const socket = this[kFramed];
    // As a paused net.Socket emits `end` only once its buffered data is read.
    if (socket.#reader?.holding === true) socket.#endHeld = true;
    else socket.#peerEnded();
  }

  #peerEnded(): void {
    try {
      this.#decoder.end();
    } catch (error) {
      this.destroy(toError(error));
      return;
    }
    // The peer is done; we have no half-open mode. A half-open stream is ours to end (after the
    // batch, so frames sent before this still go out); otherwise the stream ends itself and any
    // further write would fail.
    const wasOpen = this.#state === OPEN;
    if (wasOpen) this.#state = ENDING;
    if (!this.stream.allowHalfOpen) this.#writer.close();
    else if (wasOpen) this.#writer.end();
  }

  static #streamOnError(this: FramedStream, error: Error): void {
    const socket = this[kFramed];
    if (socket.#state === CLOSED) return;
    socket.#hadError = true;
    socket.emit('error', error);
  }

  static #streamOnClose(this: FramedStream): void {
    FramedSocket.#lateClose(this[kFramed]);
  }

  static #lateClose(socket: FramedSocket): void {
    if (socket.#state === CLOSED) return;
    socket.#state = CLOSED;
    socket.#writer.close();
    if (socket.#idleTimer !== undefined) clearTimeout(socket.#idleTimer);
    const stream = socket.stream;
    stream.removeListener('data', FramedSocket.#streamOnData);
    stream.removeListener('end', FramedSocket.#streamOnEnd);
    stream.removeListener('timeout', FramedSocket.#streamOnTimeout);
    stream.removeListener('close', FramedSocket.#streamOnClose);
    // #streamOnError stays: a late stream error must not become an uncaught exception.
    socket.#backpressure?.close();
    socket.#tracker?.socketClosed(socket);
    socket.emit('close', socket.#hadError);
    socket.#closeWaiter?.resolve();
  }

  static #streamOnTimeout(this: FramedStream): void {
    FramedSocket.#idleTimerFired(this[kFramed]);
  }

  static #idleTimerFired(socket: FramedSocket): void {
    if (socket.#state !== CLOSED) socket.emit('timeout');
  }
}

/**
 * Sends `socket`'s inbound frames to `handler` (called with `thisArg` as `this`) instead of emitting
 * `frame`: one direct call per frame for a layer that owns the socket. `undefined` restores the
 * `frame` event. An exception from the handler destroys the socket with it, as from a listener.
 */
export function setFrameHandler<T>(socket: FramedSocket, handler: FrameHandler<T> | undefined, thisArg: T): void {
  installFrameHandler(socket, handler, thisArg);
}

