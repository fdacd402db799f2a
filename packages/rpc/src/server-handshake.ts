import { setTimeout as delay } from 'node:timers/promises';
import type { NsSocket } from '@proto/ns';
import type { AuthThrottle, CheckReservation } from './auth-throttle.js';
import { AuthFailedError, AuthTimeoutError, ConnectionClosedError, OverloadedError, ProtocolError } from './errors.js';
import {
  AuthFailCode,
  CHANNEL_BINDING_BYTES,
  CHANNEL_BINDING_LABEL,
  clientProof,
  createNonce,
  decodeProof,
  encodeChallenge,
  FLAG_CHANNEL_BINDING,
  proofsMatch,
  serverProof,
  type Transcript,
} from './handshake.js';
import type { ScryptParams } from './key-derivation.js';
import { RpcMessageType, PROTOCOL_VERSION } from './message-types.js';

/** Why a server refused a connection, as reported by `authFailed`. */
export type AuthFailureReason =
  /** The proof did not match the password. */
  | 'wrong-password'
  /** `authenticate` returned undefined for this username (or threw). */
  | 'unknown-user'
  /** The client said nothing (or not enough) within `authTimeoutMs`. */
  | 'timeout'
  /**
   * The client sent something other than a well-formed handshake, or broke the protocol of the
   * layers below before authenticating (a user event before READY, a frame over `authMaxFrameBytes`).
   * Counts as a failure of its address for the throttle.
   */
  | 'protocol-error'
  /**
   * `maxPendingAuth` connections were already authenticating, or this connection's address held
   * more than `maxPendingAuthPerAddress` of them and another address needed a slot.
   */
  | 'too-many-pending'
  /**
   * Refused before the rpc handshake, at the TLS layer: the TLS handshake failed (no or an
   * untrusted client certificate, a plain-TCP peer) or `tls.isClientAllowed` refused the certificate.
   * Its `address` is undefined (the socket is gone before rpc sees it); the error is on `authFailed`'s `error`.
   */
  | 'tls-rejected';

/** Who is trying to authenticate: the argument of `authenticate`. */
export interface AuthInfo {
  /** Remote IP address (undefined over a Unix socket). */
  readonly address: string | undefined;
  /** The username the client sent (`''` when it gave none). */
  readonly username: string;
}

/** What the server side of the handshake needs. */
export interface ServerAuthConfig {
  readonly salt: Buffer;
  readonly params: ScryptParams;
  readonly authTimeoutMs: number;
  readonly throttle: AuthThrottle | undefined;
  /**
   * The derived key for this user, or undefined to refuse. Must cost the same for unknown users
   * as for known ones (see `user-keys.ts`).
   */
  keyFor(info: AuthInfo): Promise<Buffer | undefined>;
  /** A key no password derives: the proof of an unknown user is computed with it all the same. */
  readonly decoyKey: Buffer;
}

/** Errors of the layers below that mean the peer broke the protocol (not that it went away). */
const PEER_FAULT_CODES: ReadonlySet<unknown> = new Set(['ERR_PROTOCOL', 'ERR_FRAME_TOO_LARGE']);

/** Raised when the handshake fails; `reason` feeds `authFailed` (not for `'disconnected'`). */
export class HandshakeFailure {
  readonly reason: AuthFailureReason | 'disconnected';
  readonly error: Error;
  constructor(reason: AuthFailureReason | 'disconnected', error: Error) {
    this.reason = reason;
    this.error = error;
  }
}

const Stage = { PROOF: 0, CHECKING: 1, DONE: 2 } as const;
type Stage = (typeof Stage)[keyof typeof Stage];

function onTimeout(handshake: ServerHandshake): void {
  handshake.timedOut();
}

/**
 * Server side of one link's handshake. Sends the challenge at once, waits for the proof (within
 * `authTimeoutMs`), checks it in constant time with the throttle's spacing for addresses that
 * failed before, and answers with its own proof. A refusal is answered after the throttle's delay.
 * The promise resolves with the username, or rejects with a {@link HandshakeFailure}.
 */
export class ServerHandshake {
  readonly promise: Promise<string>;
  readonly #socket: NsSocket;
  readonly #config: ServerAuthConfig;
  readonly #address: string | undefined;
  readonly #serverNonce = createNonce();
  readonly #channelBinding: Buffer | undefined;
  readonly #flags: number;
  readonly #abort = new AbortController();
  readonly #onAuthenticated: (username: string) => void;
  #timer: NodeJS.Timeout | undefined;
  #stage: Stage = Stage.PROOF;
  #resolve!: (username: string) => void;
  #reject!: (failure: HandshakeFailure) => void;

  constructor(socket: NsSocket, config: ServerAuthConfig, onAuthenticated: (username: string) => void) {
    this.#socket = socket;
    this.#config = config;
    this.#onAuthenticated = onAuthenticated;
    this.#address = socket.remoteAddress;
    this.#channelBinding = socket.exportKeyingMaterial(CHANNEL_BINDING_BYTES, CHANNEL_BINDING_LABEL);
    this.#flags = this.#channelBinding === undefined ? 0 : FLAG_CHANNEL_BINDING;
    this.promise = new Promise<string>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Callers attach handlers later; a failure before that must not count as unhandled.
    this.promise.catch(() => {});
    this.#timer = setTimeout(onTimeout, config.authTimeoutMs, this);
    socket.sendExtension(
      RpcMessageType.AUTH_CHALLENGE,
      encodeChallenge({
        version: PROTOCOL_VERSION,
        flags: this.#flags,
        params: config.params,
        salt: config.salt,
        serverNonce: this.#serverNonce,
      }),
    );
  }

