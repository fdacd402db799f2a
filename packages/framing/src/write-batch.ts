import { InvalidArgError } from './errors.js';
import type { LengthPrefixCodec } from './length-prefix.js';

/** Largest batch slab. Small frames of one tick are copied into it and leave in one write. */
export const BATCH_SLAB_BYTES = 64 * 1024;

/**
 * First slab size. Below half of `Buffer.poolSize` it comes from Node's shared pool, so a connection
 * that sends little (a hello, a rare message) holds no slab of its own; busy ones grow to the max.
 */
const FIRST_SLAB_BYTES = 2 * 1024;

const EMPTY = Buffer.alloc(0);

/**
 * Outbound bytes waiting for the next flush, kept in a slab that is handed out piecewise: a flush
 * gives the stream a view of `[start, end)` and later frames go after `end`, so memory the stream
 * holds is never written again and one slab serves many flushes (like Node's Buffer pool). A new
 * slab is allocated only when the current one is full.
 */
export class WriteBatch {
  private _slab: Buffer = EMPTY;
  private _start = 0;
  private _end = 0;
  private _nextSlabBytes = FIRST_SLAB_BYTES;

  /** Bytes written but not yet taken. */
  get pendingBytes(): number {
    return this._end - this._start;
  }

  /** Whether `bytes` more fit without a new slab. */
  fits(bytes: number): boolean {
    return this._slab.length - this._end >= bytes;
  }

  /**
   * Moves the pending bytes into a larger slab so `bytes` more fit, while slabs are still below
   * {@link BATCH_SLAB_BYTES}: a busy connection's first ticks still leave in one write.
   *
   * @returns `false` when the slab is already at its largest (flush and `renew` instead).
   */
  grow(bytes: number): boolean {
    const pending = this._end - this._start;
    if (this._nextSlabBytes >= BATCH_SLAB_BYTES || pending + bytes > BATCH_SLAB_BYTES) return false;
    let size = this._nextSlabBytes;
    while (size < pending + bytes) size *= 2;
    this._nextSlabBytes = size < BATCH_SLAB_BYTES ? size * 2 : BATCH_SLAB_BYTES;
    const slab = Buffer.allocUnsafe(size);
    this._slab.copy(slab, 0, this._start, this._end);
    this._slab = slab;
    this._start = 0;
    this._end = pending;
    return true;
  }

  /**
   * Starts a new slab of at least `bytes`, each one twice the last up to {@link BATCH_SLAB_BYTES}.
   * Take the pending bytes first, or they are dropped.
   */
  renew(bytes: number): void {
    const size = this._nextSlabBytes;
    if (size < BATCH_SLAB_BYTES) this._nextSlabBytes = size * 2;
    this._slab = Buffer.allocUnsafe(bytes > size ? bytes : size);
    this._start = 0;
    this._end = 0;
  }

  /** Hands out the pending bytes as a view the caller writes to the stream; `undefined` when none. */
  take(): Buffer | undefined {
    if (this._end === this._start) return undefined;
    const chunk = this._slab.subarray(this._start, this._end);
    this._start = this._end;
    return chunk;
  }

  /** Forgets the pending bytes (the stream is gone). */
  discard(): void {
    this._start = this._end;
  }

  /**
   * Appends the header of a `length`-byte frame. Call only after `fits(headerBytes)`.
   *
   * @throws InvalidArgError when a custom codec writes another size than it announced; nothing is
   *   appended then.
   */
  appendHeader(codec: LengthPrefixCodec, length: number, headerBytes: number): void {
    const written = codec.encode(length, this._slab, this._end);
    if (written !== headerBytes) {
      throw new InvalidArgError(
        `length prefix codec wrote ${String(written)} bytes but encodedLength said ${String(headerBytes)}`,
      );
    }
    this._end += written;
  }

  /** Appends bytes. Call only after `fits(bytes.length)`. */
  appendBytes(bytes: Uint8Array): void {
    this._slab.set(bytes, this._end);
    this._end += bytes.length;
  }

  /** Appends a string as UTF-8. Call only after `fits(Buffer.byteLength(text))`. */
  appendString(text: string): void {
    this._end += this._slab.write(text, this._end);
  }
}
