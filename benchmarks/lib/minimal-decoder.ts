/**
 * The practical limit for a uint32be frame decoder, hand-written for the benchmarks: frames that lie
 * inside one chunk are zero-copy views; a frame spanning chunks is copied once into a buffer of its
 * announced size; a header split across chunks is kept in a 4-byte scratch. No concat, no list.
 * It checks the announced length against a limit like a real decoder must, and nothing else.
 */
export class MinimalDecoder {
  readonly maxFrameBytes: number;
  /** Frame being filled across chunks, or null. */
  #partial: Buffer | null = null;
  #filled = 0;
  readonly #header = Buffer.alloc(4);
  #headerFilled = 0;

  constructor(maxFrameBytes = 16 * 1024 * 1024) {
    this.maxFrameBytes = maxFrameBytes;
  }

  #announce(length: number): void {
    if (length > this.maxFrameBytes) throw new RangeError(`frame of ${length} bytes exceeds ${this.maxFrameBytes}`);
  }

  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    const end = chunk.length;
    let offset = 0;
    const partial = this.#partial;
    if (partial !== null) {
      const n = Math.min(partial.length - this.#filled, end);
      chunk.copy(partial, this.#filled, 0, n);
      this.#filled += n;
      offset = n;
      if (this.#filled < partial.length) return;
      this.#partial = null;
      onFrame(partial);
    } else if (this.#headerFilled > 0) {
      const header = this.#header;
      while (this.#headerFilled < 4 && offset < end) header[this.#headerFilled++] = chunk[offset++]!;
      if (this.#headerFilled < 4) return;
      this.#headerFilled = 0;
      const length = header.readUInt32BE(0);
      this.#announce(length);
      if (end - offset < length) {
        this.#startPartial(chunk, offset, length);
        return;
      }
      onFrame(chunk.subarray(offset, offset + length));
      offset += length;
    }
    while (end - offset >= 4) {
      const length = chunk[offset]! * 0x1000000 + ((chunk[offset + 1]! << 16) | (chunk[offset + 2]! << 8) | chunk[offset + 3]!);
      this.#announce(length);
      offset += 4;
      if (end - offset < length) {
        this.#startPartial(chunk, offset, length);
        return;
      }
      onFrame(chunk.subarray(offset, offset + length));
      offset += length;
    }
    while (offset < end) this.#header[this.#headerFilled++] = chunk[offset++]!;
  }

  #startPartial(chunk: Buffer, offset: number, length: number): void {
    const partial = Buffer.allocUnsafe(length);
    chunk.copy(partial, 0, offset);
    this.#partial = partial;
    this.#filled = chunk.length - offset;
  }

  /** Bytes held for an unfinished frame (0 at a frame boundary). */
  get pendingBytes(): number {
    return this.#partial !== null ? this.#filled + 4 : this.#headerFilled;
  }
}
