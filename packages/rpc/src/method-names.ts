import { isUtf8 } from 'node:buffer';
import { ProtocolError } from './errors.js';
import { readMethod, REQUEST_FIXED_BYTES } from './messages.js';

/**
 * What {@link MethodNames.read} returns for a name no sender could have produced: empty, not valid
 * UTF-8, or with a wildcard segment (`*`, `**`). No handler is ever registered under it, so such a
 * request is answered with ERROR kind 1 (no such method), as PROTOCOL.md says.
 */
export const INVALID_METHOD = '';

/** Whether the decoded `name` has a wildcard segment. */
function hasWildcard(name: string): boolean {
  if (name.indexOf('*') < 0) return false;
  for (const segment of name.split('::')) if (segment === '*' || segment === '**') return true;
  return false;
}

/** Names remembered per link: a peer usually calls a handful of methods over and over. */
const SLOTS = 4;
/** The names of a link that has decoded none yet (never written). */
const NO_NAMES: string[] = [];

/**
 * Decodes the method names of one link's incoming requests, remembering the last few by their
 * bytes, so a repeated name is compared instead of decoded into a new string (and hashed again for
 * the handler lookup).
 */
export class MethodNames {
  /** `[length][utf8]` as received, a private copy; allocated with the first name (idle links stay small). */
  #bytes: (Buffer | undefined)[] | undefined = undefined;
  #names: string[] = NO_NAMES;
  #nextSlot = 0;

  /**
   * Method name of a REQUEST body (already checked to hold at least the fixed header), or
   * {@link INVALID_METHOD}. Throws ProtocolError when the name runs past the body.
   */
  read(body: Buffer): string {
    const start = REQUEST_FIXED_BYTES - 1;
    const length = body[start] ?? 0;
    const end = REQUEST_FIXED_BYTES + length;
    if (body.length < end) throw new ProtocolError('truncated rpc request');
    const bytes = this.#bytes;
    if (bytes !== undefined) for (let slot = 0; slot < SLOTS; slot++) {
      const known = bytes[slot];
      if (known === undefined || known[0] !== length) continue;
      let i = 1;
      while (i <= length && known[i] === body[start + i]) i++;
      if (i > length) return this.#names[slot]!;
    }
    // Checked before decoding: a lossy decode would map different bytes to one name (U+FFFD).
    if (length === 0 || !isUtf8(body.subarray(REQUEST_FIXED_BYTES, end))) return INVALID_METHOD;
    const name = readMethod(body);
    if (hasWildcard(name)) return INVALID_METHOD;
    const slot = this.#nextSlot;
    this.#nextSlot = (slot + 1) % SLOTS;
    if (this.#bytes === undefined) {
      this.#bytes = new Array<Buffer | undefined>(SLOTS).fill(undefined);
      this.#names = new Array<string>(SLOTS).fill('');
    }
    // A copy: the frame's memory belongs to the chunk it arrived in.
    this.#bytes[slot] = Buffer.from(body.subarray(start, end));
    this.#names[slot] = name;
    return name;
  }
}
