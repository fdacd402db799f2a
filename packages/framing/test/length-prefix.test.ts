import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgError, ProtocolError } from '../src/errors.js';
import { type LengthPrefixCodec, type LengthPrefixName, resolveLengthPrefix } from '../src/length-prefix.js';
import { decimalColonCodec } from './length-prefix-codecs.js';

function encodeHex(codec: LengthPrefixCodec, length: number): string {
  const target = new Uint8Array(codec.maxHeaderBytes);
  const written = codec.encode(length, target, 0);
  return Buffer.from(target.subarray(0, written)).toString('hex');
}

function decodeHex(codec: LengthPrefixCodec, hex: string): { size: number; length: number } {
  const source = Buffer.from(hex, 'hex');
  const out = { length: -1 };
  const size = codec.decode(source, 0, source.length, out);
  return { size, length: out.length };
}

// Wire bytes every implementation must agree on (also listed in PROTOCOL.md).
const VECTORS: Record<LengthPrefixName, readonly (readonly [number, string])[]> = {
  uint32be: [
    [0, '00000000'],
    [5, '00000005'],
    [0x01020304, '01020304'],
    [0xffff_ffff, 'ffffffff'],
  ],
  uint32le: [
    [0, '00000000'],
    [5, '05000000'],
    [0x01020304, '04030201'],
    [0xffff_ffff, 'ffffffff'],
  ],
  uint16be: [
    [0, '0000'],
    [300, '012c'],
    [0xffff, 'ffff'],
  ],
  uint8: [
    [0, '00'],
    [200, 'c8'],
    [255, 'ff'],
  ],
  varint: [
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [16_383, 'ff7f'],
    [16_384, '808001'],
    [2_097_151, 'ffff7f'],
    [2_097_152, '80808001'],
    [268_435_455, 'ffffff7f'],
    [268_435_456, '8080808001'],
    [0xffff_ffff, 'ffffffff0f'],
  ],
};

const NAMES = Object.keys(VECTORS) as LengthPrefixName[];

describe('resolveLengthPrefix', () => {
  it.each(NAMES)('resolves %s to a codec', (name) => {
    const codec = resolveLengthPrefix(name);
    expect(typeof codec.decode).toBe('function');
    expect(resolveLengthPrefix(name)).toBe(codec);
  });

  it('returns a custom codec as is', () => {
    expect(resolveLengthPrefix(decimalColonCodec)).toBe(decimalColonCodec);
  });

  it.each(['uint64be', 'UINT32BE', '', 'toString', '__proto__'])('rejects the unknown name %j', (name) => {
    const call = () => resolveLengthPrefix(name as LengthPrefixName);
    expect(call).toThrow(InvalidArgError);
    expect(call).toThrow(/unknown lengthPrefix.*uint32be, uint16be, uint8, uint32le, varint/);
  });

  it.each([
    ['null', null],
    ['a number', 4],
    ['an object without decode', { maxHeaderBytes: 4, encode: () => 4, encodedLength: () => 4 }],
    ['maxHeaderBytes 0', { ...decimalColonCodec, maxHeaderBytes: 0 }],
    ['a fractional maxHeaderBytes', { ...decimalColonCodec, maxHeaderBytes: 1.5 }],
    ['a negative maxLength', { ...decimalColonCodec, maxLength: -1 }],
  ])('rejects %s as a codec', (_label, value) => {
    try {
      resolveLengthPrefix(value as unknown as LengthPrefixCodec);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidArgError);
      expect((error as InvalidArgError).code).toBe('ERR_INVALID_ARG');
    }
  });
});

