import { ProtocolError } from '@proto/framing';

/** Type bytes of the session messages (PROTOCOL.md, "Resumable sessions"); only sent when both HELLOs carry {@link HELLO_FLAG_RESUME}. */
export const SessionMessageType = {
  /** client → server: `[sessionId 16][received u64][maxMessages u32][maxBytes u32]`. */
  SESSION_OPEN: 0x05,
  /** server → client: `[result u8][sessionId 16][received u64][maxMessages u32][maxBytes u32]`. */
  SESSION_ACCEPT: 0x06,
  /** either way: `[received u64]`, cumulative. */
  ACK: 0x07,
  /** either way, empty: the sender ended the session. */
  SESSION_END: 0x08,
} as const;

/** HELLO flag bit: this side has `resume` enabled. */
export const HELLO_FLAG_RESUME = 0x01;

/** Bytes of a session id. */
export const SESSION_ID_BYTES = 16;

/** SESSION_ACCEPT results. */
export const SessionResult = {
  /** A new session, as the client asked. */
  NEW: 0,
  /** The session continues. */
  RESUMED: 1,
  /** The server does not know the session (never issued, restarted, or another identity's). */
  UNKNOWN: 2,
  /** The session's ttl passed without a link. */
  EXPIRED: 3,
  /** The client's `received` does not fit the server's window. */
  INVALID: 4,
} as const;

/** Any value of {@link SessionResult}. */
export type SessionResult = (typeof SessionResult)[keyof typeof SessionResult];

/** Why a session was lost, as `sessionLost` reports it. */
export type SessionLostReason = 'unknown' | 'expired' | 'invalid' | 'ended';

/** The reason reported for a SESSION_ACCEPT result that is not NEW or RESUMED. */
export function lostReason(result: SessionResult): SessionLostReason {
  return result === SessionResult.EXPIRED ? 'expired' : result === SessionResult.INVALID ? 'invalid' : 'unknown';
}

/** 16 zero bytes: "a new session, please". */
export const NO_SESSION: Buffer = Buffer.alloc(SESSION_ID_BYTES);

/** What a SESSION_OPEN or SESSION_ACCEPT says. */
export interface SessionOpening {
  readonly sessionId: Buffer;
  readonly received: number;
  readonly maxMessages: number;
  readonly maxBytes: number;
}

/** A decoded SESSION_ACCEPT. */
export interface SessionAccept extends SessionOpening {
  readonly result: SessionResult;
}

const U32 = 0x1_0000_0000;
const OPEN_BYTES = 1 + SESSION_ID_BYTES + 8 + 4 + 4;
const ACCEPT_BYTES = OPEN_BYTES + 1;

function writeU64(target: Buffer, value: number, offset: number): void {
  target.writeUInt32BE(Math.floor(value / U32), offset);
  target.writeUInt32BE(value >>> 0, offset + 4);
}

function readU64(source: Buffer, offset: number): number {
  const high = source.readUInt32BE(offset);
  if (high >= 0x20_0000) throw new ProtocolError('session counter past 2^53');
  return high * U32 + source.readUInt32BE(offset + 4);
}

function writeOpening(message: Buffer, offset: number, opening: SessionOpening): Buffer {
  opening.sessionId.copy(message, offset, 0, SESSION_ID_BYTES);
  writeU64(message, opening.received, offset + SESSION_ID_BYTES);
  message.writeUInt32BE(Math.min(opening.maxMessages, U32 - 1), offset + SESSION_ID_BYTES + 8);
  message.writeUInt32BE(Math.min(opening.maxBytes, U32 - 1), offset + SESSION_ID_BYTES + 12);
  return message;
}

function readOpening(message: Buffer, offset: number): SessionOpening {
  return {
    sessionId: Buffer.from(message.subarray(offset, offset + SESSION_ID_BYTES)),
    received: readU64(message, offset + SESSION_ID_BYTES),
    maxMessages: message.readUInt32BE(offset + SESSION_ID_BYTES + 8),
    maxBytes: message.readUInt32BE(offset + SESSION_ID_BYTES + 12),
  };
}

/** Encodes a SESSION_OPEN (type byte included). */
export function encodeSessionOpen(opening: SessionOpening): Buffer {
  const message = Buffer.allocUnsafe(OPEN_BYTES);
  message[0] = SessionMessageType.SESSION_OPEN;
  return writeOpening(message, 1, opening);
}

/**
 * Decodes a SESSION_OPEN (type byte included).
 * @throws ProtocolError on a wrong length.
 */
export function decodeSessionOpen(message: Buffer): SessionOpening {
  if (message.length !== OPEN_BYTES) throw new ProtocolError(`SESSION_OPEN of ${String(message.length)} bytes, expected ${String(OPEN_BYTES)}`);
  return readOpening(message, 1);
}

/** Encodes a SESSION_ACCEPT (type byte included). */
export function encodeSessionAccept(accept: SessionAccept): Buffer {
  const message = Buffer.allocUnsafe(ACCEPT_BYTES);
  message[0] = SessionMessageType.SESSION_ACCEPT;
  message[1] = accept.result;
  return writeOpening(message, 2, accept);
}

/**
 * Decodes a SESSION_ACCEPT (type byte included).
 * @throws ProtocolError on a wrong length, an unknown result, or a NEW/RESUMED without a session id.
 */
export function decodeSessionAccept(message: Buffer): SessionAccept {
  if (message.length !== ACCEPT_BYTES) {
    throw new ProtocolError(`SESSION_ACCEPT of ${String(message.length)} bytes, expected ${String(ACCEPT_BYTES)}`);
  }
  const result = message[1]!;
  if (result > SessionResult.INVALID) throw new ProtocolError(`SESSION_ACCEPT with unknown result ${String(result)}`);
  const opening = readOpening(message, 2);
  if (opening.sessionId.equals(NO_SESSION)) throw new ProtocolError('SESSION_ACCEPT without a session id');
  if (result !== SessionResult.RESUMED && opening.received !== 0) throw new ProtocolError('SESSION_ACCEPT of a new session with received > 0');
  return { result: result as SessionResult, ...opening };
}

/** Encodes an ACK (type byte included). */
export function encodeAck(received: number): Buffer {
  const message = Buffer.allocUnsafe(9);
  message[0] = SessionMessageType.ACK;
  writeU64(message, received, 1);
  return message;
}

/**
 * Decodes an ACK (type byte included).
 * @throws ProtocolError on a wrong length.
 */
export function decodeAck(message: Buffer): number {
  if (message.length !== 9) throw new ProtocolError(`ACK of ${String(message.length)} bytes, expected 9`);
  return readU64(message, 1);
}

/** The SESSION_END message (immutable, shared). */
export const SESSION_END_MESSAGE: Buffer = Buffer.from([SessionMessageType.SESSION_END]);
