import { Buffer } from 'node:buffer';
import { ProtocolError } from './errors.js';
import { Encoding, readPayload, readU32, REQUEST_FIXED_BYTES } from './messages.js';

/**
 * Stream messages (PROTOCOL.md, "Streams"). A stream is opened with a REQUEST (so that a peer
 * without streams answers it as an unknown method instead of failing the link), and then lives on
 * the message types below. Ids are the opener's: requests and streams share one id space per
 * connection and direction, so ERROR and CANCEL serve streams unchanged.
 *
 *   open      REQUEST [id u32][encoding 1][methodLen 0][OPEN]
 *   OPEN      ['S'][version u8][flags u8][credit u32][encoding u8][methodLen u8][method][params]
 *   ITEM        0x4e  responder → opener  [id u32][encoding u8][payload]
 *   CREDIT      0x4f  opener → responder  [id u32][grant u32]
 *   END         0x50  responder → opener  [id u32]
 *   INPUT_ITEM  0x51  opener → responder  [id u32][encoding u8][payload]
 *   INPUT_CREDIT 0x52 responder → opener  [id u32][grant u32]
 *   INPUT_END   0x53  opener → responder  [id u32]
 *   ITEMS       0x54  responder → opener  [id u32][JSON array of 1+ items]   (version 2)
 *   INPUT_ITEMS 0x55  opener → responder  [id u32][JSON array of 1+ items]   (version 2)
 *   INPUT_STOP  0x56  responder → opener  [id u32]                           (version 2)
 */
export const StreamMessageType = {
  /** An item of the stream's output (responder → opener). */
  ITEM: 0x4e,
  /** More output credit (opener → responder). */
  CREDIT: 0x4f,
  /** The output finished; also answers a CANCEL (responder → opener). */
  END: 0x50,
  /** An item of the stream's input (opener → responder). */
  INPUT_ITEM: 0x51,
  /** More input credit (responder → opener). */
  INPUT_CREDIT: 0x52,
  /** The input finished (opener → responder). */
  INPUT_END: 0x53,
  /** Several JSON items of the output in one frame (responder → opener; version 2). */
  ITEMS: 0x54,
  /** Several JSON items of the input in one frame (opener → responder; version 2). */
  INPUT_ITEMS: 0x55,
  /** The handler stopped reading its input: close it at the source (responder → opener; version 2). */
  INPUT_STOP: 0x56,
} as const;

/** Lowest and highest stream message type. */
export const STREAM_TYPE_MIN = StreamMessageType.ITEM;
export const STREAM_TYPE_MAX = StreamMessageType.INPUT_STOP;

/** First byte of an OPEN body ('S'). */
export const OPEN_MAGIC = 0x53;
/**
 * Stream protocol version this side opens with; a peer that does not know it refuses with ERROR
 * kind 1, and the opener falls back to {@link STREAM_VERSION_1}. Version 2 adds ITEMS, INPUT_ITEMS
 * and INPUT_STOP; a responder answers each open in the version it was opened with.
 */
export const STREAM_VERSION = 2;
/** The first stream protocol version (one frame per item, no INPUT_STOP), still spoken both ways. */
export const STREAM_VERSION_1 = 1;
/** How a version-1 peer refuses another version (ERROR kind 1): the cue to fall back to version 1. */
export const VERSION_REFUSAL_PREFIX = 'stream protocol version ';
/** OPEN flag: the opener sends input items. */
export const OPEN_FLAG_INPUT = 0x01;
/** Largest credit a producer may hold (and largest single grant). */
export const MAX_CREDIT = 0x7fffffff;

/** Bytes of OPEN before its method name's length byte. */
const OPEN_FIXED_BYTES = 8;
/** `[id][encoding RAW][methodLen 0]`: the REQUEST header every open shares. */
const OPEN_REQUEST_TAIL = Buffer.from([Encoding.RAW, 0]);
/** Bytes of ITEM / INPUT_ITEM before the payload. */
export const ITEM_FIXED_BYTES = 5;

/** Whether a REQUEST body is a stream open (empty method, raw payload starting with 'S'). */
export function isStreamOpen(body: Buffer): boolean {
  return body.length > REQUEST_FIXED_BYTES && body[5] === 0 && body[4] === Encoding.RAW && body[REQUEST_FIXED_BYTES] === OPEN_MAGIC;
}

/** The message parts of a stream open (type byte excluded): REQUEST header, OPEN header, method, params. */
export function openParts(
  id: number,
  version: number,
  flags: number,
  credit: number,
  encoding: number,
  prefix: Buffer,
  payload: string | Uint8Array | undefined,
): (Buffer | string | Uint8Array)[] {
  const header = Buffer.allocUnsafe(6 + OPEN_FIXED_BYTES);
  writeU32(header, 0, id);
  header[4] = OPEN_REQUEST_TAIL[0]!;
  header[5] = OPEN_REQUEST_TAIL[1]!;
  header[6] = OPEN_MAGIC;
  header[7] = version;
  header[8] = flags;
  writeU32(header, 9, credit);
  header[13] = encoding;
  return payload === undefined ? [header, prefix] : [header, prefix, payload];
}

