import { createHmac } from 'node:crypto';

const OWNER_LABEL = Buffer.from('proto-rpc/1 session owner');

/**
 * The identity a resumable session is bound to (PROTOCOL.md, "Binding a session to an identity"):
 * `HMAC-SHA256(key, "proto-rpc/1 session owner" ‖ [usernameLen u8][username utf8])`, with `key` the
 * scrypt key the link authenticated with. Only a link that authenticates again as the same user
 * with the same password computes the same value; it never crosses the wire.
 */
export function sessionOwner(key: Uint8Array, username: string): Buffer {
  const name = Buffer.from(username, 'utf8');
  return createHmac('sha256', key).update(OWNER_LABEL).update(Buffer.of(name.length)).update(name).digest();
}
