import { Buffer } from 'node:buffer';
import { InvalidArgError } from './errors.js';
import { isWireError, type WireError } from './wire-errors.js';

/**
 * Messages between the nodes of a cluster, whatever carries them (Redis pub/sub, the in-process
 * hub). One binary layout:
 *
 *   [0x50 0x43 'PC'][version u8 = 1][header length u32be][header: JSON][body: raw bytes]
 *
 * Messages published to one channel in the same tick travel together as one batch (one PUBLISH):
 *
 *   [0x50 0x43 'PC'][version u8 = 2]([message length u32be][message, version 1 as above])...
 *
 * The header names the cluster `prefix` (a message of another cluster is dropped), the type, the
 * sender (`n` node id, `k` its incarnation) and the type's fields; a value that is a Uint8Array
 * travels as the body (`bin: 1`), any other as JSON in `v`. Nothing secret is ever in a message:
 * no password, no key, only what the application sends and peer ids, addresses and usernames.
 */

/** An event name as rpc and ns take it. */
export type EventName = string | readonly string[];

interface Sender {
  /** Sender node id. */
  readonly n: string;
  /** Sender incarnation (changes when a node with the same id restarts). */
  readonly k: string;
}

/** Heartbeat: the sender is alive (also its first announcement, and a hello to one node). */
export interface HeartbeatMessage extends Sender {
  readonly t: 'hb';
  /** 1: the sender has just (re)written its presence: reload its peers, say hello to it. */
  readonly r?: 1 | undefined;
  /** How many peers the sender holds (periodic heartbeats): a set of another size missed news. */
  readonly c?: number | undefined;
}
/** A peer joined the sender (its presence entry is written before this is published). */
export interface PeerJoinedMessage extends Sender {
  readonly t: 'pj';
  readonly peer: string;
}
/** A peer left the sender. */
export interface PeerLeftMessage extends Sender {
  readonly t: 'pl';
  readonly peer: string;
}
/** The sender left the cluster cleanly. */
export interface ByeMessage extends Sender {
  readonly t: 'bye';
}
/** A broadcast for every other node's local peers. */
export interface BroadcastMessage extends Sender {
  readonly t: 'b';
  readonly e: EventName;
  readonly v: unknown;
}
/** An event for one peer of the receiving node. */
export interface SendMessage extends Sender {
  readonly t: 's';
  readonly to: string;
  readonly e: EventName;
  readonly v: unknown;
}
/** A request for a peer of the receiving node. */
export interface RequestMessage extends Sender {
  readonly t: 'q';
  readonly id: number;
  readonly to: string;
  readonly m: string;
  /** Timeout the caller applies (0: none); the holding node applies it too. */
  readonly ms: number;
  /** 1: the caller passed a signal (it may cancel before the timeout). */
  readonly a?: 1 | undefined;
  readonly v: unknown;
}
/** The caller gave up on request `id` (timeout or abort). */
export interface CancelMessage extends Sender {
  readonly t: 'c';
  readonly id: number;
}
/** The answer to request `id`. */
export interface ResponseMessage extends Sender {
  readonly t: 'r';
  readonly id: number;
  readonly ok: boolean;
  readonly v: unknown;
  readonly err: WireError | undefined;
}

/** Open a stream from a peer of the receiving node; the caller grants `hwm` items of credit. */
export interface StreamOpenMessage extends Sender {
  readonly t: 'so';
  readonly id: number;
  readonly to: string;
  readonly m: string;
  readonly hwm: number;
  /** 1: the caller sends input (`ctx.input`), under the credit the holding node grants (`ic`). */
  readonly in?: 1 | undefined;
  readonly v: unknown;
}
/** One item of stream `id`, from the node holding the peer. */
export interface StreamItemMessage extends Sender {
  readonly t: 'si';
  readonly id: number;
  readonly v: unknown;
}
/** The caller consumed `c` more items of stream `id`: that much more credit. */
export interface StreamCreditMessage extends Sender {
  readonly t: 'sc';
  readonly id: number;
  readonly c: number;
}
/** Stream `id` ended (`ok`) or failed (`err`), from the node holding the peer. */
export interface StreamEndMessage extends Sender {
  readonly t: 'se';
  readonly id: number;
  readonly ok: boolean;
  readonly err: WireError | undefined;
}
/** The caller cancelled stream `id` (break, signal, deadline). */
export interface StreamCancelMessage extends Sender {
  readonly t: 'sx';
  readonly id: number;
}

