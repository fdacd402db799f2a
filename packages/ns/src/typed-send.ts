import type { FramedSocket, FramePart, FramePayload } from '@proto/framing';
import { EXTENSION_TYPE_MAX, EXTENSION_TYPE_MIN } from './message.js';

/** One-byte type prefixes of the extension range, shared. */
const EXTENSION_TYPE_BYTES: readonly Buffer[] = Array.from({ length: EXTENSION_TYPE_MAX - EXTENSION_TYPE_MIN + 1 }, (_, i) =>
  Buffer.from([EXTENSION_TYPE_MIN + i]),
);

/**
 * Reused `[type byte, ...body parts]` arrays, indexed by body part count (a lone part counts as 1),
 * so an extension send allocates no array per message. Framing reads the array only inside `send()`
 * (it copies small frames into its batch and writes large parts, never keeping the array), so one
 * set serves every link; `SCRATCH_BUSY` covers a re-entrant send (e.g. from a 'pause' listener).
 * Slots are reset to an empty buffer afterwards so no body outlives its send.
 */
const SCRATCH_MAX_PARTS = 4;
const SCRATCH_EMPTY: Buffer = Buffer.alloc(0);
const SCRATCH_PARTS: FramePart[][] = Array.from({ length: SCRATCH_MAX_PARTS + 1 }, (_, n) => Array.from({ length: n + 1 }, () => SCRATCH_EMPTY));
let SCRATCH_BUSY = false;

/**
 * Sends `[type][body]` as one frame (`type` already checked to be in the extension range).
 * @returns framing's backpressure boolean.
 * @throws what framing's send throws.
 */
export function sendTyped(framed: FramedSocket, type: number, body: FramePayload): boolean {
  const typeByte = EXTENSION_TYPE_BYTES[type - EXTENSION_TYPE_MIN]!;
  const isArray = Array.isArray(body);
  const count = isArray ? (body as readonly FramePart[]).length : 1;
  if (SCRATCH_BUSY || count > SCRATCH_MAX_PARTS) {
    return framed.send(isArray ? [typeByte, ...(body as readonly FramePart[])] : [typeByte, body as FramePart]);
  }
  const parts = SCRATCH_PARTS[count]!;
  parts[0] = typeByte;
  if (isArray) for (let i = 0; i < count; i++) parts[i + 1] = (body as readonly FramePart[])[i]!;
  else parts[1] = body as FramePart;
  SCRATCH_BUSY = true;
  try {
    return framed.send(parts);
  } finally {
    SCRATCH_BUSY = false;
    for (let i = 1; i <= count; i++) parts[i] = SCRATCH_EMPTY;
  }
}
