import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { FrameDecoder } from './decoder.js';
import {
  AbortedError,
  BufferOverflowError,
  ConnectionClosedError,
  FrameTooLargeError,
  InvalidArgError,
  NotConnectedError,
  type ProtoError,
} from './errors.js';
import { checkMaxFrameBytes, resolveFrameOptions } from './frame-options.js';
import type { LengthPrefixCodec } from './length-prefix.js';
import { type FramedSocketOptions, resolveSocketLimits } from './socket-options.js';
import { WriteBatch } from './write-batch.js';

/** A piece of one frame's payload: bytes, or a string written as UTF-8 straight into the write batch. */
export type FramePart = Uint8Array | string;

/** One frame's payload. An array is ONE frame whose payload is the parts in order (a gather write). */
export type FramePayload = FramePart | readonly FramePart[];

/** Traffic counters of a {@link FramedSocket}; bytes include the length headers. */
export interface FramedSocketStats {
  /** Bytes received. */
  bytesIn: number;
  /** Bytes accepted by `send()` (headers included). */
  bytesOut: number;
  /** Frames received. */
  framesIn: number;
  /** Frames accepted by `send()`. */
  framesOut: number;
}

/** Events of a {@link FramedSocket}. */
export interface FramedSocketEvents {
  /** One complete inbound frame's payload (a view that stays valid; the socket never reuses it). */
  frame: [frame: Buffer];
  /** Outbound buffered bytes reached `highWaterMark`: stop sending until `resume`. */
  pause: [];
  /** After a `pause`, outbound buffered bytes fell to `lowWaterMark`: sending may go on. */
  resume: [];
  /** No traffic either way for `idleTimeoutMs`. The socket stays open. */
  timeout: [];
  /** A stream error, or a typed error for bad inbound bytes; `close` follows. */
  error: [error: ProtoError | NodeJS.ErrnoException];
  /** The socket closed; `hadError` tells whether an `error` came first. */
  close: [hadError: boolean];
}

/** Payloads at least this long are written without copying (a gather write after the batch). */
const ZERO_COPY_BYTES = 16 * 1024;

const kFramed = Symbol('framedSocket');
const kOnData = Symbol('onData');
const kOnEnd = Symbol('onEnd');
const kOnError = Symbol('onError');
const kOnClose = Symbol('onClose');
const kOnTimeout = Symbol('onTimeout');
const kFlush = Symbol('flush');
const kAfterWrite = Symbol('afterWrite');
const kOnFrame = Symbol('onFrame');

const EMPTY = Buffer.alloc(0);

interface FramedStream extends Duplex {
  [kFramed]: FramedSocket;
}

