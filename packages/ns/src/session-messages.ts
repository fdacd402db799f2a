import { createHmac } from 'node:crypto';
import { ProtocolError } from '@proto/framing';

/** Type bytes of the session messages (PROTOCOL.md, "Resumable sessions"); only sent when both HELLOs carry {@link HELLO_FLAG_RESUME}. */
export const SessionMessageType = {
  /** client → server: `[sessionId 16][proof 16][received u64][maxMessages u32][maxBytes u32]`. */
  SESSION_OPEN: 0x05,
  /** server → client: `[result u8][sessionId 16][secret 32][received u64][maxMessages u32][maxBytes u32]`. */
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
/** Bytes of the nonce a resume-enabled server appends to its HELLO. */
export const HELLO_NONCE_BYTES = 16;
/** Bytes of a session secret (SESSION_ACCEPT). */
export const SESSION_SECRET_BYTES = 32;
/** Bytes of a resume proof (SESSION_OPEN). */
export const RESUME_PROOF_BYTES = 16;

const HELLO_FLAGS_OFFSET = 4;
const PROOF_LABEL = Buffer.from('proto-ns/1 resume');

/**
 * The HELLO a resume-enabled side sends: flags `0x01`; a server appends a fresh nonce, which the
 * client's resume proof must cover.
 */
export function resumeHello(hello: Buffer, nonce: Buffer | undefined): Buffer {
  const message = Buffer.allocUnsafe(hello.length + (nonce === undefined ? 0 : HELLO_NONCE_BYTES));
  hello.copy(message);
  message[HELLO_FLAGS_OFFSET] = (hello[HELLO_FLAGS_OFFSET] ?? 0) | HELLO_FLAG_RESUME;
  nonce?.copy(message, hello.length, 0, HELLO_NONCE_BYTES);
  return message;
}

/** Whether a (checked) HELLO announces resume. */
export function helloResumes(hello: Buffer): boolean {
  return ((hello[HELLO_FLAGS_OFFSET] ?? 0) & HELLO_FLAG_RESUME) !== 0;
}

/** The nonce of a server's resume HELLO, or undefined when it has none (a version 1 HELLO is 5 bytes). */
export function helloNonce(hello: Buffer): Buffer | undefined {
  if (hello.length < HELLO_FLAGS_OFFSET + 1 + HELLO_NONCE_BYTES) return undefined;
  return Buffer.from(hello.subarray(HELLO_FLAGS_OFFSET + 1, HELLO_FLAGS_OFFSET + 1 + HELLO_NONCE_BYTES));
}

/** `HMAC-SHA256(secret, "proto-ns/1 resume" ‖ nonce ‖ sessionId)`, first 16 bytes. */
export function resumeProof(secret: Buffer, nonce: Buffer, sessionId: Buffer): Buffer {
  return createHmac('sha256', secret).update(PROOF_LABEL).update(nonce).update(sessionId).digest().subarray(0, RESUME_PROOF_BYTES);
}

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

/** 16 zero bytes: "a new session, please" (also the proof of such a SESSION_OPEN). */
export const NO_SESSION: Buffer = Buffer.alloc(SESSION_ID_BYTES);

/** The counts and bounds both opening messages carry. */
export interface SessionCounts {
  readonly received: number;
  readonly maxMessages: number;
  readonly maxBytes: number;
}

/** What a SESSION_OPEN says. */
export interface SessionOpen extends SessionCounts {
  readonly sessionId: Buffer;
  /** {@link resumeProof} over the server's nonce (zeros when asking for a new session). */
  readonly proof: Buffer;
}

/** A decoded SESSION_ACCEPT. */
export interface SessionAccept extends SessionCounts {
  readonly result: SessionResult;
  readonly sessionId: Buffer;
  /** The secret the next resume proof is keyed with (new on every SESSION_ACCEPT). */
  readonly secret: Buffer;
}

const U32 = 0x1_0000_0000;
const COUNTS_BYTES = 8 + 4 + 4;
const OPEN_BYTES = 1 + SESSION_ID_BYTES + RESUME_PROOF_BYTES + COUNTS_BYTES;
const ACCEPT_BYTES = 2 + SESSION_ID_BYTES + SESSION_SECRET_BYTES + COUNTS_BYTES;

function writeU64(target: Buffer, value: number, offset: number): void {
  target.writeUInt32BE(Math.floor(value / U32), offset);
  target.writeUInt32BE(value >>> 0, offset + 4);
}

function readU64(source: Buffer, offset: number): number {
  const high = source.readUInt32BE(offset);
  if (high >= 0x20_0000) throw new ProtocolError('session counter past 2^53');
  return high * U32 + source.readUInt32BE(offset + 4);
}

function writeCounts(message: Buffer, offset: number, counts: SessionCounts): Buffer {
  writeU64(message, counts.received, offset);
  message.writeUInt32BE(Math.min(counts.maxMessages, U32 - 1), offset + 8);
  message.writeUInt32BE(Math.min(counts.maxBytes, U32 - 1), offset + 12);
  return message;
}

function readCounts(message: Buffer, offset: number): SessionCounts {
  return { received: readU64(message, offset), maxMessages: message.readUInt32BE(offset + 8), maxBytes: message.readUInt32BE(offset + 12) };
}

function copyOut(message: Buffer, offset: number, length: number): Buffer {
  return Buffer.from(message.subarray(offset, offset + length));
}

/** Encodes a SESSION_OPEN (type byte included). */
export function encodeSessionOpen(open: SessionOpen): Buffer {
  const message = Buffer.allocUnsafe(OPEN_BYTES);
  message[0] = SessionMessageType.SESSION_OPEN;
  open.sessionId.copy(message, 1, 0, SESSION_ID_BYTES);
  open.proof.copy(message, 1 + SESSION_ID_BYTES, 0, RESUME_PROOF_BYTES);
  return writeCounts(message, 1 + SESSION_ID_BYTES + RESUME_PROOF_BYTES, open);
}

/**
 * Decodes a SESSION_OPEN (type byte included).
 * @throws ProtocolError on a wrong length.
 */
export function decodeSessionOpen(message: Buffer): SessionOpen {
  if (message.length !== OPEN_BYTES) throw new ProtocolError(`SESSION_OPEN of ${String(message.length)} bytes, expected ${String(OPEN_BYTES)}`);
  return {
    sessionId: copyOut(message, 1, SESSION_ID_BYTES),
    proof: copyOut(message, 1 + SESSION_ID_BYTES, RESUME_PROOF_BYTES),
    ...readCounts(message, 1 + SESSION_ID_BYTES + RESUME_PROOF_BYTES),
  };
}

/** Encodes a SESSION_ACCEPT (type byte included). */
export function encodeSessionAccept(accept: SessionAccept): Buffer {
  const message = Buffer.allocUnsafe(ACCEPT_BYTES);
  message[0] = SessionMessageType.SESSION_ACCEPT;
  message[1] = accept.result;
  accept.sessionId.copy(message, 2, 0, SESSION_ID_BYTES);
  accept.secret.copy(message, 2 + SESSION_ID_BYTES, 0, SESSION_SECRET_BYTES);
  return writeCounts(message, 2 + SESSION_ID_BYTES + SESSION_SECRET_BYTES, accept);
}

/**
 * Decodes a SESSION_ACCEPT (type byte included).
 * @throws ProtocolError on a wrong length, an unknown result, a missing session id, or a new session with `received` > 0.
 */
export function decodeSessionAccept(message: Buffer): SessionAccept {
  if (message.length !== ACCEPT_BYTES) {
    throw new ProtocolError(`SESSION_ACCEPT of ${String(message.length)} bytes, expected ${String(ACCEPT_BYTES)}`);
  }
  const result = message[1]!;
  if (result > SessionResult.INVALID) throw new ProtocolError(`SESSION_ACCEPT with unknown result ${String(result)}`);
  const sessionId = copyOut(message, 2, SESSION_ID_BYTES);
  if (sessionId.equals(NO_SESSION)) throw new ProtocolError('SESSION_ACCEPT without a session id');
  const counts = readCounts(message, 2 + SESSION_ID_BYTES + SESSION_SECRET_BYTES);
  if (result !== SessionResult.RESUMED && counts.received !== 0) throw new ProtocolError('SESSION_ACCEPT of a new session with received > 0');
  return { result: result as SessionResult, sessionId, secret: copyOut(message, 2 + SESSION_ID_BYTES, SESSION_SECRET_BYTES), ...counts };
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
