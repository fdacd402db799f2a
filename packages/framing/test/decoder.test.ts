import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FrameDecoder } from '../src/decoder.js';
import { encodeFrame } from '../src/encoder.js';
import {
  FrameTooLargeError,
  InvalidArgError,
  ProtocolError,
  UnexpectedEofError,
} from '../src/errors.js';
import type { LengthPrefixCodec } from '../src/length-prefix.js';
import { PREFIX_CASES, splitAt, splitEvery } from './length-prefix-codecs.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Pushes every chunk and returns copies of the delivered frames, plus the live frames themselves. */
function decodeAll(decoder: FrameDecoder, chunks: readonly Buffer[]): Buffer[] {
  const frames: Buffer[] = [];
  for (const chunk of chunks) decoder.push(chunk, (frame) => frames.push(frame));
  return frames;
}

function hexes(frames: readonly Uint8Array[]): string[] {
  return frames.map((f) => Buffer.from(f).toString('hex'));
}

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe.each(PREFIX_CASES)('FrameDecoder with $name', ({ prefix, maxLength, maxHeaderBytes }) => {
  const options = { lengthPrefix: prefix };
  const encode = (payload: Uint8Array | readonly Uint8Array[]) => encodeFrame(payload, options);
  const big = Math.min(maxLength, 70_000);
  const payloads = [
    Buffer.from('hello'),
    Buffer.alloc(0),
    Buffer.from([0]),
    Buffer.alloc(127, 1),
    Buffer.alloc(128, 2),
    Buffer.alloc(255, 3),
    Buffer.alloc(0),
    Buffer.from(Array.from({ length: big }, (_, i) => (i * 7) & 0xff)),
    Buffer.from('end'),
  ];
  const wire = Buffer.concat(payloads.map((p) => encode(p)));

  it('decodes a stream fed one byte at a time', () => {
    const decoder = new FrameDecoder(options);
    const frames: Buffer[] = [];
    let maxBuffered = 0;
    for (const chunk of splitEvery(wire, 1)) {
      decoder.push(chunk, (frame) => frames.push(frame));
      maxBuffered = Math.max(maxBuffered, decoder.bufferedBytes);
    }
    expect(hexes(frames)).toEqual(hexes(payloads));
    expect(decoder.bufferedBytes).toBe(0);
    expect(maxBuffered).toBe(big - 1);
    expect(() => decoder.end()).not.toThrow();
  });

  it('decodes many frames in one chunk in order, as views of that chunk', () => {
    const decoder = new FrameDecoder(options);
    const chunk = Buffer.from(wire);
    const frames = decodeAll(decoder, [chunk]);
    expect(hexes(frames)).toEqual(hexes(payloads));
    for (const frame of frames) expect(frame.buffer).toBe(chunk.buffer);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('delivers zero-length frames as empty Buffers, wherever they fall', () => {
    const empties = Buffer.concat([encode(Buffer.alloc(0)), encode([]), encode(Buffer.alloc(0))]);
    for (const chunks of [[empties], splitEvery(empties, 1), splitAt(empties, [0, 1, 1, 3])]) {
      const decoder = new FrameDecoder(options);
      const frames = decodeAll(decoder, chunks);
      expect(frames).toHaveLength(3);
      for (const frame of frames) {
        expect(Buffer.isBuffer(frame)).toBe(true);
        expect(frame.length).toBe(0);
      }
      decoder.end();
    }
  });

  it('decodes identically at seeded random split points', () => {
    const cutLists = fc.sample(fc.array(fc.integer({ min: 0, max: wire.length }), { maxLength: 40 }), {
      seed: 20_261_122,
      numRuns: 60,
    });
    for (const cuts of cutLists) {
      const decoder = new FrameDecoder(options);
      expect(hexes(decodeAll(decoder, splitAt(wire, cuts)))).toEqual(hexes(payloads));
      decoder.end();
    }
  });

  it('property: any payload list split anywhere decodes to the same payloads', () => {
    const payloadArb = fc.uint8Array({ maxLength: Math.min(maxLength, 3000) });
    const caseArb = fc
      .array(payloadArb, { maxLength: 12 })
      .chain((list) => {
        const total = list.reduce((n, p) => n + p.length + maxHeaderBytes, 0);
        return fc.tuple(fc.constant(list), fc.array(fc.integer({ min: 0, max: total }), { maxLength: 30 }));
      });
    fc.assert(
      fc.property(caseArb, ([list, cuts]) => {
        const stream = Buffer.concat(list.map((p) => encode(p)));
        const decoder = new FrameDecoder(options);
        const frames = decodeAll(decoder, splitAt(stream, cuts));
        expect(hexes(frames)).toEqual(hexes(list));
        expect(decoder.bufferedBytes).toBe(0);
        decoder.end();
      }),
      { numRuns: 150 },
    );
  });

  it('rejects a header over maxFrameBytes on the header alone, buffering nothing', () => {
    const decoder = new FrameDecoder({ ...options, maxFrameBytes: 100 });
    // Only the header of a frame announcing 101 bytes (and a little payload after it).
    const header = encode(Buffer.alloc(101)).subarray(0, -101);
    const error = catchError(() => decoder.push(Buffer.concat([header, Buffer.alloc(50)]), () => {}));
    expect(error).toBeInstanceOf(FrameTooLargeError);
    expect((error as FrameTooLargeError).code).toBe('ERR_FRAME_TOO_LARGE');
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('rejects an oversized header arriving byte by byte at its last byte', () => {
    const decoder = new FrameDecoder({ ...options, maxFrameBytes: 10 });
    const header = encode(Buffer.alloc(maxLength === 255 ? 200 : 5000)).subarray(0, maxLength === 255 ? -200 : -5000);
    const bytes = splitEvery(header, 1);
    for (const byte of bytes.slice(0, -1)) decoder.push(byte, () => expect.unreachable());
    expect(decoder.bufferedBytes).toBe(header.length - 1);
    expect(decoder.bufferedBytes).toBeLessThanOrEqual(maxHeaderBytes);
    expect(() => decoder.push(bytes[bytes.length - 1]!, () => {})).toThrow(FrameTooLargeError);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('delivers a frame of exactly maxFrameBytes and rejects one byte more', () => {
    const limit = Math.min(maxLength, 1000);
    const atLimit = Buffer.alloc(limit, 9);
    const decoder = new FrameDecoder({ ...options, maxFrameBytes: limit });
    expect(hexes(decodeAll(decoder, splitAt(encode(atLimit), [1, 300])))).toEqual(hexes([atLimit]));
    expect(() => decodeAll(decoder, [encode(Buffer.alloc(limit + 1))])).toThrow(FrameTooLargeError);
  });

  it('throws ERR_UNEXPECTED_EOF from end() inside a header', () => {
    const frame = encode(Buffer.alloc(300 > maxLength ? 200 : 300));
    const headerBytes = frame.length - (300 > maxLength ? 200 : 300);
    if (headerBytes < 2) {
      expect(headerBytes).toBe(1); // a 1-byte header cannot be cut
      return;
    }
    const decoder = new FrameDecoder(options);
    decoder.push(frame.subarray(0, 1), () => {});
    expect(decoder.bufferedBytes).toBe(1);
    const error = catchError(() => decoder.end());
    expect(error).toBeInstanceOf(UnexpectedEofError);
    expect((error as UnexpectedEofError).code).toBe('ERR_UNEXPECTED_EOF');
    expect(error.message).toMatch(/header/);
  });

  it('throws ERR_UNEXPECTED_EOF from end() inside a payload', () => {
    const frame = encode(Buffer.from('abcdef'));
    const decoder = new FrameDecoder(options);
    decoder.push(frame.subarray(0, -2), () => expect.unreachable());
    expect(decoder.bufferedBytes).toBe(4);
    const error = catchError(() => decoder.end());
    expect((error as UnexpectedEofError).code).toBe('ERR_UNEXPECTED_EOF');
    expect(error.message).toMatch(/4 of 6/);
  });

  it('throws ERR_UNEXPECTED_EOF from end() right after a complete header', () => {
    const frame = encode(Buffer.from('abcdef'));
    const decoder = new FrameDecoder(options);
    decoder.push(frame.subarray(0, -6), () => expect.unreachable());
    expect(decoder.bufferedBytes).toBe(0);
    expect(catchError(() => decoder.end())).toBeInstanceOf(UnexpectedEofError);
  });

  it('ends cleanly between frames', () => {
    const decoder = new FrameDecoder(options);
    expect(decodeAll(decoder, [encode(Buffer.from('x'))])).toHaveLength(1);
    expect(() => decoder.end()).not.toThrow();
  });

  it('never changes a delivered frame while decoding later chunks', () => {
    const decoder = new FrameDecoder(options);
    const delivered: Buffer[] = [];
    const snapshots: string[] = [];
    // Spanning frames (assembled) and in-chunk frames (views), fed in uneven pieces.
    const chunks = [...splitAt(wire, [1, 2, 3, 50, 51, 700, 4000]), ...splitEvery(wire, 1), ...splitEvery(wire, 333)];
    for (const chunk of chunks) {
      decoder.push(chunk, (frame) => {
        delivered.push(frame);
        snapshots.push(frame.toString('hex'));
      });
    }
    expect(delivered).toHaveLength(payloads.length * 3);
    expect(hexes(delivered)).toEqual(snapshots);
  });

  it('gives a frame spanning chunks memory of its own', () => {
    const decoder = new FrameDecoder(options);
    const wireFrame = encode(Buffer.from('spanning'));
    const chunks = splitAt(wireFrame, [wireFrame.length - 5]);
    const [frame] = decodeAll(decoder, chunks);
    expect(frame?.toString()).toBe('spanning');
    for (const chunk of chunks) expect(frame?.buffer).not.toBe(chunk.buffer);
    chunks[1]!.fill(0);
    expect(frame?.toString()).toBe('spanning');
  });

  it('is failed after an error: later pushes and end() throw the same error', () => {
    const decoder = new FrameDecoder({ ...options, maxFrameBytes: 10 });
    const first = catchError(() => decodeAll(decoder, [encode(Buffer.alloc(11))]));
    expect(first).toBeInstanceOf(FrameTooLargeError);
    const again = catchError(() => decodeAll(decoder, [encode(Buffer.from('ok'))]));
    expect(again).toBeInstanceOf(FrameTooLargeError);
    expect(again).toBe(first);
    expect(catchError(() => decoder.end())).toBe(first);
  });
});

describe('FrameDecoder maxFrameBytes', () => {
  it('defaults to 16 MiB for uint32be and varint', () => {
    expect(new FrameDecoder().maxFrameBytes).toBe(16 * 1024 * 1024);
    expect(new FrameDecoder({ lengthPrefix: 'varint' }).maxFrameBytes).toBe(16 * 1024 * 1024);
  });

  it('defaults to what a narrow prefix can express', () => {
    expect(new FrameDecoder({ lengthPrefix: 'uint8' }).maxFrameBytes).toBe(255);
    expect(new FrameDecoder({ lengthPrefix: 'uint16be' }).maxFrameBytes).toBe(65_535);
  });

  it('rejects a 16 MiB + 1 frame by default', () => {
    const decoder = new FrameDecoder();
    const header = Buffer.alloc(4);
    header.writeUInt32BE(16 * 1024 * 1024 + 1);
    expect(() => decoder.push(header, () => {})).toThrow(FrameTooLargeError);
  });

  it('can be tightened and relaxed between frames', () => {
    const decoder = new FrameDecoder();
    decoder.maxFrameBytes = 8;
    expect(decoder.maxFrameBytes).toBe(8);
    const frames = decodeAll(decoder, [encodeFrame(Buffer.alloc(8))]);
    expect(frames).toHaveLength(1);
    decoder.maxFrameBytes = 1024;
    expect(decodeAll(decoder, [encodeFrame(Buffer.alloc(9))])).toHaveLength(1);
    decoder.maxFrameBytes = 8;
    expect(() => decodeAll(decoder, [encodeFrame(Buffer.alloc(9))])).toThrow(FrameTooLargeError);
  });

  it('applies a limit changed inside the callback to the next header of the same chunk', () => {
    const decoder = new FrameDecoder();
    const chunk = Buffer.concat([encodeFrame(Buffer.from('auth')), encodeFrame(Buffer.alloc(100))]);
    const seen: string[] = [];
    const error = catchError(() =>
      decoder.push(chunk, (frame) => {
        seen.push(frame.toString());
        decoder.maxFrameBytes = 16;
      }),
    );
    expect(seen).toEqual(['auth']);
    expect(error).toBeInstanceOf(FrameTooLargeError);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '1024', null])('rejects %s', (value) => {
    const error = catchError(() => new FrameDecoder({ maxFrameBytes: value as number }));
    expect(error).toBeInstanceOf(InvalidArgError);
    expect(error.message).toMatch(/maxFrameBytes must be a positive integer/);
    const decoder = new FrameDecoder();
    expect(() => {
      decoder.maxFrameBytes = value as number;
    }).toThrow(InvalidArgError);
    expect(decoder.maxFrameBytes).toBe(16 * 1024 * 1024);
  });

  it.each([
    ['uint8', 255],
    ['uint16be', 65_535],
    ['uint32be', 0xffff_ffff],
    ['uint32le', 0xffff_ffff],
    ['varint', 0xffff_ffff],
  ] as const)('accepts %s up to %d and rejects one more', (lengthPrefix, max) => {
    expect(new FrameDecoder({ lengthPrefix, maxFrameBytes: max }).maxFrameBytes).toBe(max);
    const error = catchError(() => new FrameDecoder({ lengthPrefix, maxFrameBytes: max + 1 }));
    expect(error).toBeInstanceOf(InvalidArgError);
    expect(error.message).toMatch(/larger than the length prefix can express/);
    const decoder = new FrameDecoder({ lengthPrefix });
    expect(() => {
      decoder.maxFrameBytes = max + 1;
    }).toThrow(InvalidArgError);
  });

  it('rejects an unknown prefix name at construction', () => {
    const error = catchError(() => new FrameDecoder({ lengthPrefix: 'int32' as 'uint8' }));
    expect(error).toBeInstanceOf(InvalidArgError);
    expect((error as InvalidArgError).code).toBe('ERR_INVALID_ARG');
    expect(error.message).toMatch(/unknown lengthPrefix "int32"/);
  });
});

describe('FrameDecoder memory', () => {
  it('never allocates from an announced length alone', () => {
    const allocUnsafe = vi.spyOn(Buffer, 'allocUnsafe');
    const alloc = vi.spyOn(Buffer, 'alloc');
    const allocUnsafeSlow = vi.spyOn(Buffer, 'allocUnsafeSlow');
    const decoder = new FrameDecoder();
    const header = Buffer.alloc(4);
    header.writeUInt32BE(16 * 1024 * 1024);
    decoder.push(header, () => expect.unreachable());
    for (let i = 0; i < 100; i++) decoder.push(Buffer.from([i]), () => expect.unreachable());
    expect(decoder.bufferedBytes).toBe(100);
    const sizes = [...allocUnsafe.mock.calls, ...alloc.mock.calls, ...allocUnsafeSlow.mock.calls].map(
      ([size]) => size,
    );
    expect(Math.max(0, ...sizes)).toBeLessThanOrEqual(256);
  });

  it('keeps staging memory within twice the bytes received while a peer trickles', () => {
    const allocUnsafe = vi.spyOn(Buffer, 'allocUnsafe');
    const decoder = new FrameDecoder();
    decoder.push(Buffer.from([0, 0x10, 0, 0]), () => expect.unreachable()); // announces 1 MiB
    for (let i = 0; i < 5000; i++) {
      decoder.push(Buffer.from([i & 0xff]), () => expect.unreachable());
      const sizes = allocUnsafe.mock.calls.map(([size]) => size);
      expect(Math.max(0, ...sizes)).toBeLessThanOrEqual(Math.max(256, 2 * decoder.bufferedBytes));
    }
  });

  it('assembles a frame from a mix of tiny and large pieces in order', () => {
    const payload = Buffer.from(Array.from({ length: 40_000 }, (_, i) => (i * 31 + 7) & 0xff));
    const frame = encodeFrame(payload);
    const sizes = [1, 2, 1, 5000, 3, 3000, 1, 1, 2048, 2047, 10_000, 7];
    const cuts: number[] = [];
    let at = 0;
    for (const size of sizes) cuts.push((at += size));
    const decoder = new FrameDecoder();
    const frames = decodeAll(decoder, splitAt(frame, cuts));
    expect(frames).toHaveLength(1);
    expect(frames[0]!.equals(payload)).toBe(true);
  });

  it('hands out a trickled frame that does not change when the next one trickles in', () => {
    const decoder = new FrameDecoder();
    const first = Buffer.alloc(1000, 0x11);
    const second = Buffer.alloc(1000, 0x22);
    const frames = decodeAll(decoder, splitEvery(Buffer.concat([encodeFrame(first), encodeFrame(second)]), 1));
    expect(frames).toHaveLength(2);
    expect(frames[0]!.equals(first)).toBe(true);
    expect(frames[1]!.equals(second)).toBe(true);
  });
});

describe('FrameDecoder callback errors', () => {
  it('propagates an exception from onFrame and fails the decoder', () => {
    const decoder = new FrameDecoder();
    const boom = new Error('boom');
    const chunk = Buffer.concat([encodeFrame(Buffer.from('a')), encodeFrame(Buffer.from('b'))]);
    const seen: string[] = [];
    const error = catchError(() =>
      decoder.push(chunk, (frame) => {
        seen.push(frame.toString());
        throw boom;
      }),
    );
    expect(error).toBe(boom);
    expect(seen).toEqual(['a']);
    expect(catchError(() => decoder.push(encodeFrame(Buffer.from('c')), () => {}))).toBe(boom);
  });
});

describe('FrameDecoder with a misbehaving custom codec', () => {
  const base: LengthPrefixCodec = {
    maxHeaderBytes: 2,
    encodedLength: () => 2,
    encode: () => 2,
    decode: () => 0,
  };

  it('reports a codec that never decodes within maxHeaderBytes', () => {
    const decoder = new FrameDecoder({ lengthPrefix: base });
    decoder.push(Buffer.from([1]), () => {});
    const error = catchError(() => decoder.push(Buffer.from([2]), () => {}));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toMatch(/more than maxHeaderBytes/);
  });

  it('reports a codec claiming more header bytes than it was given', () => {
    const decoder = new FrameDecoder({ lengthPrefix: { ...base, decode: () => 3 } });
    expect(() => decoder.push(Buffer.from([1, 2]), () => {})).toThrow(/invalid header size/);
  });

  it('reports a codec decoding a negative or fractional length', () => {
    for (const bad of [-1, 0.5, Number.NaN]) {
      const codec: LengthPrefixCodec = {
        ...base,
        decode(_source, offset, end, out) {
          if (end - offset < 2) return 0;
          out.length = bad;
          return 2;
        },
      };
      const decoder = new FrameDecoder({ lengthPrefix: codec });
      expect(() => decoder.push(Buffer.from([1, 2, 3]), () => {})).toThrow(ProtocolError);
    }
  });

  it('caps a custom codec without maxLength only by the default limit', () => {
    expect(new FrameDecoder({ lengthPrefix: base }).maxFrameBytes).toBe(16 * 1024 * 1024);
    expect(new FrameDecoder({ lengthPrefix: base, maxFrameBytes: 2 ** 40 }).maxFrameBytes).toBe(2 ** 40);
  });
});

describe('FrameDecoder varint malformed stream', () => {
  it.each([
    ['a 6-byte varint', '808080808001'],
    ['an overflowing varint', 'ffffffff1f'],
    ['a non-minimal varint', '8000'],
  ])('fails on %s, fed whole or byte by byte', (_label, hex) => {
    for (const chunks of [[Buffer.from(hex, 'hex')], splitEvery(Buffer.from(hex, 'hex'), 1)]) {
      const decoder = new FrameDecoder({ lengthPrefix: 'varint' });
      const error = catchError(() => decodeAll(decoder, chunks));
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).code).toBe('ERR_PROTOCOL');
      expect(() => decoder.push(Buffer.from([0]), () => {})).toThrow(ProtocolError);
    }
  });
});
