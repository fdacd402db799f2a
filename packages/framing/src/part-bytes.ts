import { InvalidArgError } from './errors.js';

/** A piece of one frame's payload: bytes, or a string written as UTF-8 straight into the write batch. */
export type FramePart = Uint8Array | string;

/** One frame's payload. An array is ONE frame whose payload is the parts in order (a gather write). */
export type FramePayload = FramePart | readonly FramePart[];

/** Bytes `part` takes on the wire (UTF-8 for a string). Unchecked: `part` must be a {@link FramePart}. */
export function partBytes(part: FramePart): number {
  return typeof part === 'string' ? Buffer.byteLength(part) : part.byteLength;
}

function checkedPartBytes(part: unknown): number {
  if (typeof part === 'string') return Buffer.byteLength(part);
  if (part instanceof Uint8Array) return part.byteLength;
  throw new InvalidArgError('frame payload must be a Uint8Array, a string, or an array of them');
}

/**
 * Bytes of a whole frame payload (the sum of its parts for an array), checking every part.
 *
 * @throws InvalidArgError for anything that is not bytes, a string, or an array of them.
 */
export function payloadBytes(payload: unknown): number {
  if (typeof payload === 'string') return Buffer.byteLength(payload);
  if (payload instanceof Uint8Array) return payload.byteLength;
  if (!Array.isArray(payload)) return checkedPartBytes(payload);
  let length = 0;
  for (let i = 0; i < payload.length; i++) length += checkedPartBytes(payload[i]);
  return length;
}
