import type { Duplex } from 'node:stream';
import type { LengthPrefixCodec } from './length-prefix.js';
import type { FramePart, FramePayload } from './part-bytes.js';
import { WriteBatch } from './write-batch.js';

/** Payloads at least this long are written without copying (a gather write after the batch). */
export const ZERO_COPY_BYTES = 16 * 1024;

/** Strings up to this long are encoded into the batch even inside a zero-copy frame. */
const STRING_COPY_BYTES = 4 * ZERO_COPY_BYTES;

/** Called when a stream write completes (`null`/`undefined` on success). */
export type WriteCallback = (error?: Error | null) => void;

const EMPTY = Buffer.alloc(0);

const FLUSH_SCHEDULED = 1;
/** The stream takes no more writes (destroyed, or ended by the peer). */
const CLOSED = 2;

function flushWriter(writer: FrameWriter): void {
  writer.scheduledFlush();
}

/**
 * Puts frames on a stream in the order sent (the role of `ws`'s sender): small frames are copied
 * into its {@link WriteBatch} and leave in one `write()` at `process.nextTick`; payloads of
 * {@link ZERO_COPY_BYTES} or more leave without a copy, the batch (with their header) first, corked
 * into one gather write. Nothing here decides whether a frame may be sent: the socket checks limits
 * and backpressure, the writer only writes.
 */
export class FrameWriter extends WriteBatch {
  // A FrameWriter is the socket's write batch plus what it takes to put the batch on the stream:
  // one object per socket instead of two (idle connections are many).
  readonly #stream: Duplex;
  readonly #codec: LengthPrefixCodec;
  /** {@link FLUSH_SCHEDULED} | {@link CLOSED} (one field: idle sockets are many). */
  #flags = 0;
  /** Completion callback of every write from now on; set once backpressure needs to watch writes. */
  #onWrite: WriteCallback | undefined;

  constructor(stream: Duplex, codec: LengthPrefixCodec) {
    super();
    this.#stream = stream;
    this.#codec = codec;
  }

  /** Outbound bytes not yet handed to the kernel: the batch plus what the stream holds. */
  get bufferedBytes(): number {
    return this.pendingBytes + this.#stream.writableLength;
  }

  /** The length prefix codec. */
  get codec(): LengthPrefixCodec {
    return this.#codec;
  }

  /** Bytes `length` takes as a header. */
  headerBytes(length: number): number {
    return this.#codec.encodedLength(length);
  }

  /**
   * Writes one frame whose payload is `length` bytes (already checked by the caller) and whose
   * header is `headerBytes` long.
   */
  write(payload: FramePayload, length: number, headerBytes: number): void {
    if (length < ZERO_COPY_BYTES) this.#copyFrame(payload, length, headerBytes);
    else this.#writeFrame(payload, length, headerBytes);
  }

  /** Hands the batch to the stream in one write (nothing when it is empty). */
  flush(): void {
    const chunk = this.take();
    if (chunk !== undefined && (this.#flags & CLOSED) === 0) this.#stream.write(chunk, this.#onWrite);
  }

  /** Runs at `process.nextTick` after the first small frame of a tick. */
  scheduledFlush(): void {
    this.#flags &= ~FLUSH_SCHEDULED;
    this.flush();
  }

  /**
   * From now on every write reports its completion to `callback`. Writes already in flight went
   * without one: an empty write queued behind them reports when they are done.
   */
  watchWrites(callback: WriteCallback): void {
    if (this.#onWrite !== undefined) return;
    this.#onWrite = callback;
    if ((this.#flags & CLOSED) === 0) this.#stream.write(EMPTY, callback);
  }

  /** Flushes, then ends the stream (graceful close of our side). */
  end(): void {
    this.flush();
    if ((this.#flags & CLOSED) === 0) this.#stream.end();
  }

  /** The stream takes no more writes: drops the batch, and every later write is dropped too. */
  close(): void {
    this.#flags |= CLOSED;
    this.discard();
  }

  /** Copies a small frame into the batch and makes sure a flush is scheduled. */
  #copyFrame(payload: FramePayload, length: number, headerBytes: number): void {
    const batch: WriteBatch = this;
    this.#reserve(headerBytes + length);
    batch.appendHeader(this.#codec, length, headerBytes);
    if (typeof payload === 'string') batch.appendString(payload);
    else if (payload instanceof Uint8Array) batch.appendBytes(payload);
    else {
      for (let i = 0; i < payload.length; i++) {
        const part = payload[i]!;
        if (typeof part === 'string') batch.appendString(part);
        else batch.appendBytes(part);
      }
    }
    if ((this.#flags & FLUSH_SCHEDULED) === 0) {
      this.#flags |= FLUSH_SCHEDULED;
      process.nextTick(flushWriter, this);
    }
  }

  /**
   * Writes a large frame without copying its payload: the header joins the batch, the batch leaves,
   * then the payload, all corked into one gather write. Small parts of an array still go through the
   * batch so they don't cost an iovec each.
   */
  #writeFrame(payload: FramePayload, length: number, headerBytes: number): void {
    const batch: WriteBatch = this;
    this.#reserve(headerBytes);
    batch.appendHeader(this.#codec, length, headerBytes);
    if ((this.#flags & CLOSED) !== 0) {
      batch.discard();
      return;
    }
    const stream = this.#stream;
    stream.cork();
    try {
      if (typeof payload === 'string') this.#appendLarge(payload, length);
      else if (payload instanceof Uint8Array) this.#appendLarge(payload, length);
      else {
        for (let i = 0; i < payload.length; i++) {
          const part = payload[i]!;
          this.#appendLarge(part, typeof part === 'string' ? Buffer.byteLength(part) : part.length);
        }
      }
      this.flush();
    } finally {
      stream.uncork();
    }
  }

  #appendLarge(part: FramePart, bytes: number): void {
    if (bytes === 0) return;
    if (bytes < ZERO_COPY_BYTES || (typeof part === 'string' && bytes <= STRING_COPY_BYTES)) {
      this.#reserve(bytes);
      if (typeof part === 'string') this.appendString(part);
      else this.appendBytes(part);
      return;
    }
    this.flush();
    this.#stream.write(typeof part === 'string' ? Buffer.from(part, 'utf8') : part, this.#onWrite);
  }

  /** Makes room for `bytes` in the batch, flushing it first when it cannot grow. */
  #reserve(bytes: number): void {
    if (!this.fits(bytes) && !this.grow(bytes)) {
      this.flush();
      this.renew(bytes);
    }
  }
}
