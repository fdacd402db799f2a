import { isUtf8 } from 'node:buffer';
/**
 * The @proto/ns message format (PROTOCOL.md, "Messages"), written independently of @proto/ns so fuzz
 * and security tests can talk to a real server byte by byte and predict what it must do.
 */
import { frame32 } from './raw-socket.js';

export const NS_HELLO = 0x01;
export const NS_EVENT_JSON = 0x02;
export const NS_EVENT_BINARY = 0x03;
export const NS_READY = 0x04;

/** The payload of a version-1 hello. */
export const helloPayload = (version = 1): Buffer => Buffer.from([NS_HELLO, 0x50, 0x4e, version, 0]);

/** Hello then READY as framed bytes: what a raw client sends to get its link open. */
export const openingBytes = (): Buffer => Buffer.concat([frame32(helloPayload()), frame32([NS_READY])]);

/** `[type][nameLen u16be][name][body]`, with the name given as bytes so it may be anything. */
export function eventPayload(type: number, name: Uint8Array | string, body: Uint8Array | string = ''): Buffer {
  const nameBytes = typeof name === 'string' ? Buffer.from(name, 'utf8') : Buffer.from(name);
  const header = Buffer.allocUnsafe(3);
  header[0] = type;
  header.writeUInt16BE(nameBytes.length & 0xffff, 1);
  return Buffer.concat([header, nameBytes, typeof body === 'string' ? Buffer.from(body, 'utf8') : body]);
}

/** What a receiver must do with one message once its link is open. */
export type NsVerdict =
  | { kind: 'event'; segments: string[]; data: unknown; binary: boolean }
  | { kind: 'protocol-error'; why: string };

const MAX_NAME_BYTES = 1024;
const MAX_SEGMENT_BYTES = 256;

/**
 * Segments ns refuses in names and patterns (PROTOCOL.md / ns README): EventEmitter2 stores listeners
 * in plain objects, so Object.prototype's member names and its own `_listeners` key cannot be segments.
 */
export const RESERVED_SEGMENTS: ReadonlySet<string> = new Set([
  '__proto__',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'constructor',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  'toString',
  'valueOf',
  '_listeners',
  ...Object.getOwnPropertyNames(Object.prototype),
]);

/** Why a received event name is invalid (the sender's rules), or undefined. */
export function nameProblem(name: string): string | undefined {
  const segments = name.split('::');
  let bytes = 0;
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (s.length === 0) return 'empty segment';
    if (s.startsWith(':') || s.endsWith(':')) return 'segment starts or ends with ":"';
    if (s === '*' || s === '**') return 'wildcard segment';
    if (RESERVED_SEGMENTS.has(s)) return 'reserved segment';
    if (Buffer.byteLength(s) > MAX_SEGMENT_BYTES) return 'segment too long';
    bytes += Buffer.byteLength(s) + (i === 0 ? 0 : 2);
  }
  if (bytes > MAX_NAME_BYTES) return 'name too long';
  return undefined;
}

/**
 * The model of an open link receiving `payload` after both sides exchanged hello and READY:
 * a user event to deliver, or a protocol error that closes the link.
 */
export function nsVerdict(payload: Buffer): NsVerdict {
  const type = payload[0];
  if (type === undefined) return { kind: 'protocol-error', why: 'empty message' };
  if (type === NS_EVENT_JSON || type === NS_EVENT_BINARY) {
    if (payload.length < 3) return { kind: 'protocol-error', why: 'truncated event' };
    const nameLength = payload.readUInt16BE(1);
    if (nameLength === 0 || 3 + nameLength > payload.length) return { kind: 'protocol-error', why: 'bad name length' };
    if (!isUtf8(payload.subarray(3, 3 + nameLength))) return { kind: 'protocol-error', why: 'name not UTF-8' };
    const name = payload.toString('utf8', 3, 3 + nameLength);
    const problem = nameProblem(name);
    if (problem !== undefined) return { kind: 'protocol-error', why: problem };
    const segments = name.split('::');
    if (type === NS_EVENT_BINARY) return { kind: 'event', segments, data: Buffer.from(payload.subarray(3 + nameLength)), binary: true };
    if (3 + nameLength === payload.length) return { kind: 'event', segments, data: undefined, binary: false };
    if (!isUtf8(payload.subarray(3 + nameLength))) return { kind: 'protocol-error', why: 'JSON not UTF-8' };
    try {
      return { kind: 'event', segments, data: JSON.parse(payload.toString('utf8', 3 + nameLength)), binary: false };
    } catch {
      return { kind: 'protocol-error', why: 'bad JSON' };
    }
  }
  if (type === NS_HELLO) return { kind: 'protocol-error', why: 'second hello' };
  if (type === NS_READY) return { kind: 'protocol-error', why: 'second READY' };
  if (type >= 0x40 && type <= 0x7f) return { kind: 'protocol-error', why: 'extension message without extension' };
  return { kind: 'protocol-error', why: 'unknown type' };
}

/** Whether `payload` is a hello this build accepts as the first message. */
export function isValidHello(payload: Buffer): boolean {
  return payload.length >= 5 && payload[0] === NS_HELLO && payload[1] === 0x50 && payload[2] === 0x4e && payload[3] === 1;
}

/** Event segments that have tripped event emitters and object maps elsewhere. */
export const TRICKY_SEGMENTS: readonly string[] = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '_listeners',
  '_events',
  'listenerTree',
  'newListener',
  'removeListener',
  'error',
  'data',
  '*',
  '**',
  ':',
  'a:',
  ':a',
  '',
  'é',
  '💥',
  '\u0000',
  '\ufffd',
  'a'.repeat(256),
  'b'.repeat(257),
];