/** The holding node accepts `c` more input items of stream `id`. */
export interface StreamInputCreditMessage extends Sender {
  readonly t: 'ic';
  readonly id: number;
  readonly c: number;
}
/** One input item of stream `id`, from the caller's node. */
export interface StreamInputItemMessage extends Sender {
  readonly t: 'ii';
  readonly id: number;
  readonly v: unknown;
}
/** The caller's input of stream `id` finished. */
export interface StreamInputEndMessage extends Sender {
  readonly t: 'ie';
  readonly id: number;
}

/** Any message between nodes. */
export type ClusterMessage =
  | StreamOpenMessage
  | StreamItemMessage
  | StreamCreditMessage
  | StreamEndMessage
  | StreamCancelMessage
  | StreamInputCreditMessage
  | StreamInputItemMessage
  | StreamInputEndMessage
  | HeartbeatMessage
  | PeerJoinedMessage
  | PeerLeftMessage
  | ByeMessage
  | BroadcastMessage
  | SendMessage
  | RequestMessage
  | CancelMessage
  | ResponseMessage;

/** What {@link decodeMessage} found. */
export type Decoded = { readonly ok: true; readonly message: ClusterMessage } | { readonly ok: false; readonly reason: 'malformed' | 'foreign' };

const MAGIC_0 = 0x50;
const MAGIC_1 = 0x43;
const VERSION = 1;
const BATCH_VERSION = 2;
const FIXED = 7;

/** Distributes a mapped type over a union, so `Omit` keeps each member's own fields. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A message as a node builds it: prefix and sender are added by {@link encodeMessage}. */
export type OutgoingMessage = DistributiveOmit<ClusterMessage, 'n' | 'k'>;

/**
 * The end of every header a node writes, computed once per node: `,"p":…,"n":…,"k":…}` (the
 * cluster prefix, the sender's node id and incarnation), so encoding a message never copies it.
 */
export function senderSuffix(prefix: string, nodeId: string, incarnation: string): string {
  return `,"p":${JSON.stringify(prefix)},"n":${JSON.stringify(nodeId)},"k":${JSON.stringify(incarnation)}}`;
}

/**
 * Encode `message` with a node's {@link senderSuffix} into one Buffer.
 * @throws InvalidArgError when the value cannot be carried as JSON (BigInt, a cycle).
 */
export function encodeWith(suffix: string, message: OutgoingMessage): Buffer {
  const value = 'v' in message ? message.v : undefined;
  const binary = value instanceof Uint8Array;
  let json: string;
  try {
    // JSON.stringify leaves `v: undefined` out: a binary value travels as the body instead.
    json = JSON.stringify(binary ? { ...message, v: undefined, bin: 1 } : message);
  } catch (error) {
    throw new InvalidArgError('data or params are not JSON-serializable', { cause: error });
  }
  // A message is a plain object: its JSON ends with the closing brace the suffix replaces.
  json = json.slice(0, -1) + suffix;
  const headerBytes = Buffer.byteLength(json);
  const bodyBytes = binary ? value.byteLength : 0;
  const out = Buffer.allocUnsafe(FIXED + headerBytes + bodyBytes);
  out[0] = MAGIC_0;
  out[1] = MAGIC_1;
  out[2] = VERSION;
  out.writeUInt32BE(headerBytes, 3);
  out.write(json, FIXED, 'utf8');
  if (binary) out.set(value, FIXED + headerBytes);
  return out;
}

/**
 * Encode `message` (with the sender's `prefix`, node id and incarnation) into one Buffer.
 * @throws InvalidArgError when the value cannot be carried as JSON (BigInt, a cycle).
 */
export function encodeMessage(prefix: string, nodeId: string, incarnation: string, message: OutgoingMessage): Buffer {
  return encodeWith(senderSuffix(prefix, nodeId, incarnation), message);
}

