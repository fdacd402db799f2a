import { FrameTooLargeError, InvalidArgError } from './errors.js';
import { type FrameOptions, resolveFrameOptions } from './frame-options.js';
import type { LengthPrefixCodec } from './length-prefix.js';

/** Options of {@link encodeFrame} and {@link encodeHeader}; use the same values as the peer's decoder. */
export interface FrameEncoderOptions extends FrameOptions {}

/**
 * Checks a payload length before encoding.
 *
 * @throws InvalidArgError for a negative or non-integer length.
 * @throws FrameTooLargeError past `maxFrameBytes`.
 */
export function checkFrameLength(length: number, maxFrameBytes: number): void {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new InvalidArgError(`frame length must be a non-negative integer, got ${String(length)}`);
  }
  if (length > maxFrameBytes) {
    throw new FrameTooLargeError(
      `frame of ${String(length)} bytes exceeds maxFrameBytes (${String(maxFrameBytes)})`,
    );
  }
}

function checkPart(part: unknown): Uint8Array {
  if (part instanceof Uint8Array) return part;
  throw new InvalidArgError('frame payload must be a Uint8Array or an array of Uint8Array');
}

function writeHeader(codec: LengthPrefixCodec, length: number, extra: number): Buffer {
  const headerBytes = codec.encodedLength(length);
  const out = Buffer.allocUnsafe(headerBytes + extra);
  const written = codec.encode(length, out, 0);
  if (written !== headerBytes) {
    throw new InvalidArgError(
      `length prefix codec wrote ${String(written)} bytes but encodedLength said ${String(headerBytes)}`,
    );
  }
  return out;
}

/**
 * Encodes one frame: the length header followed by the payload, in a new Buffer. An array is one
 * frame whose payload is the parts in order. This copies the payload; to send a large payload
 * without copying, write {@link encodeHeader}'s result and then the payload itself.
 *
 * @throws FrameTooLargeError when the payload is longer than `maxFrameBytes` (nothing is encoded).
 * @throws InvalidArgError for bad options or a payload that is not bytes.
 */
export function encodeFrame(payload: Uint8Array | readonly Uint8Array[], options?: FrameEncoderOptions): Buffer {
  const { codec, maxFrameBytes } = resolveFrameOptions(options);
  if (payload instanceof Uint8Array) {
    checkFrameLength(payload.length, maxFrameBytes);
    const out = writeHeader(codec, payload.length, payload.length);
    out.set(payload, out.length - payload.length);
    return out;
  }
  if (!Array.isArray(payload)) checkPart(payload);
  let length = 0;
  for (const part of payload) length += checkPart(part).length;
  checkFrameLength(length, maxFrameBytes);
  const out = writeHeader(codec, length, length);
  let offset = out.length - length;
  for (const part of payload) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Encodes only the length header of a frame whose payload is `length` bytes, for gather writes that
 * send the payload without copying it (`writev`, or `cork()`/`write(header)`/`write(payload)`).
 *
 * @throws InvalidArgError for a negative or non-integer length, or bad options.
 * @throws FrameTooLargeError when `length` is over `maxFrameBytes`.
 */
export function encodeHeader(length: number, options?: FrameEncoderOptions): Buffer {
  const { codec, maxFrameBytes } = resolveFrameOptions(options);
  checkFrameLength(length, maxFrameBytes);
  return writeHeader(codec, length, 0);
}
