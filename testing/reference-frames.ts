/**
 * A deliberately simple, non-incremental model of the frame format (PROTOCOL.md, "Frames"), written
 * independently of @proto/framing: it decodes a whole byte stream at once. Fuzz tests compare the real
 * incremental decoder against it, whatever the chunk boundaries.
 */

/** The built-in length prefixes. */
export const PREFIXES = ['uint32be', 'uint32le', 'uint16be', 'uint8', 'varint'] as const;
export type PrefixName = (typeof PREFIXES)[number];

/** How a stream ends: cleanly, or with the code of the error the decoder must raise. */
export type StreamOutcome = 'ok' | 'ERR_UNEXPECTED_EOF' | 'ERR_FRAME_TOO_LARGE' | 'ERR_PROTOCOL';

export interface ReferenceResult {
  /** Every frame completed before the stream ended or failed. */
  frames: Buffer[];
  outcome: StreamOutcome;
}

/** Largest header of each prefix. */
export const MAX_HEADER_BYTES: Readonly<Record<PrefixName, number>> = {
  uint32be: 4,
  uint32le: 4,
  uint16be: 2,
  uint8: 1,
  varint: 5,
};

/** Largest length each prefix can express. */
export const MAX_LENGTH: Readonly<Record<PrefixName, number>> = {
  uint32be: 0xffff_ffff,
  uint32le: 0xffff_ffff,
  uint16be: 0xffff,
  uint8: 0xff,
  varint: 0xffff_ffff,
};

type Header = { kind: 'need-more' } | { kind: 'bad' } | { kind: 'ok'; size: number; length: number };

function readHeader(prefix: PrefixName, bytes: Uint8Array, at: number): Header {
  const left = bytes.length - at;
  const b = (i: number): number => bytes[at + i]!;
  switch (prefix) {
    case 'uint32be':
      return left < 4 ? { kind: 'need-more' } : { kind: 'ok', size: 4, length: ((b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3)) >>> 0 };
    case 'uint32le':
      return left < 4 ? { kind: 'need-more' } : { kind: 'ok', size: 4, length: ((b(3) << 24) | (b(2) << 16) | (b(1) << 8) | b(0)) >>> 0 };
    case 'uint16be':
      return left < 2 ? { kind: 'need-more' } : { kind: 'ok', size: 2, length: (b(0) << 8) | b(1) };
    case 'uint8':
      return left < 1 ? { kind: 'need-more' } : { kind: 'ok', size: 1, length: b(0) };
    case 'varint': {
      // Unsigned LEB128, at most 5 bytes, shortest form only, at most 32 bits.
      let length = 0;
      for (let i = 0; i < 5; i++) {
        if (i >= left) return { kind: 'need-more' };
        const byte = b(i);
        if (i === 4 && byte > 0x0f) return { kind: 'bad' };
        length += (byte & 0x7f) * 2 ** (7 * i);
        if ((byte & 0x80) === 0) {
          if (byte === 0 && i > 0) return { kind: 'bad' };
          return { kind: 'ok', size: i + 1, length };
        }
      }
      return { kind: 'bad' };
    }
  }
}

/** Decodes a whole stream the way the spec says a receiver must. */
export function referenceDecode(prefix: PrefixName, bytes: Uint8Array, maxFrameBytes: number): ReferenceResult {
  const frames: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const header = readHeader(prefix, bytes, at);
    if (header.kind === 'need-more') return { frames, outcome: 'ERR_UNEXPECTED_EOF' };
    if (header.kind === 'bad') return { frames, outcome: 'ERR_PROTOCOL' };
    if (header.length > maxFrameBytes) return { frames, outcome: 'ERR_FRAME_TOO_LARGE' };
    const start = at + header.size;
    const end = start + header.length;
    if (end > bytes.length) return { frames, outcome: 'ERR_UNEXPECTED_EOF' };
    frames.push(Buffer.from(bytes.subarray(start, end)));
    at = end;
  }
  return { frames, outcome: 'ok' };
}

/** Encodes one frame with the given prefix (independent of @proto/framing's encoder). */
export function referenceEncode(prefix: PrefixName, payload: Uint8Array): Buffer {
  const n = payload.length;
  let header: number[];
  switch (prefix) {
    case 'uint32be':
      header = [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
      break;
    case 'uint32le':
      header = [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
      break;
    case 'uint16be':
      header = [n >>> 8, n & 0xff];
      break;
    case 'uint8':
      header = [n];
      break;
    case 'varint': {
      header = [];
      let v = n;
      while (v >= 0x80) {
        header.push((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      header.push(v);
      break;
    }
  }
  return Buffer.concat([Buffer.from(header), payload]);
}

/** Cuts `bytes` at the given offsets (sorted, deduplicated, clamped) into chunks that cover it exactly. */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(bytes.length, c))))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    if (point > start) chunks.push(Buffer.from(bytes.subarray(start, point)));
    start = Math.max(start, point);
  }
  if (start < bytes.length) chunks.push(Buffer.from(bytes.subarray(start)));
  return chunks;
}
