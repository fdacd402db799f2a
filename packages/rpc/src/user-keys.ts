import { createHmac, randomBytes } from 'node:crypto';
import { toError } from '@proto/ns/internal';
import { KeyCache, type ScryptParams } from './key-derivation.js';
import type { AuthInfo } from './server-handshake.js';

/** Looks up the password of a connecting client; `undefined` refuses it. */
export type Authenticate = (
  info: AuthInfo,
) => string | Uint8Array | undefined | Promise<string | Uint8Array | undefined>;

/** What {@link userKeyLookup} needs. */
export interface UserKeyOptions {
  readonly salt: Buffer;
  readonly params: ScryptParams;
  /** The lookup of `RpcServer`'s `authenticate` option. */
  readonly authenticate: Authenticate;
  /** Keys of real passwords, shared by users with the same password. */
  readonly keys: KeyCache;
  /** `authenticate` threw: the client is refused as unknown; the server reports the error. */
  readonly onLookupError: (error: Error) => void;
}

/**
 * `keyFor` of a server with `authenticate`: the key of the user's password, or undefined to refuse.
 *
 * Refusing must not say whether the user exists. A known user's key costs one scrypt derivation
 * the first time its password is seen (then it is cached); so an unknown user (lookup returned
 * nothing, an empty password, or threw) costs one derivation too, of a decoy secret derived from
 * the username, cached the same way in a cache of its own (so unknown names cannot push real keys
 * out). Either way the first refusal of a name derives once and later ones derive nothing.
 */
export function userKeyLookup(options: UserKeyOptions): (info: AuthInfo) => Promise<Buffer | undefined> {
  const { salt, params, authenticate, keys, onLookupError } = options;
  const decoys = new KeyCache(256);
  const decoySeed = randomBytes(32);
  const decoy = async (username: string): Promise<undefined> => {
    const secret = createHmac('sha256', decoySeed).update(username, 'utf8').digest();
    await decoys.get(secret, salt, params);
    return undefined;
  };
  return async (info) => {
    let secret: string | Uint8Array | undefined;
    try {
      secret = await authenticate(info);
    } catch (error) {
      onLookupError(toError(error));
      return decoy(info.username);
    }
    if (secret === undefined || (typeof secret === 'string' ? secret.length === 0 : secret.byteLength === 0)) {
      return decoy(info.username);
    }
    return keys.get(secret, salt, params);
  };
}
