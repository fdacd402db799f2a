import type { FramePart } from '@proto/framing';
import { eventNameOf, receivedSegments } from './event-name.js';
import { binaryBody, encodeEventPrefix, jsonBody, MessageType } from './message.js';
import { NameCache } from './name-cache.js';

/** Both encoded prefixes of one event name. */
interface Prefixes {
  readonly json: Buffer;
  readonly binary: Buffer;
}

/** What the receive path emits for one event name. */
export interface ReceivedName {
  /** `['data', ...segments]`, passed to EventEmitter2 (which only reads it). */
  readonly emitType: string[];
  readonly segments: readonly string[];
}

// Shared by every socket of the process and bounded: names are validated and encoded once.
const sendNames = new NameCache<Prefixes>(1024);
const receivedNames = new NameCache<ReceivedName>(1024);
const isKnownName = (name: string): boolean => sendNames.has(name);

function prefixesOf(event: string | readonly string[]): Prefixes {
  if (typeof event === 'string') {
    const cached = sendNames.get(event);
    if (cached !== undefined) return cached;
  }
  const name = eventNameOf(event, isKnownName);
  const cached = sendNames.get(name);
  if (cached !== undefined) return cached;
  const json = encodeEventPrefix(MessageType.EVENT_JSON, name);
  const binary = Buffer.from(json);
  binary[0] = MessageType.EVENT_BINARY;
  return sendNames.set(name, { json, binary });
}

/**
 * Encodes a user event as `[prefix, body]`: the cached `[type][nameLen][name]` and the JSON text
 * (UTF-8 encoded later, straight into framing's batch) or the raw bytes.
 * @throws InvalidArgError for an invalid event name or data JSON cannot serialize.
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
 * The segments and emit type of a received event name.
 * @throws ProtocolError for a name this side would never send.
 */
export function receivedName(name: string): ReceivedName {
  const cached = receivedNames.get(name);
  if (cached !== undefined) return cached;
  const segments = receivedSegments(name);
  return receivedNames.set(name, { emitType: ['data', ...segments], segments });
}
