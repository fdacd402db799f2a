import { isUtf8 } from 'node:buffer';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ProtocolError } from './errors.js';
import { KEY_BYTES, type ScryptParams } from './key-derivation.js';
import { PROTOCOL_VERSION } from './message-types.js';

/**
 * Challenge-response handshake, pure parts: message bodies and proofs. The password never crosses
 * the wire; both sides prove knowledge of the scrypt key over fresh nonces from both ends (and, on
 * TLS, the channel binding), the client first, then the server.
 */

/** Bytes of each side's nonce. */
export const NONCE_BYTES = 32;
/** Label under which both ends export TLS keying material (RFC 5705) for channel binding. */
export const CHANNEL_BINDING_LABEL = 'EXPORTER-proto-rpc-channel-binding';
/** Bytes of exported keying material mixed into the proofs. */
export const CHANNEL_BINDING_BYTES = 32;
/** Longest username in bytes (UTF-8). */
export const MAX_USERNAME_BYTES = 255;

/** Shortest salt a challenge may carry. */
export const MIN_SALT_BYTES = 8;
/** AUTH_CHALLENGE flag: the proofs cover TLS channel binding. */
export const FLAG_CHANNEL_BINDING = 0x01;
/** Every flag bit this version knows; a challenge with any other bit set is refused. */
export const KNOWN_CHALLENGE_FLAGS = FLAG_CHANNEL_BINDING;
const CLIENT_LABEL = Buffer.from('proto-rpc/1 client proof', 'latin1');
const SERVER_LABEL = Buffer.from('proto-rpc/1 server proof', 'latin1');

/** Why the server refused, as sent in AUTH_FAIL. */
export const AuthFailCode = {
  /** Wrong credentials (or the server could not use them). */
  REJECTED: 1,
  /** Too many connections authenticating at once; try again later. */
  OVERLOADED: 2,
} as const;

/** The server's first message. */
export interface AuthChallenge {
  readonly version: number;
  /** The flags byte as sent (bit 0x01, {@link FLAG_CHANNEL_BINDING}: channel binding). */
  readonly flags: number;
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly serverNonce: Buffer;
}

/** The client's answer. */
export interface AuthProof {
  readonly version: number;
  readonly clientNonce: Buffer;
  readonly proof: Buffer;
  readonly username: string;
}

/** Fresh random nonce. */
export function createNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

/** AUTH_CHALLENGE body: [version][flags][log2N][r][p][saltLen][salt][serverNonce(32)]. */
export function encodeChallenge(challenge: AuthChallenge): Buffer {
  const { salt } = challenge;
  const body = Buffer.allocUnsafe(6 + salt.length + NONCE_BYTES);
  body[0] = challenge.version;
  body[1] = challenge.flags;
  body[2] = challenge.params.log2N;
  body[3] = challenge.params.r;
  body[4] = challenge.params.p;
  body[5] = salt.length;
  salt.copy(body, 6);
  challenge.serverNonce.copy(body, 6 + salt.length);
  return body;
}

/**
 * Parse an AUTH_CHALLENGE body; throws ProtocolError when its layout is malformed: shorter than 6
 * bytes, a length other than exactly `6 + saltLen + 32`, a salt under 8 bytes, `r` or `p` of 0.
 * Version, flags and cost are the client's to judge (see `ClientHandshake`).
 */
export function decodeChallenge(body: Buffer): AuthChallenge {
  if (body.length < 6) throw new ProtocolError('truncated auth challenge');
  const saltLength = body[5] ?? 0;
  if (body.length !== 6 + saltLength + NONCE_BYTES) {
    throw new ProtocolError(`malformed auth challenge: ${body.length} bytes, the salt length says ${6 + saltLength + NONCE_BYTES}`);
  }
  if (saltLength < MIN_SALT_BYTES) throw new ProtocolError(`malformed auth challenge: a ${saltLength}-byte salt (at least ${MIN_SALT_BYTES})`);
  if (body[3] === 0 || body[4] === 0) throw new ProtocolError('malformed auth challenge: scrypt r and p must be at least 1');
  return {
    version: body[0] ?? 0,
    flags: body[1] ?? 0,
    params: { log2N: body[2] ?? 0, r: body[3] ?? 0, p: body[4] ?? 0 },
    salt: Buffer.from(body.subarray(6, 6 + saltLength)),
    serverNonce: Buffer.from(body.subarray(6 + saltLength)),
  };
}

