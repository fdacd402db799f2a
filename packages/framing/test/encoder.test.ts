import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../src/decoder.js';
import { encodeFrame, encodeHeader } from '../src/encoder.js';
import { FrameTooLargeError, InvalidArgError } from '../src/errors.js';
import { type LengthPrefixCodec, resolveLengthPrefix } from '../src/length-prefix.js';
import { decimalColonCodec, PREFIX_CASES, splitAt } from './length-prefix-codecs.js';

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('encodeFrame wire bytes', () => {
  it.each([
    ['uint32be', '00000003616263'],
    ['uint32le', '03000000616263'],
    ['uint16be', '0003616263'],
    ['uint8', '03616263'],
    ['varint', '03616263'],
  ] as const)('%s frames "abc" as %s', (lengthPrefix, hex) => {
    expect(encodeFrame(Buffer.from('abc'), { lengthPrefix }).toString('hex')).toBe(hex);
  });

  it('defaults to uint32be', () => {
    expect(encodeFrame(Buffer.from('abc')).toString('hex')).toBe('00000003616263');
  });

  it('writes a 300-byte payload with a 2-byte varint', () => {
    const frame = encodeFrame(Buffer.alloc(300, 0xee), { lengthPrefix: 'varint' });
    expect(frame.length).toBe(302);
    expect(frame.subarray(0, 3).toString('hex')).toBe('ac02ee');
  });

  it('writes a custom codec header', () => {
    expect(encodeFrame(Buffer.from('hello'), { lengthPrefix: decimalColonCodec }).toString()).toBe('5:hello');
  });

  it('concatenates array parts into one frame', () => {
    const frame = encodeFrame([Buffer.from('ab'), new Uint8Array([0x63]), Buffer.alloc(0), Buffer.from('de')]);
    expect(frame.toString('hex')).toBe('000000056162636465');
  });

  it('encodes an empty payload and an empty array as zero-length frames', () => {
    expect(encodeFrame(Buffer.alloc(0)).toString('hex')).toBe('00000000');
    expect(encodeFrame([]).toString('hex')).toBe('00000000');
    expect(encodeFrame([], { lengthPrefix: 'varint' }).toString('hex')).toBe('00');
  });

  it('accepts a plain Uint8Array view at an offset', () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    expect(encodeFrame(backing.subarray(2, 5), { lengthPrefix: 'uint8' }).toString('hex')).toBe('03010203');
  });

  it('returns a copy: changing the payload afterwards does not change the frame', () => {
    const payload = Buffer.from('abc');
    const frame = encodeFrame(payload);
    payload.fill(0);
    expect(frame.toString('hex')).toBe('00000003616263');
  });
});

describe('encodeHeader', () => {
  it.each(PREFIX_CASES)('is the start of encodeFrame with $name', ({ prefix }) => {
    for (const length of [0, 1, 127, 128, 255]) {
      const frame = encodeFrame(Buffer.alloc(length, 1), { lengthPrefix: prefix });
      const header = encodeHeader(length, { lengthPrefix: prefix });
      expect(header.length).toBe(frame.length - length);
      expect(header.equals(frame.subarray(0, header.length))).toBe(true);
    }
  });

  it('writes the header of a large payload without needing the payload', () => {
    expect(encodeHeader(16 * 1024 * 1024).toString('hex')).toBe('01000000');
    expect(encodeHeader(0xffff_ffff, { maxFrameBytes: 0xffff_ffff, lengthPrefix: 'varint' }).toString('hex')).toBe(
      'ffffffff0f',
    );
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects the length %s with ERR_INVALID_ARG', (length) => {
    const error = catchError(() => encodeHeader(length));
    expect(error).toBeInstanceOf(InvalidArgError);
    expect((error as InvalidArgError).code).toBe('ERR_INVALID_ARG');
  });

  it('rejects a length over maxFrameBytes with ERR_FRAME_TOO_LARGE', () => {
    expect(encodeHeader(10, { maxFrameBytes: 10 }).length).toBe(4);
    const error = catchError(() => encodeHeader(11, { maxFrameBytes: 10 }));
    expect(error).toBeInstanceOf(FrameTooLargeError);
    expect((error as FrameTooLargeError).code).toBe('ERR_FRAME_TOO_LARGE');
    expect(() => encodeHeader(16 * 1024 * 1024 + 1)).toThrow(FrameTooLargeError);
    expect(() => encodeHeader(256, { lengthPrefix: 'uint8' })).toThrow(FrameTooLargeError);
  });
});

