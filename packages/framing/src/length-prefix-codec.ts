// The codec interface alone, so the built-in codecs (length-prefix.ts, varint.ts) share it without
// importing each other.

/**
 * Reads and writes the length header in front of every frame. The length counts payload bytes only.
 * Implement it to speak a custom wire format (framing-socket's custom reader/writer); the built-in
 * prefixes are named by {@link LengthPrefixName}.
 */
export interface LengthPrefixCodec {
  /** Most bytes a header can take (varint of a 32-bit length: 5). A small positive integer. */
  readonly maxHeaderBytes: number;
  /**
   * Largest length the header can express (uint8: 255). `maxFrameBytes` may not exceed it, and its
   * default is lowered to it. Leave it out when the codec has no limit of its own.
   */
  readonly maxLength?: number;
  /** Bytes needed to encode `length`. */
  encodedLength(length: number): number;
  /** Write the header for `length` at `offset`; returns bytes written. */
  encode(length: number, target: Uint8Array, offset: number): number;
  /**
   * Read a header from `source[offset..end)`. Returns header size in bytes, or 0 when more bytes are
   * needed; the decoded length is stored in `out.length`. Throws a `ProtocolError` on a malformed
   * header (e.g. a varint longer than `maxHeaderBytes`). Must not keep a reference to `source`.
   */
  decode(source: Uint8Array, offset: number, end: number, out: { length: number }): number;
}

/** Names of the built-in length prefixes. */
export type LengthPrefixName = 'uint32be' | 'uint16be' | 'uint8' | 'uint32le' | 'varint';

/** A built-in length prefix by name, or a custom {@link LengthPrefixCodec}. */
export type LengthPrefix = LengthPrefixName | LengthPrefixCodec;