/** AUTH_PROOF body: [version][clientNonce(32)][proof(32)][usernameLen][username]. */
export function encodeProof(proof: AuthProof): Buffer {
  const username = Buffer.from(proof.username, 'utf8');
  if (username.length > MAX_USERNAME_BYTES) throw new ProtocolError('username longer than 255 bytes');
  const body = Buffer.allocUnsafe(2 + NONCE_BYTES + KEY_BYTES + username.length);
  body[0] = proof.version;
  proof.clientNonce.copy(body, 1);
  proof.proof.copy(body, 1 + NONCE_BYTES);
  body[1 + NONCE_BYTES + KEY_BYTES] = username.length;
  username.copy(body, 2 + NONCE_BYTES + KEY_BYTES);
  return body;
}

/** Parse an AUTH_PROOF body; throws ProtocolError when malformed. */
export function decodeProof(body: Buffer): AuthProof {
  const fixed = 2 + NONCE_BYTES + KEY_BYTES;
  if (body.length < fixed) throw new ProtocolError('truncated auth proof');
  const usernameLength = body[fixed - 1] ?? 0;
  if (body.length !== fixed + usernameLength) throw new ProtocolError('malformed auth proof');
  if (!isUtf8(body.subarray(fixed))) throw new ProtocolError('auth proof username is not valid UTF-8');
  const username = body.toString('utf8', fixed, fixed + usernameLength);
  return {
    version: body[0] ?? 0,
    clientNonce: Buffer.from(body.subarray(1, 1 + NONCE_BYTES)),
    proof: Buffer.from(body.subarray(1 + NONCE_BYTES, fixed - 1)),
    username,
  };
}

/** What both proofs are computed over; any difference between the two ends makes them disagree. */
export interface Transcript {
  /** The challenge's flags byte exactly as it went over the wire. */
  readonly flags: number;
  readonly channelBinding: Buffer | undefined;
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly serverNonce: Buffer;
  readonly clientNonce: Buffer;
  readonly username: string;
}

function mac(key: Buffer, label: Buffer, transcript: Transcript): Buffer {
  const hmac = createHmac('sha256', key);
  const username = Buffer.from(transcript.username, 'utf8');
  const header = Buffer.from([
    PROTOCOL_VERSION,
    transcript.flags,
    transcript.params.log2N,
    transcript.params.r,
    transcript.params.p,
    transcript.salt.length,
  ]);
  hmac.update(label);
  hmac.update(header);
  hmac.update(transcript.salt);
  hmac.update(transcript.serverNonce);
  hmac.update(transcript.clientNonce);
  hmac.update(Buffer.from([username.length]));
  hmac.update(username);
  if (transcript.channelBinding !== undefined) hmac.update(transcript.channelBinding);
  return hmac.digest();
}

/** The client's proof that it knows the key. */
export function clientProof(key: Buffer, transcript: Transcript): Buffer {
  return mac(key, CLIENT_LABEL, transcript);
}

/** The server's proof; a different label, so a client proof can never be reflected back as one. */
export function serverProof(key: Buffer, transcript: Transcript): Buffer {
  return mac(key, SERVER_LABEL, transcript);
}

/** Constant-time comparison of a received proof with the expected one. */
export function proofsMatch(received: Buffer, expected: Buffer): boolean {
  return received.length === expected.length && timingSafeEqual(received, expected);
}

/** AUTH_OK body: the server proof. */
export function decodeAuthOk(body: Buffer): Buffer {
  if (body.length !== KEY_BYTES) throw new ProtocolError('malformed auth confirmation');
  return Buffer.from(body);
}