/** Several encoded messages for one channel as one batch (a single message stays as it is). */
export function encodeBatch(messages: readonly Buffer[]): Buffer {
  if (messages.length === 1) return messages[0]!;
  let total = 3;
  for (const message of messages) total += 4 + message.length;
  const out = Buffer.allocUnsafe(total);
  out[0] = MAGIC_0;
  out[1] = MAGIC_1;
  out[2] = BATCH_VERSION;
  let at = 3;
  for (const message of messages) {
    out.writeUInt32BE(message.length, at);
    out.set(message, at + 4);
    at += 4 + message.length;
  }
  return out;
}

/** Whether `bytes` is a batch of messages ({@link splitBatch}) rather than one message. */
export function isBatch(bytes: Buffer): boolean {
  return bytes.length >= 3 && bytes[0] === MAGIC_0 && bytes[1] === MAGIC_1 && bytes[2] === BATCH_VERSION;
}

/** The messages of a batch; undefined when it is cut or its lengths do not add up. Never throws. */
export function splitBatch(bytes: Buffer): Buffer[] | undefined {
  if (!isBatch(bytes)) return undefined;
  const parts: Buffer[] = [];
  let at = 3;
  while (at < bytes.length) {
    if (bytes.length - at < 4) return undefined;
    const length = bytes.readUInt32BE(at);
    if (length > bytes.length - at - 4) return undefined;
    parts.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return parts.length > 0 ? parts : undefined;
}

/** Decode and validate a message; never throws. */
export function decodeMessage(prefix: string, bytes: Buffer): Decoded {
  if (bytes.length < FIXED || bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1 || bytes[2] !== VERSION) return MALFORMED;
  const headerBytes = bytes.readUInt32BE(3);
  if (headerBytes > bytes.length - FIXED) return MALFORMED;
  let header: unknown;
  try {
    header = JSON.parse(bytes.toString('utf8', FIXED, FIXED + headerBytes));
  } catch {
    return MALFORMED;
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return MALFORMED;
  const h = header as Record<string, unknown>;
  if (typeof h.p !== 'string') return MALFORMED;
  if (h.p !== prefix) return FOREIGN;
  if (!isName(h.n) || !isName(h.k)) return MALFORMED;
  const binary = h.bin === 1;
  if (!binary && h.bin !== undefined) return MALFORMED;
  if (!binary && bytes.length !== FIXED + headerBytes) return MALFORMED;
  if (binary) h.v = bytes.subarray(FIXED + headerBytes);
  return isMessage(h) ? { ok: true, message: h } : MALFORMED;
}

const MALFORMED: Decoded = { ok: false, reason: 'malformed' };
const FOREIGN: Decoded = { ok: false, reason: 'foreign' };

/** Checks the fields of each type: the parsed header itself becomes the message (no copy). */
function isMessage(h: Record<string, unknown>): h is Record<string, unknown> & ClusterMessage {
  switch (h.t) {
    case 'hb':
      return (h.r === undefined || h.r === 1) && (h.c === undefined || isCount(h.c));
    case 'pj':
    case 'pl':
      return isName(h.peer);
    case 'bye':
      return true;
    case 'b':
      return isEvent(h.e);
    case 's':
      return isEvent(h.e) && isName(h.to);
    case 'q':
      return isId(h.id) && isName(h.to) && typeof h.m === 'string' && h.m.length > 0 && typeof h.ms === 'number' && h.ms >= 0 && Number.isFinite(h.ms) && (h.a === undefined || h.a === 1);
    case 'c':
      return isId(h.id);
    case 'r':
      return isId(h.id) && (h.ok === true || (h.ok === false && isWireError(h.err)));
    case 'so':
      return isId(h.id) && isName(h.to) && typeof h.m === 'string' && h.m.length > 0 && isId(h.hwm) && (h.in === undefined || h.in === 1);
    case 'si':
    case 'sx':
    case 'ii':
    case 'ie':
      return isId(h.id);
    case 'sc':
    case 'ic':
      return isId(h.id) && isId(h.c);
    case 'se':
      return isId(h.id) && (h.ok === true || (h.ok === false && isWireError(h.err)));
    default:
      return false;
  }
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 512;
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isEvent(value: unknown): value is EventName {
  if (typeof value === 'string') return value.length > 0;
  return Array.isArray(value) && value.length > 0 && value.every((segment) => typeof segment === 'string');
}
