// Shared by the length-prefix, decoder and encoder tests: every prefix under test, including a custom
// codec, plus helpers to cut a byte stream into chunks.
import { ProtocolError } from '../src/errors.js';
import type { LengthPrefix, LengthPrefixCodec } from '../src/length-prefix.js';

/**
 * A custom, variable-length codec unlike any built-in: the length in ASCII decimal followed by ':'
 * (netstring style, "5:hello"). Up to 10 digits plus the colon.
 */
export const decimalColonCodec: LengthPrefixCodec = {
  maxHeaderBytes: 11,
  maxLength: 0xffff_ffff,
  encodedLength: (length) => String(length).length + 1,
  encode(length, target, offset) {
    const text = `${String(length)}:`;
    for (let i = 0; i < text.length; i++) target[offset + i] = text.charCodeAt(i);
    return text.length;
  },
  decode(source, offset, end, out) {
    let length = 0;
    for (let i = offset; i < end && i - offset < 11; i++) {
      const byte = source[i]!;
      if (byte === 0x3a) {
        if (i === offset) throw new ProtocolError('empty decimal length');
        out.length = length;
        return i - offset + 1;
      }
      if (byte < 0x30 || byte > 0x39) throw new ProtocolError(`bad digit 0x${byte.toString(16)}`);
      length = length * 10 + (byte - 0x30);
    }
    if (end - offset >= 11) throw new ProtocolError('decimal length longer than 10 digits');
    return 0;
  },
};

export interface PrefixCase {
  readonly name: string;
  readonly prefix: LengthPrefix;
  /** Largest payload the prefix can carry. */
  readonly maxLength: number;
  readonly maxHeaderBytes: number;
}

export const PREFIX_CASES: readonly PrefixCase[] = [
  { name: 'uint32be', prefix: 'uint32be', maxLength: 0xffff_ffff, maxHeaderBytes: 4 },
  { name: 'uint16be', prefix: 'uint16be', maxLength: 0xffff, maxHeaderBytes: 2 },
  { name: 'uint8', prefix: 'uint8', maxLength: 0xff, maxHeaderBytes: 1 },
  { name: 'uint32le', prefix: 'uint32le', maxLength: 0xffff_ffff, maxHeaderBytes: 4 },
  { name: 'varint', prefix: 'varint', maxLength: 0xffff_ffff, maxHeaderBytes: 5 },
  { name: 'custom decimal', prefix: decimalColonCodec, maxLength: 0xffff_ffff, maxHeaderBytes: 11 },
];

/** A copy in an ArrayBuffer of its own (Buffer.from would share Node's 8 KiB pool for small sizes). */
export function ownCopy(bytes: Uint8Array): Buffer {
  return Buffer.from(new Uint8Array(bytes).buffer);
}

/**
 * Cuts `data` at the given offsets (clamped, sorted; duplicates give empty chunks). Every chunk is a
 * copy in its own ArrayBuffer, as chunks from a real socket are.
 */
export function splitAt(data: Uint8Array, cuts: readonly number[]): Buffer[] {
  const points = cuts.map((c) => Math.min(Math.max(c, 0), data.length)).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, data.length]) {
    chunks.push(ownCopy(data.subarray(start, point)));
    start = point;
  }
  return chunks;
}

/** Chunks of `size` bytes (the last may be shorter), each in its own ArrayBuffer. */
export function splitEvery(data: Uint8Array, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) chunks.push(ownCopy(data.subarray(i, i + size)));
  return chunks;
}
