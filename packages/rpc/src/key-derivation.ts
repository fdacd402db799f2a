import { createHash, scrypt } from 'node:crypto';
import { BoundedCache } from '@proto/ns/internal';

/** scrypt cost parameters, chosen by the server and announced in its challenge. */
export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  readonly log2N: number;
  /** Block size r. */
  readonly r: number;
  /** Parallelisation p. */
  readonly p: number;
}

/** N = 2^14, r = 8, p = 1: ~16 MiB and a few tens of milliseconds, once per password and salt. */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { log2N: 14, r: 8, p: 1 };

/** Bytes in a derived key, a nonce, and a proof. */
export const KEY_BYTES = 32;

/** The cheapest derivation a client agrees to: N = 2^10 (a cheaper one would make offline guessing cheap). */
export const MIN_LOG2N = 10;
/**
 * The most memory-and-work a server may ask of a client for one derivation: `128 * N * r * p`
 * bytes, 64 MiB. scrypt holds `128 * N * r` bytes while it runs and works `p` times through them,
 * so this bounds both the memory (64 MiB) and the CPU (that of one 64 MiB derivation) a server
 * that does not know the password can make a client spend per connection attempt. The default
 * cost is 16 MiB.
 */
export const MAX_SCRYPT_BYTES = 64 * 1024 * 1024;

/** Bytes of work of one derivation with `params`: `128 * N * r * p`. */
export function scryptCost(params: ScryptParams): number {
  return 128 * 2 ** params.log2N * params.r * params.p;
}

/** Whether a client should agree to derive a key with these parameters. */
export function acceptableScryptParams(params: ScryptParams): boolean {
  return params.log2N >= MIN_LOG2N && params.r >= 1 && params.p >= 1 && scryptCost(params) <= MAX_SCRYPT_BYTES;
}

/** Derive the shared key from a password (UTF-8 when a string) and the server's salt. */
export function deriveKey(password: string | Uint8Array, salt: Uint8Array, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.log2N;
  // scrypt needs 128 * N * r bytes; leave headroom so Node's default 32 MiB cap never refuses a
  // cost we accepted.
  const maxmem = 256 * N * params.r + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_BYTES, { N, r: params.r, p: params.p, maxmem }, (err, key) => {
      if (err) reject(err);
      else resolve(key);
    });
  });
}

/**
 * Derived keys by password (server side, for `authenticate` lookups) or by salt (client side), so
 * each is derived once: the expensive part of the handshake never runs per connection. Holds the
 * promise so concurrent handshakes share one derivation. Bounded; the oldest entry goes first.
 */
export class KeyCache {
  readonly #entries: BoundedCache<string, Promise<Buffer>>;

  constructor(maxEntries = 64) {
    this.#entries = new BoundedCache(maxEntries);
  }

  /** Number of cached keys. */
  get size(): number {
    return this.#entries.size;
  }

  /** The key for `password` under `salt`, deriving it on first use. */
  get(password: string | Uint8Array, salt: Uint8Array, params: ScryptParams): Promise<Buffer> {
    const id = cacheId(password, salt, params);
    const entries = this.#entries;
    let key = entries.get(id);
    if (key === undefined) {
      key = entries.set(id, deriveKey(password, salt, params));
      // A failed derivation must not stay cached.
      const derived = key;
      derived.catch(() => {
        if (entries.get(id) === derived) entries.delete(id);
      });
    }
    return key;
  }
}

function cacheId(password: string | Uint8Array, salt: Uint8Array, params: ScryptParams): string {
  // Hashed so the cache's keys are not the passwords themselves.
  const hash = createHash('sha256');
  hash.update(typeof password === 'string' ? Buffer.from(password, 'utf8') : password);
  hash.update('\0');
  hash.update(salt);
  hash.update(`\0${params.log2N}:${params.r}:${params.p}`);
  return hash.digest('base64');
}

/**
 * One client's derivations, run one at a time. A handshake that needs a key waits until the
 * client's previous derivation (perhaps for an attempt that already failed: scrypt cannot be
 * stopped once started) has finished, and gives up without deriving if its own handshake failed
 * meanwhile. So reconnecting to a server that asks for a new salt every time never runs more than
 * one derivation of this client at once, and {@link SerialDeriver.idle} tells when none runs.
 */
export class SerialDeriver {
  readonly #cache: KeyCache;
  #running: Promise<void> | undefined;

  constructor(cache: KeyCache) {
    this.#cache = cache;
  }

  /** Whether a derivation of this client is running. */
  get busy(): boolean {
    return this.#running !== undefined;
  }

  /**
   * The key for `password` under `salt` (from the cache when another handshake derived it), or
   * undefined when `signal` aborted before this client could start deriving.
   */
  async derive(password: string | Uint8Array, salt: Uint8Array, params: ScryptParams, signal: AbortSignal): Promise<Buffer | undefined> {
    while (this.#running !== undefined) {
      await this.#running;
      if (signal.aborted) return undefined;
    }
    if (signal.aborted) return undefined;
    const key = this.#cache.get(password, salt, params);
    const running = key.then(
      () => undefined,
      () => undefined,
    );
    this.#running = running;
    void running.then(() => {
      if (this.#running === running) this.#running = undefined;
    });
    return key;
  }

  /** Resolves once no derivation of this client is running. */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }
}
