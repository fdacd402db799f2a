import { randomBytes, timingSafeEqual } from 'node:crypto';
import { RESUME_PROOF_BYTES, resumeProof, SESSION_ID_BYTES, SESSION_SECRET_BYTES } from './session-messages.js';
import { SYSTEM_TIMERS, type SessionTimers } from './timers.js';

/** Options of a {@link SessionStore}. */
export interface SessionStoreOptions<T> {
  /** How long a session without a link is kept, in milliseconds. */
  ttlMs: number;
  /** Called once when a detached session's ttl passes (it is already forgotten then). */
  onExpire: (value: T) => void;
  /** Timer functions (injectable for tests). */
  timers?: SessionTimers;
  /**
   * Ids of expired sessions remembered, to answer "expired" rather than "unknown".
   * @default 1024
   */
  maxExpired?: number;
}

/** What a lookup found. */
export type SessionLookup<T> = { readonly status: 'found'; readonly value: T } | { readonly status: 'unknown' | 'expired' };

interface Entry<T> {
  readonly value: T;
  readonly owner: Uint8Array | undefined;
  /** Keys the proof of the next resume; replaced by every {@link SessionStore.rotate}. */
  secret: Buffer;
  timer: unknown;
}

/** A session as created or resumed: its id and the secret to send the client (SESSION_ACCEPT). */
export interface SessionKeys {
  readonly id: Buffer;
  readonly secret: Buffer;
}

/** How a link asks to resume: the id, its proof over the nonce of this link's HELLO, and its identity. */
export interface ResumeClaim {
  readonly id: Buffer;
  readonly proof: Buffer;
  readonly nonce: Buffer;
  /** Identity of the link (undefined: none). */
  readonly owner: Uint8Array | undefined;
}

const FOUND_UNKNOWN: SessionLookup<never> = Object.freeze({ status: 'unknown' });
const FOUND_EXPIRED: SessionLookup<never> = Object.freeze({ status: 'expired' });

function sameOwner(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

/**
 * The sessions a server keeps: random 16-byte ids, each bound to the identity (owner) of the link
 * that created it. A session with a link lives until it is forgotten; one without ({@link
 * SessionStore.detach}) is forgotten `ttlMs` later unless a link takes it back first.
 */
export class SessionStore<T> {
  readonly ttlMs: number;
  readonly #onExpire: (value: T) => void;
  readonly #timers: SessionTimers;
  readonly #maxExpired: number;
  readonly #entries = new Map<string, Entry<T>>();
  /** Insertion-ordered set of expired ids (oldest first). */
  readonly #expired = new Set<string>();

  constructor(options: SessionStoreOptions<T>) {
    this.ttlMs = options.ttlMs;
    this.#onExpire = options.onExpire;
    this.#timers = options.timers ?? SYSTEM_TIMERS;
    this.#maxExpired = options.maxExpired ?? 1024;
  }

  /** Sessions kept (with or without a link). */
  get size(): number {
    return this.#entries.size;
  }

  /** Sessions waiting for a link (each with a ttl timer). */
  get detached(): number {
    let count = 0;
    for (const entry of this.#entries.values()) if (entry.timer !== undefined) count++;
    return count;
  }

  /**
   * Creates a session (attached: no ttl running).
   * @param owner the identity of the link creating it (undefined: no identity, any link may resume it).
   * @returns its new id and secret.
   */
  create(value: T, owner: Uint8Array | undefined): SessionKeys {
    let id: Buffer;
    let key: string;
    do {
      id = randomBytes(SESSION_ID_BYTES);
      key = id.toString('hex');
    } while (this.#entries.has(key) || /* the all-zero id means "none" */ id.every((byte) => byte === 0));
    const secret = randomBytes(SESSION_SECRET_BYTES);
    this.#entries.set(key, { value, owner: owner === undefined ? undefined : Uint8Array.from(owner), secret, timer: undefined });
    return { id, secret };
  }

  /**
   * Finds the session a link claims. It is found only when the proof matches the session's current
   * secret and this link's nonce, and the link's identity is the session's: anything else is
   * reported `unknown`, exactly like an id that was never issued.
   */
  lookup(claim: ResumeClaim): SessionLookup<T> {
    const key = claim.id.toString('hex');
    const entry = this.#entries.get(key);
    if (entry === undefined) return this.#expired.has(key) ? FOUND_EXPIRED : FOUND_UNKNOWN;
    const expected = resumeProof(entry.secret, claim.nonce, claim.id);
    if (claim.proof.length !== RESUME_PROOF_BYTES || !timingSafeEqual(expected, claim.proof)) return FOUND_UNKNOWN;
    if (!sameOwner(entry.owner, claim.owner)) return FOUND_UNKNOWN;
    return { status: 'found', value: entry.value };
  }

  /**
   * A link resumed the session: a fresh secret for its SESSION_ACCEPT (a proof seen before is worth
   * nothing now).
   * @returns the id and the new secret; undefined for an unknown id.
   */
  rotate(id: Buffer): SessionKeys | undefined {
    const entry = this.#entries.get(id.toString('hex'));
    if (entry === undefined) return undefined;
    entry.secret = randomBytes(SESSION_SECRET_BYTES);
    return { id, secret: entry.secret };
  }

  /** The session's link dropped: start its ttl (restarted if running). Unknown ids are ignored. */
  detach(id: Uint8Array): void {
    const key = Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#timers.clearTimeout(entry.timer);
    entry.timer = this.#timers.setTimeout(() => this.#expire(key, entry), this.ttlMs);
  }

  /** A link took the session back: its ttl stops. */
  attach(id: Uint8Array): void {
    const entry = this.#entries.get(Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex'));
    if (entry === undefined || entry.timer === undefined) return;
    this.#timers.clearTimeout(entry.timer);
    entry.timer = undefined;
  }

  /** The session ended (closed for good): forget it now, without calling `onExpire`. */
  forget(id: Uint8Array): void {
    const key = Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#timers.clearTimeout(entry.timer);
    this.#entries.delete(key);
  }

  /** Forgets every session (the server closed), cancelling every ttl; `onExpire` is not called. */
  clear(): void {
    for (const entry of this.#entries.values()) this.#timers.clearTimeout(entry.timer);
    this.#entries.clear();
    this.#expired.clear();
  }

  #expire(key: string, entry: Entry<T>): void {
    if (this.#entries.get(key) !== entry) return;
    entry.timer = undefined;
    this.#entries.delete(key);
    this.#expired.add(key);
    if (this.#expired.size > this.#maxExpired) {
      const oldest = this.#expired.values().next().value;
      if (oldest !== undefined) this.#expired.delete(oldest);
    }
    this.#onExpire(entry.value);
  }
}