describe('encodeFrame limits and arguments', () => {
  it('encodes a payload of exactly maxFrameBytes and refuses one byte more', () => {
    expect(encodeFrame(Buffer.alloc(64), { maxFrameBytes: 64 }).length).toBe(68);
    const error = catchError(() => encodeFrame(Buffer.alloc(65), { maxFrameBytes: 64 }));
    expect(error).toBeInstanceOf(FrameTooLargeError);
    expect(error.message).toMatch(/65 bytes exceeds maxFrameBytes \(64\)/);
  });

  it('counts the sum of array parts against the limit', () => {
    expect(encodeFrame([Buffer.alloc(32), Buffer.alloc(32)], { maxFrameBytes: 64 }).length).toBe(68);
    expect(() => encodeFrame([Buffer.alloc(32), Buffer.alloc(33)], { maxFrameBytes: 64 })).toThrow(
      FrameTooLargeError,
    );
  });

  it('limits uint8 frames to 255 bytes by default', () => {
    expect(encodeFrame(Buffer.alloc(255), { lengthPrefix: 'uint8' }).length).toBe(256);
    expect(() => encodeFrame(Buffer.alloc(256), { lengthPrefix: 'uint8' })).toThrow(FrameTooLargeError);
  });

  it.each([
    ['a string', 'abc'],
    ['a number', 3],
    ['an array holding a string', ['abc']],
    ['null', null],
  ])('rejects %s as a payload', (_label, payload) => {
    const error = catchError(() => encodeFrame(payload as unknown as Uint8Array));
    expect(error).toBeInstanceOf(InvalidArgError);
    expect(error.message).toMatch(/Uint8Array/);
  });

  it('rejects bad options', () => {
    expect(() => encodeFrame(Buffer.alloc(1), { lengthPrefix: 'uint24' as 'uint8' })).toThrow(/unknown lengthPrefix/);
    expect(() => encodeFrame(Buffer.alloc(1), { maxFrameBytes: 0 })).toThrow(InvalidArgError);
    expect(() => encodeFrame(Buffer.alloc(1), { lengthPrefix: 'uint16be', maxFrameBytes: 65_536 })).toThrow(
      /larger than the length prefix can express/,
    );
  });

  it('reports a custom codec whose encode disagrees with encodedLength', () => {
    const liar: LengthPrefixCodec = { ...decimalColonCodec, encodedLength: () => 9 };
    expect(() => encodeFrame(Buffer.from('x'), { lengthPrefix: liar })).toThrow(/wrote 2 bytes but encodedLength said 9/);
  });
});

describe('round trips', () => {
  it.each(PREFIX_CASES)('encodeFrame then FrameDecoder gives back the payloads with $name', ({ prefix, maxLength }) => {
    const part = fc.uint8Array({ maxLength: Math.min(maxLength, 2000) });
    // A payload is either one Uint8Array or a list of parts whose total fits the prefix.
    const payload = fc.oneof(
      part,
      fc.array(fc.uint8Array({ maxLength: 60 }), { maxLength: 4 }),
    );
    fc.assert(
      fc.property(
        fc.array(payload, { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (payloads, cutSeeds) => {
          const stream = Buffer.concat(payloads.map((p) => encodeFrame(p, { lengthPrefix: prefix })));
          const cuts = cutSeeds.map((c) => c % (stream.length + 1));
          const frames: string[] = [];
          const decoder = new FrameDecoder({ lengthPrefix: prefix });
          for (const chunk of splitAt(stream, cuts)) decoder.push(chunk, (f) => frames.push(f.toString('hex')));
          decoder.end();
          const expected = payloads.map((p) =>
            Buffer.concat(p instanceof Uint8Array ? [p] : p).toString('hex'),
          );
          expect(frames).toEqual(expected);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('lets a writer put header and payload into a shared batch buffer via the codec', () => {
    // What FramedSocket does to coalesce small frames: header + payload written at an offset.
    const codec = resolveLengthPrefix('varint');
    const payloads = [Buffer.from('one'), Buffer.alloc(200, 0x42), Buffer.alloc(0)];
    const batch = Buffer.alloc(512);
    let offset = 0;
    for (const p of payloads) {
      offset += codec.encode(p.length, batch, offset);
      offset += p.copy(batch, offset);
    }
    const frames: Buffer[] = [];
    new FrameDecoder({ lengthPrefix: 'varint' }).push(batch.subarray(0, offset), (f) => frames.push(f));
    expect(frames.map((f) => f.toString('hex'))).toEqual(payloads.map((p) => p.toString('hex')));
    expect(offset).toBe(1 + 3 + 2 + 200 + 1);
  });
});
