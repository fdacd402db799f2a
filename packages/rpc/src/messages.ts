import { Buffer, isUtf8 } from 'node:buffer';
import { ProtocolError } from './errors.js';

/**
 * Bodies of request-path messages (the type byte is ns's, see message-types.ts):
 *
 *   REQUEST  [id u32be][encoding u8][methodLen u8][method utf8][payload]
 *   RESULT   [id u32be][encoding u8][payload]
 *   ERROR    [id u32be][kind u8][JSON { message, code?, data? }]
 *   CANCEL   [id u32be]
 *   PING     [seq u32be]     PONG echoes the ping body
 *
 * Bodies are handed to ns as parts (header bytes + JSON string), which framing copies straight into
 * its per-tick write batch: nothing is concatenated here.
 */

/** How a payload is carried. */
export const Encoding = {
  /** UTF-8 JSON text. */
  JSON: 0,
  /** Raw bytes (the value was a Uint8Array). */
  RAW: 1,
  /** No payload (the value was `undefined`). */
  NONE: 2,
} as const;

/** What an ERROR message reports. */
export const ErrorKind = {
  /** The handler threw: an RpcError (code, message, data) or anything else ('INTERNAL'). */
  REMOTE: 0,
  METHOD_NOT_FOUND: 1,
  INVALID_PARAMS: 2,
  OVERLOADED: 3,
  /** The remote side is shutting down and takes no new requests. */
  SHUTTING_DOWN: 4,
  /** The handler's result was larger than the handling side may send in one frame. */
  RESULT_TOO_LARGE: 5,
} as const;

/** Any value of {@link ErrorKind}. */
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];

/** Longest method name in bytes (UTF-8). */
export const MAX_METHOD_BYTES = 255;

/** Fixed header bytes of a REQUEST before the method name. */
export const REQUEST_FIXED_BYTES = 6;
/** Fixed header bytes of a RESULT / ERROR. */
export const RESPONSE_FIXED_BYTES = 5;

const methodPrefixes = new Map<string, Buffer>();
const MAX_CACHED_METHODS = 4096;

/**
 * `[methodLen][method]` for a method name, cached: applications call a small set of methods, so the
 * UTF-8 encoding happens once per name. Returns undefined for names over 255 bytes.
 */
export function methodPrefix(method: string): Buffer | undefined {
  let prefix = methodPrefixes.get(method);
  if (prefix === undefined) {
    const length = Buffer.byteLength(method, 'utf8');
    if (length > MAX_METHOD_BYTES) return undefined;
    prefix = Buffer.allocUnsafeSlow(1 + length);
    prefix[0] = length;
    prefix.write(method, 1, 'utf8');
    if (methodPrefixes.size < MAX_CACHED_METHODS) methodPrefixes.set(method, prefix);
  }
  return prefix;
}

/** Encoding byte for `value`. */
export function encodingOf(value: unknown): number {
  if (value === undefined) return Encoding.NONE;
  if (value instanceof Uint8Array) return Encoding.RAW;
  return Encoding.JSON;
}

/**
 * The payload part for `value` under `encoding` (from {@link encodingOf}). JSON.stringify may
 * throw (BigInt, cycles); callers decide what that means.
 */
export function payloadPart(value: unknown, encoding: number): string | Uint8Array | undefined {
  if (encoding === Encoding.JSON) {
    const text = JSON.stringify(value);
    // toJSON() may return undefined; treat it as "no payload" rather than writing "undefined".
    return text === undefined ? '' : text;
  }
  if (encoding === Encoding.RAW) return value as Uint8Array;
  return undefined;
}

const requestTemplates = new Map<string, Buffer>();

/**
 * The REQUEST header of `method` with room for the id and encoding in front
 * (`[5 bytes][methodLen][method]`), cached like {@link methodPrefix} and filled in per request
 * (body-send.ts): undefined for names over 255 bytes.
 */
export function requestTemplate(method: string): Buffer | undefined {
  let template = requestTemplates.get(method);
  if (template === undefined) {
    const prefix = methodPrefix(method);
    if (prefix === undefined) return undefined;
    template = Buffer.allocUnsafeSlow(REQUEST_FIXED_BYTES - 1 + prefix.length);
    template.set(prefix, REQUEST_FIXED_BYTES - 1);
    if (requestTemplates.size < MAX_CACHED_METHODS) requestTemplates.set(method, template);
  }
  return template;
}

// Byte stores instead of writeUInt32BE/copy: these run once per message, and Buffer's checked
// writers cost more than the header itself. A Uint8Array store keeps the low 8 bits.