describe.each(NAMES)('%s codec', (name) => {
  const codec = resolveLengthPrefix(name);
  const vectors = VECTORS[name];

  it.each(vectors)('encodes %d as %s', (length, hex) => {
    expect(encodeHex(codec, length)).toBe(hex);
    expect(codec.encodedLength(length)).toBe(hex.length / 2);
  });

  it.each(vectors)('decodes %d from %s', (length, hex) => {
    expect(decodeHex(codec, hex)).toEqual({ size: hex.length / 2, length });
  });

  it.each(vectors)('asks for more bytes on every truncation of the header of %d', (length, hex) => {
    const bytes = Buffer.from(hex, 'hex');
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(codec.decode(bytes, 0, cut, { length: -1 })).toBe(0);
    }
    expect(codec.decode(bytes, 0, bytes.length, { length: -1 })).toBe(bytes.length);
  });

  it('decodes at an offset and ignores bytes past the header', () => {
    const [length, hex] = vectors[vectors.length - 1]!;
    const source = Buffer.from(`abcd${hex}eeee`, 'hex');
    const out = { length: -1 };
    expect(codec.decode(source, 2, source.length, out)).toBe(hex.length / 2);
    expect(out.length).toBe(length);
  });

  it('writes at an offset without touching neighbouring bytes', () => {
    const target = Buffer.alloc(12, 0xaa);
    const written = codec.encode(42, target, 3);
    expect(target.subarray(0, 3).toString('hex')).toBe('aaaaaa');
    expect(target.subarray(3 + written).every((b) => b === 0xaa)).toBe(true);
    const out = { length: -1 };
    expect(codec.decode(target, 3, target.length, out)).toBe(written);
    expect(out.length).toBe(42);
  });

  it('round-trips every length it can express', () => {
    const max = codec.maxLength ?? 0xffff_ffff;
    fc.assert(
      fc.property(fc.integer({ min: 0, max }), (length) => {
        const target = new Uint8Array(codec.maxHeaderBytes);
        const written = codec.encode(length, target, 0);
        expect(written).toBe(codec.encodedLength(length));
        const out = { length: -1 };
        expect(codec.decode(target, 0, written, out)).toBe(written);
        expect(out.length).toBe(length);
      }),
    );
  });

  it.each([-1, 1.5, Number.NaN, 2 ** 32])('refuses to encode the length %d', (length) => {
    expect(() => codec.encode(length, new Uint8Array(8), 0)).toThrow(InvalidArgError);
  });

  it('refuses to encode its maxLength + 1', () => {
    expect(() => codec.encode((codec.maxLength ?? 0) + 1, new Uint8Array(8), 0)).toThrow(InvalidArgError);
  });

  it('refuses to write past the end of the target', () => {
    const length = vectors[vectors.length - 1]![0];
    const size = codec.encodedLength(length);
    expect(() => codec.encode(length, new Uint8Array(size + 2), 3)).toThrow(/no room/);
    expect(codec.encode(length, new Uint8Array(size + 2), 2)).toBe(size);
  });
});

describe('built-in limits', () => {
  it.each([
    ['uint8', 255],
    ['uint16be', 65_535],
    ['uint32be', 0xffff_ffff],
    ['uint32le', 0xffff_ffff],
    ['varint', 0xffff_ffff],
  ] as const)('%s expresses at most %d', (name, max) => {
    expect(resolveLengthPrefix(name).maxLength).toBe(max);
  });
});

describe('varint malformed headers', () => {
  const varint = resolveLengthPrefix('varint');

  it.each([
    ['longer than 5 bytes', '808080808000', /longer than 5 bytes/],
    ['six bytes of continuation', 'ffffffffffff', /longer than 5 bytes/],
    ['a fifth byte over 4 bits', 'ffffffff10', /overflows 32 bits/],
    ['a fifth byte of 0x7f', '808080807f', /overflows 32 bits/],
    ['a zero last group (0 as two bytes)', '8000', /not minimally encoded/],
    ['a zero last group (127 as two bytes)', 'ff00', /not minimally encoded/],
    ['a zero fifth byte', '8080808000', /not minimally encoded/],
  ])('rejects %s (%s)', (_label, hex, message) => {
    const source = Buffer.from(hex, 'hex');
    try {
      varint.decode(source, 0, source.length, { length: 0 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).code).toBe('ERR_PROTOCOL');
      expect((error as Error).message).toMatch(message);
    }
  });

  it('detects a sixth byte as soon as the fifth has a continuation bit', () => {
    // Rejecting at byte 5 means a peer cannot make the decoder wait for a header that can never be valid.
    const source = Buffer.from('ffffffff8f', 'hex');
    expect(() => varint.decode(source, 0, source.length, { length: 0 })).toThrow(ProtocolError);
  });

  it('accepts the largest 5-byte value', () => {
    expect(decodeHex(varint, 'ffffffff0f')).toEqual({ size: 5, length: 0xffff_ffff });
  });
});
