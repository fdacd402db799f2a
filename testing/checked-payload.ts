import { createHash } from 'node:crypto';
import { SeededRandom } from './random.js';

/**
 * Self-checking payloads for fault tests: `[seq u32be][sha256(body) first 8 bytes][body]`. A receiver
 * can tell a whole, intact message from a truncated, corrupted or reordered one without any state.
 */
export function checkedPayload(seq: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(12 + body.length);
  out.writeUInt32BE(seq, 0);
  createHash('sha256').update(body).digest().copy(out, 4, 0, 8);
  out.set(body, 12);
  return out;
}

/** The sequence number of an intact checked payload, or throws describing what is wrong with it. */
export function verifyPayload(payload: Uint8Array): number {
  const buffer = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (buffer.length < 12) throw new Error(`payload of ${String(buffer.length)} bytes is shorter than its header`);
  const digest = createHash('sha256').update(buffer.subarray(12)).digest();
  if (!digest.subarray(0, 8).equals(buffer.subarray(4, 12))) {
    throw new Error(`payload ${String(buffer.readUInt32BE(0))} is corrupt or truncated`);
  }
  return buffer.readUInt32BE(0);
}

/** `count` checked payloads with seeded random bodies of `minBytes..maxBytes`. */
export function checkedPayloads(count: number, seed: number, minBytes: number, maxBytes: number): Buffer[] {
  const random = new SeededRandom(seed);
  return Array.from({ length: count }, (_, seq) => checkedPayload(seq, random.bytes(random.int(minBytes, maxBytes))));
}
