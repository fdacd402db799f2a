import { InvalidArgError } from './errors.js';
import type { LengthPrefix, LengthPrefixCodec, LengthPrefixName } from './length-prefix-codec.js';
import { varintCodec } from './varint.js';

export type { LengthPrefix, LengthPrefixCodec, LengthPrefixName } from './length-prefix-codec.js';

/** The length prefix used when none is given. */
export const DEFAULT_LENGTH_PREFIX = 'uint32be' satisfies LengthPrefixName;

const UINT32_MAX = 0xffff_ffff;

function outOfRange(length: number, codec: string, max: number): InvalidArgError {
  return new InvalidArgError(`length ${String(length)} cannot be encoded by ${codec} (0..${String(max)})`);
}

function tooSmall(target: Uint8Array, offset: number, size: number): InvalidArgError {
  return new InvalidArgError(
    `target of ${String(target.length)} bytes has no room for a ${String(size)}-byte header at offset ${String(offset)}`,
  );
}

const uint32beCodec: LengthPrefixCodec = {
  maxHeaderBytes: 4,
  maxLength: UINT32_MAX,
  encodedLength: () => 4,
  encode(length, target, offset) {
    if ((length >>> 0) !== length) throw outOfRange(length, 'uint32be', UINT32_MAX);
    if (offset + 4 > target.length) throw tooSmall(target, offset, 4);
    target[offset] = length >>> 24;
    target[offset + 1] = length >>> 16;
    target[offset + 2] = length >>> 8;
    target[offset + 3] = length;
    return 4;
  },
  decode(source, offset, end, out) {
    if (end - offset < 4) return 0;
    out.length =
      source[offset]! * 0x100_0000 + ((source[offset + 1]! << 16) | (source[offset + 2]! << 8) | source[offset + 3]!);
    return 4;
  },
};

const uint32leCodec: LengthPrefixCodec = {
  maxHeaderBytes: 4,
  maxLength: UINT32_MAX,
  encodedLength: () => 4,
  encode(length, target, offset) {
    if ((length >>> 0) !== length) throw outOfRange(length, 'uint32le', UINT32_MAX);
    if (offset + 4 > target.length) throw tooSmall(target, offset, 4);
    target[offset] = length;
    target[offset + 1] = length >>> 8;
    target[offset + 2] = length >>> 16;
    target[offset + 3] = length >>> 24;
    return 4;
  },
  decode(source, offset, end, out) {
    if (end - offset < 4) return 0;
    out.length =
      source[offset + 3]! * 0x100_0000 + ((source[offset + 2]! << 16) | (source[offset + 1]! << 8) | source[offset]!);
    return 4;
  },
};

const uint16beCodec: LengthPrefixCodec = {
  maxHeaderBytes: 2,
  maxLength: 0xffff,
  encodedLength: () => 2,
  encode(length, target, offset) {
    if ((length & 0xffff) !== length) throw outOfRange(length, 'uint16be', 0xffff);
    if (offset + 2 > target.length) throw tooSmall(target, offset, 2);
    target[offset] = length >>> 8;
    target[offset + 1] = length;
    return 2;
  },
  decode(source, offset, end, out) {
    if (end - offset < 2) return 0;
    out.length = (source[offset]! << 8) | source[offset + 1]!;
    return 2;
  },
};

const uint8Codec: LengthPrefixCodec = {
  maxHeaderBytes: 1,
  maxLength: 0xff,
  encodedLength: () => 1,
  encode(length, target, offset) {
    if ((length & 0xff) !== length) throw outOfRange(length, 'uint8', 0xff);
    if (offset + 1 > target.length) throw tooSmall(target, offset, 1);
    target[offset] = length;
    return 1;
  },
  decode(source, offset, end, out) {
    if (end - offset < 1) return 0;
    out.length = source[offset]!;
    return 1;
  },
};

const builtInCodecs: Readonly<Record<LengthPrefixName, LengthPrefixCodec>> = {
  uint32be: uint32beCodec,
  uint16be: uint16beCodec,
  uint8: uint8Codec,
  uint32le: uint32leCodec,
  varint: varintCodec,
};

function isCodec(value: object): value is LengthPrefixCodec {
  const codec = value as Partial<Record<keyof LengthPrefixCodec, unknown>>;
  return (
    typeof codec.encode === 'function' &&
    typeof codec.decode === 'function' &&
    typeof codec.encodedLength === 'function' &&
    typeof codec.maxHeaderBytes === 'number' &&
    Number.isInteger(codec.maxHeaderBytes) &&
    codec.maxHeaderBytes >= 1 &&
    codec.maxHeaderBytes <= 64 &&
    (codec.maxLength === undefined ||
      (typeof codec.maxLength === 'number' && Number.isSafeInteger(codec.maxLength) && codec.maxLength >= 1))
  );
}

/**
 * Turns a {@link LengthPrefix} into its codec: the built-in codec for a name, or the custom codec
 * itself after checking its shape. Use the codec's `encode` to write a header straight into a buffer.
 *
 * @throws InvalidArgError for an unknown name or an object that is not a valid codec.
 */
export function resolveLengthPrefix(prefix: LengthPrefix): LengthPrefixCodec {
  if (typeof prefix === 'string') {
    if (Object.hasOwn(builtInCodecs, prefix)) return builtInCodecs[prefix];
    throw new InvalidArgError(
      `unknown lengthPrefix ${JSON.stringify(prefix)}: expected one of ${Object.keys(builtInCodecs).join(', ')} or a LengthPrefixCodec`,
    );
  }
  if (typeof prefix === 'object' && prefix !== null && isCodec(prefix)) return prefix;
  throw new InvalidArgError(
    'lengthPrefix must be a built-in name or a LengthPrefixCodec { maxHeaderBytes (integer 1..64), maxLength?, encodedLength, encode, decode }',
  );
}

/** Whether `codec` is one of the built-in codecs (they are trusted to be well-behaved). */
export function isBuiltInCodec(codec: LengthPrefixCodec): boolean {
  return (
    codec === uint32beCodec ||
    codec === uint16beCodec ||
    codec === uint8Codec ||
    codec === uint32leCodec ||
    codec === varintCodec
  );
}

/** The built-in uint32be codec, for identity checks on the decoder's fast path. */
export const UINT32BE_CODEC: LengthPrefixCodec = uint32beCodec;
