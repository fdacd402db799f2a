import { InvalidArgError } from './errors.js';
import type { LengthPrefixCodec } from './length-prefix.js';

/** Size of one batch slab. Small frames of one tick are copied into it and leave in one write. */
export const BATCH_SLAB_BYTES = 64 * 1024;

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

  /** Bytes written but not yet taken. */
  get pendingBytes(): number {
    return this._end - this._start;
  }

  /** Whether `bytes` more fit without a new slab. */
  fits(bytes: number): boolean {
    return this._slab.length - this._end >= bytes;
  }

  /** Starts a new slab of at least `bytes`. Take the pending bytes first, or they are dropped. */
  renew(bytes: number): void {
    this._slab = Buffer.allocUnsafe(bytes > BATCH_SLAB_BYTES ? bytes : BATCH_SLAB_BYTES);
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