interface DrainWaiter {
  resolve: () => void;
  reject: (error: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

// Stream handlers are module-level functions that find their socket through a property, so no
// closure is created per connection or per message (the pattern of ws).
function streamOnData(this: FramedStream, chunk: Buffer): void {
  this[kFramed][kOnData](chunk);
}
function streamOnEnd(this: FramedStream): void {
  this[kFramed][kOnEnd]();
}
function streamOnError(this: FramedStream, error: Error): void {
  this[kFramed][kOnError](error);
}
function streamOnClose(this: FramedStream): void {
  this[kFramed][kOnClose]();
}
function streamOnTimeout(this: FramedStream): void {
  this[kFramed][kOnTimeout]();
}
function decoderOnFrame(this: FramedSocket, frame: Buffer): void {
  this[kOnFrame](frame);
}
function flushBatch(socket: FramedSocket): void {
  socket[kFlush]();
}
function idleTimerFired(socket: FramedSocket): void {
  socket[kOnTimeout]();
}

function partBytes(part: unknown): number {
  if (typeof part === 'string') return Buffer.byteLength(part);
  if (part instanceof Uint8Array) return part.length;
  throw new InvalidArgError('frame payload must be a Uint8Array, a string, or an array of them');
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

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
  readonly #codec: LengthPrefixCodec;
  readonly #batch = new WriteBatch();
  readonly #highWaterMark: number;
  readonly #lowWaterMark: number;
  readonly #maxBufferedBytes: number;
  readonly #stats: FramedSocketStats = { bytesIn: 0, bytesOut: 0, framesIn: 0, framesOut: 0 };
  /** Write callback, made only once backpressure needs it (most sockets never do). */
  #afterWrite: ((error?: Error | null) => void) | undefined;
  readonly #idleTimer: NodeJS.Timeout | undefined;
  #maxFrameBytes: number;
  #flushScheduled = false;
  #paused = false;
  /** No more sends: `end()`, `destroy()`, the peer's end, or close. */
  #ending = false;
  /** Nothing more may be written to the stream (the peer ended a non-half-open stream, or destroyed). */
  #writeClosed = false;
  #destroyed = false;
  #closed = false;
  #hadError = false;
  #drainWaiters: Set<DrainWaiter> | undefined;
  #closeWaiter: { promise: Promise<void>; resolve: () => void } | undefined;
  #remoteAddress: string | undefined;
  #remotePort: number | undefined;

  /**
   * Wraps a connected stream. The socket takes over the stream's `data` events; write to it only
   * through {@link FramedSocket.send}.
   *
   * @throws InvalidArgError for invalid options.
   */
  constructor(stream: Duplex, options?: FramedSocketOptions) {
    super();
    const { codec, maxFrameBytes } = resolveFrameOptions(options);
    const limits = resolveSocketLimits(options);
    this.stream = stream;
    this.#codec = codec;
    this.#maxFrameBytes = maxFrameBytes;
    this.#decoder = new FrameDecoder({ lengthPrefix: codec, maxFrameBytes });
    this.#highWaterMark = limits.highWaterMark;
    this.#lowWaterMark = limits.lowWaterMark;
    this.#maxBufferedBytes = limits.maxBufferedBytes;
    this.#captureRemote();

    (stream as FramedStream)[kFramed] = this;
    stream.on('error', streamOnError);
    stream.on('close', streamOnClose);
    stream.on('end', streamOnEnd);
    stream.on('data', streamOnData);
    if (limits.idleTimeoutMs > 0) {
      if (stream instanceof Socket) {
        // net.Socket refreshes its own timer on every read and write, at no cost per frame.
        stream.setTimeout(limits.idleTimeoutMs);
        stream.on('timeout', streamOnTimeout);
      } else {
        this.#idleTimer = setTimeout(idleTimerFired, limits.idleTimeoutMs, this);
        this.#idleTimer.unref();
      }
    }
    if (stream.destroyed) process.nextTick(streamOnClose.bind(stream as FramedStream));
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
    this.#maxFrameBytes = checkMaxFrameBytes(value, this.#codec);
    this.#decoder.maxFrameBytes = this.#maxFrameBytes;
  }

  /** Outbound bytes accepted by `send()` but not yet handed to the kernel. */
  get bufferedBytes(): number {
    return this.#batch.pendingBytes + this.stream.writableLength;
  }

  /** Whether the socket has closed (`close` was emitted). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Traffic counters; the object is live and updated in place. */
  get stats(): Readonly<FramedSocketStats> {
    return this.#stats;
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
   * @throws NotConnectedError after `end()`, `destroy()` or close.
   * @throws InvalidArgError for a payload that is not bytes, a string, or an array of them.
   */
  send(payload: FramePayload): boolean {
    if (this.#ending) throw new NotConnectedError('cannot send: the socket is closed or closing');
    let length: number;
    if (typeof payload === 'string') length = Buffer.byteLength(payload);
    else if (payload instanceof Uint8Array) length = payload.length;
    else if (Array.isArray(payload)) {
      length = 0;
      for (let i = 0; i < payload.length; i++) length += partBytes(payload[i]);
    } else length = partBytes(payload);
    if (length > this.#maxFrameBytes) {
      throw new FrameTooLargeError(
        `frame of ${String(length)} bytes exceeds maxFrameBytes (${String(this.#maxFrameBytes)})`,
      );
    }
    const headerBytes = this.#codec.encodedLength(length);
    const frameBytes = headerBytes + length;
    const buffered = this.bufferedBytes;
    if (buffered + frameBytes > this.#maxBufferedBytes) {
      throw new BufferOverflowError(
        `sending ${String(frameBytes)} bytes with ${String(buffered)} buffered would exceed maxBufferedBytes (${String(this.#maxBufferedBytes)})`,
      );
    }

    if (length < ZERO_COPY_BYTES) this.#copyFrame(payload, length, headerBytes);
    else this.#writeFrame(payload, length, headerBytes);

    this.#stats.framesOut++;
    this.#stats.bytesOut += frameBytes;
    this.#idleTimer?.refresh();
    // As a net.Socket means it: `false` only while bytes really remain queued after this write.
    const after = this.bufferedBytes;
    if (this.#paused) return after === 0;
    if (after < this.#highWaterMark) return true;
    this.#paused = true;
    this.#watchWrites();
    this.emit('pause');
    return false;
  }

  /**
   * Resolves once outbound buffered bytes are at or below `lowWaterMark` (at once if they already
   * are and the socket is not paused).
   *
   * @throws ConnectionClosedError (rejects) if the socket closes first.
   * @throws AbortedError (rejects) when `signal` aborts first.
   */
  drained(options?: { signal?: AbortSignal | undefined }): Promise<void> {
    if (this.#closed) return Promise.reject(new ConnectionClosedError('the socket closed before draining'));
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(new AbortedError('drained() was aborted', { cause: signal.reason }));
    if (!this.#paused && this.bufferedBytes <= this.#lowWaterMark) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: DrainWaiter = { resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          this.#drainWaiters?.delete(waiter);
          reject(new AbortedError('drained() was aborted', { cause: signal.reason }));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      (this.#drainWaiters ??= new Set()).add(waiter);
      this.#watchWrites();
    });
  }

  /** Stops reading inbound bytes (frames already received in the current chunk are still delivered). */
  pause(): void {
    this.stream.pause();
  }

  /** Resumes reading inbound bytes after {@link FramedSocket.pause}. */
  resume(): void {
    this.stream.resume();
  }

  /**
   * Closes gracefully: flushes every frame sent so far, half-closes the stream, and resolves when
   * the socket has closed (the peer ends its side too). Later `send()` calls throw
   * `ERR_NOT_CONNECTED`. Never rejects.
   */
  end(): Promise<void> {
    if (!this.#ending) {
      this.#ending = true;
      this.#flush();
      if (!this.#writeClosed) this.stream.end();
    }
    if (this.#closed) return Promise.resolve();
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
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#ending = true;
    this.#writeClosed = true;
    this.#batch.discard();
    this.stream.destroy(error);
  }

  /** @internal */
  [kOnData](chunk: Buffer): void {
    this.#stats.bytesIn += chunk.length;
    this.#idleTimer?.refresh();
    try {
      this.#decoder.push(chunk, decoderOnFrame, this);
    } catch (error) {
      this.destroy(toError(error));
    }
  }

  /** @internal */
  [kOnFrame](frame: Buffer): void {
    if (this.#destroyed) return;
    this.#stats.framesIn++;
    this.emit('frame', frame);
  }

  /** @internal */
  [kOnEnd](): void {
    try {
      this.#decoder.end();
    } catch (error) {
      this.destroy(toError(error));
      return;
    }
    // The peer is done; we have no half-open mode. A half-open stream is ours to end (after the
    // batch, so frames sent before this still go out); otherwise the stream ends itself and any
    // further write would fail.
    const wasEnding = this.#ending;
    this.#ending = true;
    if (this.stream.allowHalfOpen) {
      if (!wasEnding) {
        this.#flush();
        this.stream.end();
      }
    } else {
      this.#writeClosed = true;
      this.#batch.discard();
    }
  }

  /** @internal */
  [kOnError](error: Error): void {
    if (this.#closed) return;
    this.#hadError = true;
    this.emit('error', error);
  }

  /** @internal */
  [kOnClose](): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#destroyed = true;
    this.#ending = true;
    this.#writeClosed = true;
    this.#batch.discard();
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    const stream = this.stream;
    stream.removeListener('data', streamOnData);
    stream.removeListener('end', streamOnEnd);
    stream.removeListener('timeout', streamOnTimeout);
    stream.removeListener('close', streamOnClose);
    // streamOnError stays: a late stream error must not become an uncaught exception.
    const waiters = this.#drainWaiters;
    this.#drainWaiters = undefined;
    if (waiters !== undefined) {
      for (const waiter of waiters) {
        waiter.signal?.removeEventListener('abort', waiter.onAbort!);
        waiter.reject(new ConnectionClosedError('the socket closed before draining'));
      }
    }
    this.emit('close', this.#hadError);
    this.#closeWaiter?.resolve();
  }

  /** @internal */
  [kOnTimeout](): void {
    if (!this.#closed) this.emit('timeout');
  }

  /** @internal Runs at `process.nextTick` after the first small frame of a tick. */
  [kFlush](): void {
    this.#flushScheduled = false;
    this.#flush();
  }

  /** @internal Runs after every stream write completes. */
  [kAfterWrite](): void {
    if (this.#destroyed || (!this.#paused && this.#drainWaiters === undefined)) return;
    if (this.bufferedBytes > this.#lowWaterMark) return;
    if (this.#paused) {
      this.#paused = false;
      this.emit('resume');
    }
    const waiters = this.#drainWaiters;
    this.#drainWaiters = undefined;
    if (waiters !== undefined) {
      for (const waiter of waiters) {
        if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
        waiter.resolve();
      }
    }
  }

  #captureRemote(): void {
    const { remoteAddress, remotePort } = this.stream as Partial<Socket>;
    if (typeof remoteAddress === 'string') this.#remoteAddress = remoteAddress;
    if (typeof remotePort === 'number') this.#remotePort = remotePort;
  }

  /**
   * From now on every write reports its completion, so `resume` and `drained()` see the buffer
   * shrink. Writes already in flight went without a callback: an empty write queued behind them
   * reports when they are done (or at once if they are).
   */
  #watchWrites(): void {
    if (this.#afterWrite !== undefined) return;
    this.#afterWrite = (error) => {
      if (error == null) this[kAfterWrite]();
    };
    if (!this.#writeClosed) this.stream.write(EMPTY, this.#afterWrite);
  }

  /** Hands the batch to the stream in one write. */
  #flush(): void {
    const chunk = this.#batch.take();
    if (chunk !== undefined && !this.#writeClosed) this.stream.write(chunk, this.#afterWrite);
  }

  /** Copies a small frame into the batch and makes sure a flush is scheduled. */
  #copyFrame(payload: FramePayload, length: number, headerBytes: number): void {
    const batch = this.#batch;
    const frameBytes = headerBytes + length;
    if (!batch.fits(frameBytes) && !batch.grow(frameBytes)) {
      this.#flush();
      batch.renew(frameBytes);
    }
    batch.appendHeader(this.#codec, length, headerBytes);
    if (typeof payload === 'string') batch.appendString(payload);
    else if (payload instanceof Uint8Array) batch.appendBytes(payload);
    else {
      for (let i = 0; i < payload.length; i++) {
        const part = (payload as readonly FramePart[])[i]!;
        if (typeof part === 'string') batch.appendString(part);
        else batch.appendBytes(part);
      }
    }
    if (!this.#paused && batch.pendingBytes + this.stream.writableLength >= this.#highWaterMark) {
      // Waiting for more frames would only hold bytes back: the batch leaves now, and whatever the
      // stream cannot take at once is what backpressure counts.
      this.#flush();
    } else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(flushBatch, this);
    }
  }

  /**
   * Writes a large frame without copying its payload: the header joins the batch, the batch leaves,
   * then the payload, all corked into one gather write. Small parts of an array still go through the
   * batch so they don't cost an iovec each.
   */
  #writeFrame(payload: FramePayload, length: number, headerBytes: number): void {
    const batch = this.#batch;
    const stream = this.stream;
    if (!batch.fits(headerBytes) && !batch.grow(headerBytes)) {
      this.#flush();
      batch.renew(headerBytes);
    }
    batch.appendHeader(this.#codec, length, headerBytes);
    if (this.#writeClosed) {
      batch.discard();
      return;
    }
    stream.cork();
    try {
      if (typeof payload === 'string') this.#appendLarge(payload, length);
      else if (payload instanceof Uint8Array) this.#appendLarge(payload, length);
      else {
        for (let i = 0; i < payload.length; i++) {
          const part = (payload as readonly FramePart[])[i]!;
          this.#appendLarge(part, typeof part === 'string' ? Buffer.byteLength(part) : part.length);
        }
      }
      this.#flush();
    } finally {
      stream.uncork();
    }
  }

  #appendLarge(part: FramePart, bytes: number): void {
    if (bytes === 0) return;
    const batch = this.#batch;
    if (bytes < ZERO_COPY_BYTES || (typeof part === 'string' && bytes <= 4 * ZERO_COPY_BYTES)) {
      if (!batch.fits(bytes) && !batch.grow(bytes)) {
        this.#flush();
        batch.renew(bytes);
      }
      if (typeof part === 'string') batch.appendString(part);
      else batch.appendBytes(part);
      return;
    }
    this.#flush();
    this.stream.write(typeof part === 'string' ? Buffer.from(part, 'utf8') : part, this.#afterWrite);
  }
}