/** Writes the leading `[id u32be][byte]` every request-path header starts with; returns `header`. */
export function fillHeader(header: Buffer, id: number, byte: number): Buffer {
  header[0] = id >>> 24;
  header[1] = id >>> 16;
  header[2] = id >>> 8;
  header[3] = id;
  header[4] = byte;
  return header;
}

/** REQUEST header: id, encoding, then the cached method prefix. */
export function requestHeader(id: number, encoding: number, prefix: Buffer): Buffer {
  const header = Buffer.allocUnsafe(REQUEST_FIXED_BYTES - 1 + prefix.length);
  header.set(prefix, REQUEST_FIXED_BYTES - 1);
  return fillHeader(header, id, encoding);
}

/** RESULT header, or the fixed part of an ERROR (then `byte` is the error kind). */
export function responseHeader(id: number, byte: number): Buffer {
  return fillHeader(Buffer.allocUnsafe(RESPONSE_FIXED_BYTES), id, byte);
}

/** A body that is just a u32 (CANCEL, PING, PONG). */
export function u32Body(value: number): Buffer {
  const body = Buffer.allocUnsafe(4);
  body.writeUInt32BE(value >>> 0, 0);
  return body;
}

/**
 * Read the leading u32 (id or sequence) of a body; throws ProtocolError when it is shorter than
 * `minLength` (at least 4).
 */
export function readU32(body: Buffer, minLength: number): number {
  if (body.length < minLength) throw new ProtocolError('truncated rpc message');
  return body[0]! * 0x1000000 + ((body[1]! << 16) | (body[2]! << 8) | body[3]!);
}

/** Method name of a REQUEST body (already checked to hold at least the fixed header). */
export function readMethod(body: Buffer): string {
  const length = body[REQUEST_FIXED_BYTES - 1] ?? 0;
  if (body.length < REQUEST_FIXED_BYTES + length) throw new ProtocolError('truncated rpc request');
  return body.toString('utf8', REQUEST_FIXED_BYTES, REQUEST_FIXED_BYTES + length);
}

/** Offset of a REQUEST body's payload. */
export function requestPayloadOffset(body: Buffer): number {
  return REQUEST_FIXED_BYTES + (body[REQUEST_FIXED_BYTES - 1] ?? 0);
}

/**
 * Decode a payload starting at `offset`. Raw payloads are copied so they stay valid after the
 * frame's buffer is gone. Throws ProtocolError on bad JSON or an unknown encoding.
 */
export function readPayload(body: Buffer, encoding: number, offset: number): unknown {
  if (encoding === Encoding.JSON) {
    if (offset >= body.length) return undefined;
    const text = body.toString('utf8', offset);
    // A lossy decode turns bytes no sender produced into U+FFFD: refuse them. Only a text with a
    // U+FFFD (rare, and valid when sent as such) pays for the exact check and its Buffer view.
    if (text.indexOf('\uFFFD') !== -1 && !isUtf8(body.subarray(offset))) throw new ProtocolError('rpc payload is not valid UTF-8');
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new ProtocolError('rpc payload is not valid JSON', { cause: err });
    }
  }
  if (encoding === Encoding.NONE) return undefined;
  if (encoding === Encoding.RAW) return Buffer.from(body.subarray(offset));
  throw new ProtocolError(`unknown rpc payload encoding ${encoding}`);
}

/** What an ERROR message carries after its kind byte. */
export interface WireError {
  message: string;
  code?: string;
  data?: unknown;
}

/** The parts of an ERROR body: header, then the JSON (data JSON cannot carry is dropped; code and message stay). */
export function errorParts(id: number, kind: number, wire: WireError): [Buffer, string] {
  let text: string;
  try {
    text = JSON.stringify(wire);
  } catch {
    text = JSON.stringify({ code: wire.code, message: wire.message });
  }
  return [responseHeader(id, kind), text];
}

/** Decode the JSON of an ERROR body. */
export function readWireError(body: Buffer): WireError {
  let value: unknown;
  if (!isUtf8(body.subarray(RESPONSE_FIXED_BYTES))) throw new ProtocolError('rpc error is not valid UTF-8');
  try {
    value = JSON.parse(body.toString('utf8', RESPONSE_FIXED_BYTES));
  } catch (err) {
    throw new ProtocolError('rpc error is not valid JSON', { cause: err });
  }
  if (typeof value !== 'object' || value === null || typeof (value as WireError).message !== 'string') {
    throw new ProtocolError('malformed rpc error');
  }
  const wire = value as WireError;
  if (wire.code !== undefined && typeof wire.code !== 'string') throw new ProtocolError('malformed rpc error');
  return wire;
}
