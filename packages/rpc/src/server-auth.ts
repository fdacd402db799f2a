import { randomBytes } from 'node:crypto';
import type { AuthThrottle } from './auth-throttle.js';
import { InvalidArgError } from './errors.js';
import { DEFAULT_SCRYPT_PARAMS, KeyCache } from './key-derivation.js';
import type { AuthInfo, ServerAuthConfig } from './server-handshake.js';
import { type Authenticate, userKeyLookup } from './user-keys.js';

/**
 * The server's side of authentication: a fresh salt, and the key of each client from the one
 * password (derived once, now: no connection ever pays for it) or from `authenticate` (see
 * `userKeyLookup`: keys cached per password, a decoy derivation for unknown users). A throwing
 * `authenticate` refuses the client as unknown and is reported.
 */
export function serverAuthConfig(
  password: string | Uint8Array | undefined,
  authenticate: Authenticate | undefined,
  authTimeoutMs: number,
  throttle: AuthThrottle | undefined,
  reportLookupError: (error: Error) => void,
): ServerAuthConfig {
  const salt = randomBytes(16);
  const params = DEFAULT_SCRYPT_PARAMS;
  const keys = new KeyCache(256);
  let keyFor: (info: AuthInfo) => Promise<Buffer | undefined>;
  if (authenticate !== undefined) {
    keyFor = userKeyLookup({ salt, params, authenticate, keys, onLookupError: reportLookupError });
  } else if (password !== undefined) {
    const key = keys.get(password, salt, params);
    key.catch(() => {});
    keyFor = () => key;
  } else {
    throw new InvalidArgError('RpcServer needs a password or an authenticate function');
  }
  return { salt, params, authTimeoutMs, throttle, keyFor, decoyKey: randomBytes(32) };
}
