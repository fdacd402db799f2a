import { isUtf8 } from 'node:buffer';
import { InvalidArgError, ProtocolError } from '@proto/framing';

/**
 * The first byte of every frame's payload. 0x00–0x3f belong to ns, 0x40–0x7f to the extension layer
 * (see {@link EXTENSION_TYPE_MIN}), 0x80–0xff are reserved. Documented byte by byte in PROTOCOL.md.
 */
export const NsMessageType = {
  /** `[0x01]['P' 'N'][version u8][flags u8]`: first message on every link, from both sides. */
  HELLO: 0x01,
  /** `[0x02][nameLen u16be][name][JSON text]`: a user event; empty JSON text means `undefined`. */
  EVENT_JSON: 0x02,
  /** `[0x03][nameLen u16be][name][raw bytes]`: a user event whose data is bytes. */
  EVENT_BINARY: 0x03,
  /** `[0x04]`: this side finished opening; user events may follow. */
  READY: 0x04,
} as const;

/** Any value of {@link NsMessageType}. */
export type NsMessageType = (typeof NsMessageType)[keyof typeof NsMessageType];

/** @deprecated The old name of {@link NsMessageType} (rpc has a table of its own); kept as an alias. */
export const MessageType = NsMessageType;
/** @deprecated The old name of {@link NsMessageType}. */
export type MessageType = NsMessageType;

/** Wire format version this build speaks; a peer announcing another one is refused. */
export const PROTOCOL_VERSION = 1;

/** Lowest type byte the extension layer may use. */
export const EXTENSION_TYPE_MIN = 0x40;
/** Highest type byte the extension layer may use. */
export const EXTENSION_TYPE_MAX = 0x7f;

/** Bytes before the name in an event message: type byte and u16be name length. */
export const EVENT_HEADER_BYTES = 3;

const MAGIC_0 = 0x50; // 'P'
const MAGIC_1 = 0x4e; // 'N'

/** The HELLO message this build sends (immutable, shared by every link). */
export const HELLO_MESSAGE: Buffer = Buffer.from([NsMessageType.HELLO, MAGIC_0, MAGIC_1, PROTOCOL_VERSION, 0]);

/** The READY message (immutable, shared by every link). */
export const READY_MESSAGE: Buffer = Buffer.from([NsMessageType.READY]);

/**
 * Checks a received HELLO (type byte included).
 * @throws ProtocolError on a short message, wrong magic or another version.
 */
export function checkHello(message: Buffer): void {
  if (message.length < 5 || message[1] !== MAGIC_0 || message[2] !== MAGIC_1) {
    throw new ProtocolError('peer sent a malformed hello (not an @proto/ns peer?)');
  }
  if (message[3] !== PROTOCOL_VERSION) {
    throw new ProtocolError(`peer speaks ns protocol version ${message[3]}, this side speaks ${PROTOCOL_VERSION}`);
  }
  // Flags (message[4]) and any further bytes are for future versions: ignored by version 1.
}

/** The error for a message the peer may not send where it did: a second hello, an empty message, an unknown type. */
export function unexpectedMessage(type: number | undefined): ProtocolError {
  if (type === NsMessageType.HELLO) return new ProtocolError('peer sent a second hello');
  if (type === undefined) return new ProtocolError('peer sent an empty message');
  return new ProtocolError(`peer sent unknown message type 0x${type.toString(16).padStart(2, '0')}`);
}

/** `[type][nameLen u16be][name]` for an event named `name` (already validated). */
export function encodeEventPrefix(type: number, name: string): Buffer {
  const nameBytes = Buffer.byteLength(name);
  const prefix = Buffer.allocUnsafe(EVENT_HEADER_BYTES + nameBytes);
  prefix[0] = type;
  prefix.writeUInt16BE(nameBytes, 1);
  prefix.write(name, EVENT_HEADER_BYTES, 'utf8');
  return prefix;
}

