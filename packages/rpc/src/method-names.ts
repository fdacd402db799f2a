import { ProtocolError } from './errors.js';
import { readMethod, REQUEST_FIXED_BYTES } from './messages.js';

/** Names remembered per link: a peer usually calls a handful of methods over and over. */
const SLOTS = 4;

/**
 * Decodes the method names of one link's incoming requests, remembering the last few by their
 * bytes, so a repeated name is compared instead of decoded into a new string (and hashed again for
 * the handler lookup).
 */
export class MethodNames {
  /** `[length][utf8]` as received, a private copy. */
  readonly #bytes: (Buffer | undefined)[] = new Array<Buffer | undefined>(SLOTS).fill(undefined);
  readonly #names: string[] = new Array<string>(SLOTS).fill('');
  #nextSlot = 0;

  /** Method name of a REQUEST body (already checked to hold at least the fixed header). */
  read(body: Buffer): string {
    const start = REQUEST_FIXED_BYTES - 1;
    const length = body[start] ?? 0;
    const end = REQUEST_FIXED_BYTES + length;
    if (body.length < end) throw new ProtocolError('truncated rpc request');
    for (let slot = 0; slot < SLOTS; slot++) {
      const known = this.#bytes[slot];
      if (known === undefined || known[0] !== length) continue;
      let i = 1;
      while (i <= length && known[i] === body[start + i]) i++;
      if (i > length) return this.#names[slot]!;
    }
    const name = readMethod(body);
    const slot = this.#nextSlot;
    this.#nextSlot = (slot + 1) % SLOTS;
    // A copy: the frame's memory belongs to the chunk it arrived in.
    this.#bytes[slot] = Buffer.from(body.subarray(start, end));
    this.#names[slot] = name;
    return name;
  }
}
