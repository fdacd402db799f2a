import { mulberry32, randomInt } from '../lib/prng.js';

/** Wire format a contender reads: our default, the LEB128 prefix of length-prefixed-stream and it-length-prefixed, or amp's. */
export type Format = 'uint32be' | 'varint' | 'amp';

function varintBytes(n: number): number {
  let bytes = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    bytes++;
  }
  return bytes;
}

function writeVarint(n: number, target: Buffer, offset: number): number {
  while (n >= 0x80) {
    target[offset++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  target[offset++] = n;
  return offset;
}

export function headerBytes(format: Format, payloadBytes: number): number {
  return format === 'uint32be' ? 4 : format === 'varint' ? varintBytes(payloadBytes) : 5;
}

/**
 * Writes frame `index` into its payload: the index (uint32be) in the first and the last four bytes,
 * so a frame assembled from the wrong bytes, or overwritten later, shows (payloads of 8+ bytes).
 */
function stamp(data: Buffer, payloadStart: number, frameSize: number, index: number): void {
  data.writeUInt32BE(index >>> 0, payloadStart);
  data.writeUInt32BE(index >>> 0, payloadStart + frameSize - 4);
}

/** Whether `frame` carries the stamp of frame `index` (see stamp()). */
export function hasStamp(frame: Uint8Array, index: number): boolean {
  const n = frame.byteLength;
  const first = ((frame[0]! << 24) | (frame[1]! << 16) | (frame[2]! << 8) | frame[3]!) >>> 0;
  const last = ((frame[n - 4]! << 24) | (frame[n - 3]! << 16) | (frame[n - 2]! << 8) | frame[n - 1]!) >>> 0;
  return first === index >>> 0 && last === index >>> 0 && frame[4] === 0xa5;
}

/** As many `frameSize`-byte frames as fit in `totalBytes`, back to back, each stamped with its index. */
export function buildStream(format: Format, frameSize: number, totalBytes: number): { data: Buffer; frames: number } {
  const frameBytes = headerBytes(format, frameSize) + frameSize;
  const frames = Math.floor(totalBytes / frameBytes);
  const data = Buffer.alloc(frames * frameBytes, 0xa5);
  let offset = 0;
  for (let i = 0; i < frames; i++) {
    if (format === 'uint32be') offset = data.writeUInt32BE(frameSize, offset);
    else if (format === 'varint') offset = writeVarint(frameSize, data, offset);
    else {
      // amp: meta byte (version 1, one argument), then the argument's uint32be length.
      data[offset++] = 0x11;
      offset = data.writeUInt32BE(frameSize, offset);
    }
    stamp(data, offset, frameSize, i);
    offset += frameSize;
  }
  return { data, frames };
}

/** Views of `data` cut at seeded random sizes in [minChunk, maxChunk]: what a socket would hand over. */
export function cutChunks(data: Buffer, seed: number, minChunk: number, maxChunk: number): Buffer[] {
  const next = mulberry32(seed);
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < data.length; ) {
    const size = Math.min(randomInt(next, minChunk, maxChunk), data.length - offset);
    chunks.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}
