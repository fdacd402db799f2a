/**
 * The practical limit for a uint32be frame decoder, hand-written for the benchmarks: frames that lie
 * inside one chunk are zero-copy views; a frame spanning chunks is copied once into a buffer of its
 * announced size; a header split across chunks is kept in a 4-byte scratch. No concat, no list.
 * It checks the announced length against a limit like a real decoder must, and nothing else.
 * Plain fields and a small scan method: V8 optimizes that loop best.
 */
export class MinimalDecoder {
  readonly maxFrameBytes: number;
  /** Frame being filled across chunks, or null. */
  private _partial: Buffer | null = null;
  private _filled = 0;
  private readonly _header = Buffer.alloc(4);
  private _headerFilled = 0;

  constructor(maxFrameBytes = 16 * 1024 * 1024) {
    this.maxFrameBytes = maxFrameBytes;
  }

  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let offset = 0;
    if (this._partial !== null) offset = this._fill(chunk, onFrame);
    else if (this._headerFilled > 0) offset = this._finishHeader(chunk, onFrame);
    if (offset < chunk.length) this._scan(chunk, offset, onFrame);
  }

  private _scan(chunk: Buffer, start: number, onFrame: (frame: Buffer) => void): void {
    const end = chunk.length;
    let offset = start;
    while (end - offset >= 4) {
      const length = chunk[offset]! * 0x1000000 + ((chunk[offset + 1]! << 16) | (chunk[offset + 2]! << 8) | chunk[offset + 3]!);
      if (length > this.maxFrameBytes) throw new RangeError(`frame of ${length} bytes exceeds ${this.maxFrameBytes}`);
      const payloadStart = offset + 4;
      offset = payloadStart + length;
      if (offset > end) {
        this._startPartial(chunk, payloadStart, length);
        return;
      }
      onFrame(chunk.subarray(payloadStart, offset));
    }
    if (offset < end) this._headerFilled = chunk.copy(this._header, 0, offset);
  }

  private _fill(chunk: Buffer, onFrame: (frame: Buffer) => void): number {
    const partial = this._partial!;
    const n = chunk.copy(partial, this._filled, 0, Math.min(partial.length - this._filled, chunk.length));
    this._filled += n;
    if (this._filled === partial.length) {
      this._partial = null;
      onFrame(partial);
    }
    return n;
  }

  private _finishHeader(chunk: Buffer, onFrame: (frame: Buffer) => void): number {
    const had = this._headerFilled;
    const copied = chunk.copy(this._header, had, 0, Math.min(4 - had, chunk.length));
    if (had + copied < 4) {
      this._headerFilled += copied;
      return chunk.length;
    }
    this._headerFilled = 0;
    const length = this._header.readUInt32BE(0);
    if (length > this.maxFrameBytes) throw new RangeError(`frame of ${length} bytes exceeds ${this.maxFrameBytes}`);
    if (chunk.length - copied < length) {
      this._startPartial(chunk, copied, length);
      return chunk.length;
    }
    onFrame(chunk.subarray(copied, copied + length));
    return copied + length;
  }

  private _startPartial(chunk: Buffer, offset: number, length: number): void {
    const partial = Buffer.allocUnsafe(length);
    this._filled = chunk.copy(partial, 0, offset);
    this._partial = partial;
  }

  /** Bytes held for an unfinished frame (0 at a frame boundary). */
  get pendingBytes(): number {
    return this._partial !== null ? this._filled + 4 : this._headerFilled;
  }
}