  /** Whether it has settled. */
  get done(): boolean {
    return this.#stage === Stage.DONE;
  }

  /** Whether it still waits for the client's proof. */
  get awaitingProof(): boolean {
    return this.#stage === Stage.PROOF;
  }

  /** An rpc message arrived while opening. Throws ProtocolError on anything but one proof. */
  onMessage(type: number, body: Buffer): void {
    if (this.#stage !== Stage.PROOF || type !== RpcMessageType.AUTH_PROOF) {
      const error = new ProtocolError(`unexpected rpc message 0x${type.toString(16)} before authentication`);
      this.#settleFailure(new HandshakeFailure('protocol-error', error));
      throw error;
    }
    let proof;
    try {
      proof = decodeProof(body);
      if (proof.version !== PROTOCOL_VERSION) {
        throw new ProtocolError(`client speaks rpc auth version ${proof.version}, this server ${PROTOCOL_VERSION}`);
      }
    } catch (error) {
      this.#settleFailure(new HandshakeFailure('protocol-error', error as Error));
      throw error;
    }
    this.#stage = Stage.CHECKING;
    // The proof came in time; what follows (the throttle's wait, at most maxDelayMs, and the
    // refusal's delay) is the server's own doing and not cut short by authTimeoutMs.
    this.#clearTimer();
    void this.#check(proof.username, proof.clientNonce, proof.proof);
  }

  /** @internal timer callback */
  timedOut(): void {
    this.#timer = undefined;
    this.#settleFailure(new HandshakeFailure('timeout', new AuthTimeoutError('the client did not authenticate in time')));
  }

  /** The server gave this connection's slot to another address: refuse it as overloaded. */
  evict(): void {
    this.#settleFailure(
      new HandshakeFailure('too-many-pending', new OverloadedError('too many connections authenticating from this address')),
    );
  }

  /**
   * The link closed first: stop everything. When it closed because the peer broke the protocol in
   * the layers below (ns: an event before READY, a frame over `authMaxFrameBytes`), the handshake
   * fails as `'protocol-error'`, like a malformed rpc message would.
   */
  abort(cause?: unknown): void {
    const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
    if (PEER_FAULT_CODES.has(code)) {
      this.#settleFailure(new HandshakeFailure('protocol-error', cause as Error));
      return;
    }
    this.#settleFailure(new HandshakeFailure('disconnected', new ConnectionClosedError('the link closed during authentication')));
  }

  async #check(username: string, clientNonce: Buffer, received: Buffer): Promise<void> {
    const throttle = this.#config.throttle;
    const address = this.#address ?? '';
    let reservation: CheckReservation | undefined;
    try {
      reservation = throttle?.reserveCheck(address, Date.now());
      if (reservation !== undefined && reservation.waitMs > 0) {
        await delay(reservation.waitMs, undefined, { signal: this.#abort.signal });
      }
      if (this.#stage !== Stage.CHECKING) return;
      if (reservation !== undefined) throttle!.checked(reservation, Date.now());
      reservation = undefined;
      let key: Buffer | undefined;
      try {
        key = await this.#config.keyFor({ address: this.#address, username });
      } catch {
        key = undefined;
      }
      if (this.#stage !== Stage.CHECKING) return;
      const transcript: Transcript = {
        flags: this.#flags,
        channelBinding: this.#channelBinding,
        params: this.#config.params,
        salt: this.#config.salt,
        serverNonce: this.#serverNonce,
        clientNonce,
        username,
      };
      // Unknown users cost the same work as known ones.
      const expected = clientProof(key ?? this.#config.decoyKey, transcript);
      if (key === undefined || !proofsMatch(received, expected)) {
        await this.#refuse(key === undefined ? 'unknown-user' : 'wrong-password');
        return;
      }
      throttle?.recordSuccess(address);
      this.#socket.sendExtension(RpcMessageType.AUTH_OK, serverProof(key, transcript));
      this.#stage = Stage.DONE;
      this.#onAuthenticated(username);
      this.#resolve(username);
    } catch (error) {
      // Aborted wait (link closed) or a send on a dead link.
      this.#settleFailure(new HandshakeFailure('disconnected', error as Error));
    } finally {
      // Hung up before its check: its place in the address's queue goes back.
      if (reservation !== undefined) throttle?.release(reservation);
    }
  }

  async #refuse(reason: AuthFailureReason): Promise<void> {
    // The answer waits out the throttle's delay (at most maxDelayMs).
    const throttle = this.#config.throttle;
    const wait = throttle?.recordFailure(this.#address ?? '', Date.now()) ?? 0;
    if (wait > 0) await delay(wait, undefined, { signal: this.#abort.signal });
    if (this.#stage !== Stage.CHECKING) return;
    sendFail(this.#socket, AuthFailCode.REJECTED);
    this.#settleFailure(new HandshakeFailure(reason, new AuthFailedError('authentication failed')));
  }

  #settleFailure(failure: HandshakeFailure): void {
    if (this.#stage === Stage.DONE) return;
    this.#stage = Stage.DONE;
    this.#clearTimer();
    this.#abort.abort();
    this.#reject(failure);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }
}

/** Send AUTH_FAIL, ignoring a link that is already gone. */
export function sendFail(socket: NsSocket, code: number): void {
  try {
    socket.sendExtension(RpcMessageType.AUTH_FAIL, Buffer.from([code]));
  } catch {
    // nothing to tell a closed link
  }
}