/** A decoded OPEN. */
export interface StreamOpen {
  readonly id: number;
  /** 1 or 2 (see {@link STREAM_VERSION}). */
  readonly version: number;
  readonly flags: number;
  readonly credit: number;
  readonly method: string;
  readonly params: unknown;
}

/**
 * Decode the OPEN inside a REQUEST body (checked with {@link isStreamOpen}). Returns the version
 * number instead when it is neither 1 nor 2 (the caller refuses it as an unknown method).
 * Throws ProtocolError on a malformed open of version 1 or 2 (both have the same layout).
 */
export function decodeOpen(body: Buffer): StreamOpen | number {
  const id = readU32(body, REQUEST_FIXED_BYTES);
  const start = REQUEST_FIXED_BYTES;
  const version = body[start + 1];
  if (version === undefined) throw new ProtocolError('truncated stream open');
  if (version !== STREAM_VERSION && version !== STREAM_VERSION_1) return version;
  if (body.length < start + OPEN_FIXED_BYTES + 1) throw new ProtocolError('truncated stream open');
  const flags = body[start + 2]!;
  if ((flags & ~OPEN_FLAG_INPUT) !== 0) throw new ProtocolError(`unknown stream open flags 0x${flags.toString(16)}`);
  const credit = readU32At(body, start + 3);
  if (credit === 0 || credit > MAX_CREDIT) throw new ProtocolError(`stream open with credit ${credit}`);
  const encoding = body[start + 7]!;
  const methodLength = body[start + OPEN_FIXED_BYTES]!;
  const methodStart = start + OPEN_FIXED_BYTES + 1;
  if (methodLength === 0 || body.length < methodStart + methodLength) throw new ProtocolError('malformed stream open method');
  const method = decodeUtf8(body, methodStart, methodStart + methodLength);
  const params = readPayload(body, encoding, methodStart + methodLength);
  return { id, version, flags, credit, method, params };
}

/** `[id][encoding]`: the header of an ITEM or INPUT_ITEM. */
export function itemHeader(id: number, encoding: number): Buffer {
  const header = Buffer.allocUnsafe(ITEM_FIXED_BYTES);
  writeU32(header, 0, id);
  header[4] = encoding;
  return header;
}

/**
 * The value of an ITEM / INPUT_ITEM body. Raw bytes are a view of the frame, not a copy: framing
 * never writes into memory it has handed out, so the view stays valid (a 1 MiB item is not copied
 * again on its way to the loop). Throws ProtocolError when malformed.
 */
export function readItem(body: Buffer): unknown {
  if (body.length < ITEM_FIXED_BYTES) throw new ProtocolError('truncated stream item');
  const encoding = body[4]!;
  if (encoding === Encoding.RAW) return body.subarray(ITEM_FIXED_BYTES);
  return readPayload(body, encoding, ITEM_FIXED_BYTES);
}

/**
 * The items of an ITEMS / INPUT_ITEMS body (`[id u32]` then a JSON array of at least one item), in
 * order. Throws ProtocolError when malformed: shorter than 6 bytes, not valid
 * UTF-8, not valid JSON, not an array, or an empty array.
 */
export function readItems(body: Buffer): unknown[] {
  if (body.length < 6) throw new ProtocolError('truncated stream item batch');
  const items = readPayload(body, Encoding.JSON, 4);
  if (!Array.isArray(items) || items.length === 0) throw new ProtocolError('a stream item batch must be a JSON array of at least one item');
  return items;
}

/** CREDIT / INPUT_CREDIT body. */
export function creditBody(id: number, grant: number): Buffer {
  const body = Buffer.allocUnsafe(8);
  writeU32(body, 0, id);
  writeU32(body, 4, grant);
  return body;
}

/** The grant of a CREDIT / INPUT_CREDIT body: 1..{@link MAX_CREDIT}, else ProtocolError. */
export function readGrant(body: Buffer): number {
  if (body.length !== 8) throw new ProtocolError('stream credit must be 8 bytes');
  const grant = readU32At(body, 4);
  if (grant === 0 || grant > MAX_CREDIT) throw new ProtocolError(`stream credit grant ${grant} out of range`);
  return grant;
}

/** The id of an END / INPUT_END body (exactly 4 bytes). */
export function readEnd(body: Buffer): number {
  if (body.length !== 4) throw new ProtocolError('stream end must be 4 bytes');
  return readU32(body, 4);
}

/** The id every stream message starts with (checked to be there). */
export function readStreamId(body: Buffer): number {
  return readU32(body, 4);
}

function writeU32(target: Buffer, offset: number, value: number): void {
  target[offset] = value >>> 24;
  target[offset + 1] = value >>> 16;
  target[offset + 2] = value >>> 8;
  target[offset + 3] = value;
}

function readU32At(body: Buffer, offset: number): number {
  return body[offset]! * 0x1000000 + ((body[offset + 1]! << 16) | (body[offset + 2]! << 8) | body[offset + 3]!);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(body: Buffer, start: number, end: number): string {
  try {
    return strictUtf8.decode(body.subarray(start, end));
  } catch (error) {
    throw new ProtocolError('stream method name is not valid UTF-8', { cause: error });
  }
}