/**
 * Reads the name length of an event message and checks it fits.
 * @returns the offset where the body starts.
 * @throws ProtocolError on a truncated message or an empty name.
 */
export function eventBodyOffset(message: Buffer): number {
  if (message.length < EVENT_HEADER_BYTES) throw new ProtocolError('truncated event message');
  const nameLength = (message[1]! << 8) | message[2]!;
  const bodyOffset = EVENT_HEADER_BYTES + nameLength;
  if (nameLength === 0 || bodyOffset > message.length) {
    throw new ProtocolError(`event message announces a ${nameLength}-byte name in ${message.length} bytes`);
  }
  return bodyOffset;
}

/** How deep {@link jsonBody} looks for values JSON would drop (beyond that, stringify's own result stands). */
const MAX_CHECK_DEPTH = 64;

/** The first value inside `value` that JSON.stringify would drop or turn into null (a function, a symbol), if any. */
function unserializable(value: object, depth: number): string | undefined {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = problemOf(value[i], depth);
      if (problem !== undefined) return `${problem} at [${String(i)}]`;
    }
    return undefined;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return undefined; // serializes as it likes
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const problem = problemOf((value as Record<string, unknown>)[key], depth);
    if (problem !== undefined) return `${problem} at .${key}`;
  }
  return undefined;
}

function problemOf(item: unknown, depth: number): string | undefined {
  const type = typeof item;
  if (type === 'function' || type === 'symbol') return `a ${type}`;
  if (type === 'object' && item !== null && depth < MAX_CHECK_DEPTH) return unserializable(item as object, depth + 1);
  return undefined;
}

/**
 * Serializes event data to JSON text: `''` for `undefined`.
 * @throws InvalidArgError when JSON cannot carry the value: a function or a symbol (at the top or
 *   nested: JSON.stringify would drop it or send null), a BigInt, a cycle. Nothing is sent then.
 */
export function jsonBody(data: unknown): string {
  if (data === undefined) return '';
  const type = typeof data;
  if (type === 'function' || type === 'symbol') throw new InvalidArgError(`event data is not JSON-serializable: a ${type}`);
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch (error) {
    throw new InvalidArgError(`event data is not JSON-serializable: ${(error as Error).message}`, { cause: error });
  }
  if (type === 'object' && data !== null) {
    const problem = unserializable(data as object, 1);
    if (problem !== undefined) throw new InvalidArgError(`event data is not JSON-serializable: ${problem}`);
  }
  // A top-level toJSON may still return undefined: no data, as for a missing value.
  return text ?? '';
}

/**
 * Decodes `message[start..end)` as UTF-8, refusing invalid UTF-8 (a lossy decoding would map
 * different bytes to one string). Cheap on the common path: the bytes are checked only when the
 * decoded text holds U+FFFD, which every invalid sequence decodes to.
 * @throws ProtocolError for invalid UTF-8, naming `what`.
 */
export function utf8Text(message: Buffer, start: number, end: number, what: string): string {
  // No encoding argument: UTF-8 without Buffer#toString's encoding lookup (this runs per message).
  const text = message.toString(undefined, start, end);
  if (text.includes('\uFFFD') && !isUtf8(message.subarray(start, end))) throw new ProtocolError(`peer sent ${what} that is not valid UTF-8`);
  return text;
}

/**
 * Parses a JSON body (`''` is `undefined`).
 * @throws ProtocolError for invalid UTF-8, or wrapping the SyntaxError.
 */
export function parseJsonBody(message: Buffer, offset: number): unknown {
  if (offset === message.length) return undefined;
  const text = utf8Text(message, offset, message.length, 'an event whose JSON');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ProtocolError('peer sent an event whose JSON does not parse', { cause: error });
  }
}

/** A raw-bytes view of `data` when it is binary (`Uint8Array`, other views, `ArrayBuffer`), else undefined. */
export function binaryBody(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return undefined;
}
