import { InvalidArgError } from './errors.js';
import type { LengthPrefixCodec } from './length-prefix.js';

/** Largest batch slab. Small frames of one tick are copied into it and leave in one write. */
export const BATCH_SLAB_BYTES = 64 * 1024;

/**
 * First slab size. Below half of `Buffer.poolSize` it comes from Node's shared pool, and a quiet
 * connection drops it after each flush, so an idle connection holds no slab at all.
 */
const FIRST_SLAB_BYTES = 2 * 1024;

const EMPTY = Buffer.alloc(0);

/**
 * Outbound bytes waiting for the next flush, kept in a slab that is handed out piecewise: a flush
 * gives the stream a view of `[start, end)` and later frames go after `end`, so memory the stream
 * holds is never written again and one slab serves many flushes (like Node's Buffer pool). Slabs
 * start small and double, up to {@link BATCH_SLAB_BYTES}, each time one tick's frames overflow one.
 */
export class WriteBatch {
  private _slab: Buffer = EMPTY;
  private _start = 0;
  private _end = 0;
  private _slabBytes = FIRST_SLAB_BYTES;

  /** Bytes written but not yet taken. */
  get pendingBytes(): number {
    return this._end - this._start;
  }

  /** Whether `bytes` more fit without a new slab. */
  fits(bytes: number): boolean {
    return this._slab.length - this._end >= bytes;
  }

  /**
   * Makes room for `bytes` more without a flush: a fresh slab when nothing is pending, or a larger
   * one the pending bytes move into while slabs are below {@link BATCH_SLAB_BYTES}, so a busy
   * connection's first ticks still leave in one write.
   *
   * @returns `false` when that would pass the largest slab: flush, then {@link WriteBatch.renew}.
   */
  grow(bytes: number): boolean {
    const pending = this._end - this._start;
    if (pending === 0) {
      this.renew(bytes);
      return true;
    }
    // At the largest slab, flushing beats copying: the pending bytes leave now, as a raw writer's
    // would when its buffer fills, and the peer starts on them while this tick goes on.
    if (this._slabBytes >= BATCH_SLAB_BYTES || pending + bytes > BATCH_SLAB_BYTES) return false;
    let size = this._slabBytes * 2;
    while (size < pending + bytes) size *= 2;
    this._slabBytes = size < BATCH_SLAB_BYTES ? size : BATCH_SLAB_BYTES;
    const slab = Buffer.allocUnsafe(this._slabBytes);
    this._slab.copy(slab, 0, this._start, this._end);
    this._slab = slab;
    this._start = 0;
    this._end = pending;
    return true;
  }

  /** Starts a new slab of at least `bytes`. Take the pending bytes first, or they are dropped. */
  renew(bytes: number): void {
    this._slab = Buffer.allocUnsafe(bytes > this._slabBytes ? bytes : this._slabBytes);
    this._start = 0;
    this._end = 0;
  }

  /** Hands out the pending bytes as a view the caller writes to the stream; `undefined` when none. */
  take(): Buffer | undefined {
    if (this._end === this._start) return undefined;
    const chunk = this._slab.subarray(this._start, this._end);
    this._start = this._end;
    if (this._slabBytes === FIRST_SLAB_BYTES) this.discardSlab();
    return chunk;
  }

  /** Lets go of the slab (a quiet connection gets a pool slice again when it next sends). */
  private discardSlab(): void {
    this._slab = EMPTY;
    this._start = 0;
    this._end = 0;
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
