// Sending a request-path body (`[header][payload]`) without allocating per message: the parts array
// and a result's 5-byte header are reused by every send of the process. That is safe because
// nothing keeps them past the send: framing copies every small part (headers are at most 261
// bytes) into its write batch before `send()` returns, and ns copies a session message whole. A
// send made while another is in progress (from a listener framing calls inside `send()`) takes
// fresh ones.
import type { NsSocket } from '@proto/ns';
import { fillHeader, RESPONSE_FIXED_BYTES } from './messages.js';

const EMPTY = Buffer.alloc(0);
const PARTS: (Buffer | string | Uint8Array)[] = [EMPTY, EMPTY];
const RESULT_HEADER = Buffer.alloc(RESPONSE_FIXED_BYTES);
let busy = false;

/**
 * A RESULT header (or the fixed part of an ERROR, `byte` being the kind) for {@link sendBody}
 * right away: the shared one, or a new one while a send is in progress.
 */
export function answerHeader(id: number, byte: number): Buffer {
  return fillHeader(busy ? Buffer.allocUnsafe(RESPONSE_FIXED_BYTES) : RESULT_HEADER, id, byte);
}

/**
 * A REQUEST header from the method's `template` (`[5 bytes][methodLen][method]`, see
 * `requestTemplate`): the template itself, filled in, or a copy while a send is in progress.
 */
export function requestHeaderFrom(template: Buffer, id: number, encoding: number): Buffer {
  return fillHeader(busy ? Buffer.from(template) : template, id, encoding);
}

/** Sends `[header][payload]` as one extension message of `type`; ns's backpressure boolean. */
export function sendBody(socket: NsSocket, type: number, header: Buffer, payload: string | Uint8Array | undefined): boolean {
  if (payload === undefined) return socket.sendExtension(type, header);
  if (busy) return socket.sendExtension(type, [header, payload]);
  busy = true;
  PARTS[0] = header;
  PARTS[1] = payload;
  try {
    return socket.sendExtension(type, PARTS);
  } finally {
    busy = false;
    PARTS[0] = EMPTY;
    PARTS[1] = EMPTY;
  }
}
