import { InvalidArgError, ProtocolError } from './errors.js';
import type { LengthPrefixCodec } from './length-prefix-codec.js';

const UINT32_MAX = 0xffff_ffff;

/**
 * Unsigned LEB128 of a 32-bit length: 7 bits per byte, least significant group first, high bit set on
 * every byte but the last. At most 5 bytes. Only the shortest encoding is accepted, so every length
 * has exactly one header (a trailing 0x00 group is rejected), and a fifth byte may carry only 4 bits.
 */
export const varintCodec: LengthPrefixCodec = {
  maxHeaderBytes: 5,
  maxLength: UINT32_MAX,
  encodedLength(length) {
    if (length < 0x80) return 1;
    if (length < 0x4000) return 2;
    if (length < 0x20_0000) return 3;
    if (length < 0x1000_0000) return 4;
    return 5;
  },
  encode(length, target, offset) {
    if ((length >>> 0) !== length) {
      throw new InvalidArgError(`length ${String(length)} cannot be encoded by varint (0..${String(UINT32_MAX)})`);
    }
    const size = this.encodedLength(length);
    if (offset + size > target.length) {
      throw new InvalidArgError(
        `target of ${String(target.length)} bytes has no room for a ${String(size)}-byte header at offset ${String(offset)}`,
      );
    }
    let value = length;
    let i = offset;
    while (value >= 0x80) {
      target[i++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    target[i] = value;
    return size;
  },
  decode(source, offset, end, out) {
    let length = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      if (offset + i >= end) return 0;
      const byte = source[offset + i]!;
      if (i === 4 && byte > 0x0f) {
        throw new ProtocolError(
          byte & 0x80
            ? 'varint length prefix is longer than 5 bytes'
            : 'varint length prefix overflows 32 bits',
        );
      }
      length += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (byte === 0 && i > 0) throw new ProtocolError('varint length prefix is not minimally encoded');
        out.length = length;
        return i + 1;
      }
      scale *= 0x80;
    }
    // Unreachable: the fifth byte either ends the varint or throws above.
    throw new ProtocolError('varint length prefix is longer than 5 bytes');
  },
};
