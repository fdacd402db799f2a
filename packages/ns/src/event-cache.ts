import type { FramePart } from '@proto/framing';
import { ProtocolError } from '@proto/framing';
import { eventNameOf, MAX_EVENT_NAME_BYTES, receivedSegments } from './event-name.js';
import { binaryBody, encodeEventPrefix, jsonBody, NsMessageType, utf8Text } from './message.js';
import { NameCache } from './name-cache.js';

/** Both encoded prefixes of one event name. */
interface Prefixes {
  readonly json: Buffer;
  readonly binary: Buffer;
}

/** What the receive path needs for one event name. */
export interface ReceivedName {
  /** The name as UTF-8 bytes, to recognise the next message with the same name without decoding it. */
  readonly bytes: Buffer;
  /** `['data', ...segments]`, what EventEmitter2 matches listeners against (it only reads it). */
  readonly emitType: string[];
  /** `'data::' + name`: EventEmitter2's `this.event` while a listener runs. */
  readonly eventString: string;
  readonly segments: readonly string[];
}

/** A node of the segment tree: array events find their prefixes without joining (or allocating). */
interface SegmentNode {
  next: Map<string, SegmentNode> | undefined;
  prefixes: Prefixes | undefined;
}

const MAX_NAMES = 1024;

// Shared by every socket of the process and bounded: names are validated and encoded once.
const sendNames = new NameCache<Prefixes>(MAX_NAMES);
const receivedNames = new NameCache<ReceivedName>(MAX_NAMES);
let segmentRoot: SegmentNode = { next: undefined, prefixes: undefined };
let segmentLeaves = 0;

function prefixesOfName(name: string): Prefixes {
  const cached = sendNames.get(name);
  if (cached !== undefined) return cached;
  const json = encodeEventPrefix(NsMessageType.EVENT_JSON, name);
  const binary = Buffer.from(json);
  binary[0] = NsMessageType.EVENT_BINARY;
  return sendNames.set(name, { json, binary });
}

function prefixesOfSegments(segments: readonly string[]): Prefixes {
  let node = segmentRoot;
  for (let i = 0; i < segments.length; i++) {
    const child = node.next?.get(segments[i]!);
    if (child === undefined) return addSegments(segments);
    node = child;
  }
  return node.prefixes ?? addSegments(segments);
}

/** Validates an array event once and files it in the segment tree. */
function addSegments(segments: readonly string[]): Prefixes {
  const prefixes = prefixesOfName(eventNameOf(segments));
  if (segmentLeaves >= MAX_NAMES) {
    segmentRoot = { next: undefined, prefixes: undefined };
    segmentLeaves = 0;
  }
  let node = segmentRoot;
  for (const segment of segments) {
    node.next ??= new Map();
    let child = node.next.get(segment);
    if (child === undefined) node.next.set(segment, (child = { next: undefined, prefixes: undefined }));
    node = child;
  }
  if (node.prefixes === undefined) segmentLeaves++;
  node.prefixes = prefixes;
  return prefixes;
}

function prefixesOf(event: string | readonly string[]): Prefixes {
  if (typeof event === 'string') return sendNames.get(event) ?? prefixesOfName(eventNameOf(event));
  if (!Array.isArray(event)) return prefixesOfName(eventNameOf(event)); // throws
  return prefixesOfSegments(event);
}

/**
 * Encodes a user event as `[prefix, body]`: the cached `[type][nameLen][name]` and the JSON text
 * (UTF-8 encoded later, straight into framing's batch) or the raw bytes.
 * @throws InvalidArgError for an invalid event name, or data JSON cannot serialize.
 */
export function encodeEvent(event: string | readonly string[], data: unknown): [prefix: Buffer, body: FramePart] {
  const prefixes = prefixesOf(event);
  if (typeof data === 'object' && data !== null) {
    const bytes = binaryBody(data);
    if (bytes !== undefined) return [prefixes.binary, bytes];
  }
  return [prefixes.json, jsonBody(data)];
}

/**
 * The segments and emit type of a received event name (its bytes are `message[start..end)`).
 * @throws ProtocolError for a name this side would never send (invalid UTF-8 included).
 */
export function receivedName(message: Buffer, start: number, end: number): ReceivedName {
  // The limits hold for the bytes on the wire (checked before anything is decoded).
  if (end - start > MAX_EVENT_NAME_BYTES) throw new ProtocolError(`peer sent an invalid event name: event name longer than ${MAX_EVENT_NAME_BYTES} bytes`);
  const name = utf8Text(message, start, end, 'an event name');
  const cached = receivedNames.get(name);
  if (cached !== undefined) return cached;
  const segments = receivedSegments(name);
  return receivedNames.set(name, {
    bytes: Buffer.from(message.subarray(start, end)),
    emitType: ['data', ...segments],
    eventString: `data::${name}`,
    segments,
  });
}

/** Whether `message[start..end)` holds exactly the bytes of `name`. */
export function sameName(message: Buffer, start: number, end: number, name: ReceivedName): boolean {
  const bytes = name.bytes;
  if (end - start !== bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (message[start + i] !== bytes[i]) return false;
  return true;
}
