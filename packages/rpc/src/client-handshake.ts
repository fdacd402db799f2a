import type { NsSocket } from '@proto/ns';
import { deferred } from '@proto/ns/internal';
import { AuthFailedError, AuthTimeoutError, OverloadedError, ProtocolError } from './errors.js';
import {
  AuthFailCode,
  CHANNEL_BINDING_BYTES,
  CHANNEL_BINDING_LABEL,
  clientProof,
  createNonce,
  decodeAuthOk,
  decodeChallenge,
  encodeProof,
  FLAG_CHANNEL_BINDING,
  KNOWN_CHALLENGE_FLAGS,
  proofsMatch,
  serverProof,
  type Transcript,
} from './handshake.js';
import { acceptableScryptParams, MAX_SCRYPT_BYTES, scryptCost, type SerialDeriver } from './key-derivation.js';
import { RpcMessageType, PROTOCOL_VERSION } from './message-types.js';

/** What the client side of the handshake needs. */
export interface ClientAuthConfig {
  readonly password: string | Uint8Array;
  readonly username: string;
  readonly authTimeoutMs: number;
  /**
   * This client's derivations, one at a time, over keys cached by password and salt (a reconnect
   * to the same server derives nothing).
   */
  readonly keys: SerialDeriver;
}

const Stage = { CHALLENGE: 0, DERIVING: 1, CONFIRMATION: 2, DONE: 3 } as const;
type Stage = (typeof Stage)[keyof typeof Stage];

function onTimeout(handshake: ClientHandshake): void {
  handshake.fail(new AuthTimeoutError('the server did not complete authentication in time'));
}

/**
 * Client side of one link's handshake: waits for the challenge, answers with a proof, and accepts
 * the link only if the server proves it holds the password too. `onAuthenticated` runs
 * synchronously with the confirmation, so a request the server sends right behind it is served.
 */
export class ClientHandshake {
  readonly promise: Promise<void>;
  readonly #socket: NsSocket;
  readonly #config: ClientAuthConfig;
  readonly #onAuthenticated: () => void;
  readonly #timer: NodeJS.Timeout;
  /** Aborted when the handshake fails: a derivation it still waits for is not started. */
  readonly #abort = new AbortController();
  #stage: Stage = Stage.CHALLENGE;
  #failed = false;
  #transcript: Transcript | undefined;
  #key: Buffer | undefined;
  readonly #settled = deferred();

  constructor(socket: NsSocket, config: ClientAuthConfig, onAuthenticated: () => void) {
    this.#socket = socket;
    this.#config = config;
    this.#onAuthenticated = onAuthenticated;
    this.promise = this.#settled.promise;
    this.#timer = setTimeout(onTimeout, config.authTimeoutMs, this);
  }

  /** Whether the handshake has settled. */
  get done(): boolean {
    return this.#stage === Stage.DONE;
  }

  /** Whether it settled as failed (the link is being closed with that error). */
  get failed(): boolean {
    return this.#failed;
  }

  /**
   * An rpc message arrived while opening. Throws ProtocolError on anything unexpected. After a
   * failure (a server proof that did not match, say) everything is dropped unread: the link is
   * closing with that failure, and nothing a server sent behind it is processed.
   */
  onMessage(type: number, body: Buffer): void {
    if (this.#failed) return;
    if (this.#stage === Stage.CHALLENGE && type === RpcMessageType.AUTH_CHALLENGE) {
      this.#stage = Stage.DERIVING;
      void this.#answer(body);
      return;
    }
    if (this.#stage === Stage.CONFIRMATION && type === RpcMessageType.AUTH_OK) {
      this.#confirm(body);
      return;
    }
    if (type === RpcMessageType.AUTH_FAIL && this.#stage !== Stage.DONE) {
      if (body.length !== 1) throw new ProtocolError(`malformed auth failure: ${body.length} bytes, not 1`);
      this.fail(
        body[0] === AuthFailCode.OVERLOADED
          ? new OverloadedError('the server has too many connections authenticating; try again later')
          : new AuthFailedError('the server refused the credentials'),
      );
      return;
    }
    throw new ProtocolError(`unexpected rpc message 0x${type.toString(16)} during authentication`);
  }

  /** Settle as failed (idempotent). */
  fail(error: Error): void {
    if (this.#stage === Stage.DONE) return;
    this.#stage = Stage.DONE;
    this.#failed = true;
    clearTimeout(this.#timer);
    this.#abort.abort(error);
    this.#settled.reject(error);
  }

  async #answer(body: Buffer): Promise<void> {
    try {
      const challenge = decodeChallenge(body);
      if (challenge.version !== PROTOCOL_VERSION) {
        throw new AuthFailedError(`the server speaks rpc auth version ${challenge.version}, this client ${PROTOCOL_VERSION}`);
      }
      if ((challenge.flags & ~KNOWN_CHALLENGE_FLAGS) !== 0) {
        // A later version's feature this client cannot honour: refuse rather than drop it silently.
        throw new AuthFailedError(`the server's challenge has unknown flags 0x${challenge.flags.toString(16).padStart(2, '0')}`);
      }
      if (!acceptableScryptParams(challenge.params)) {
        const { log2N, r, p } = challenge.params;
        throw new AuthFailedError(
          `the server asked for scrypt N=2^${log2N}, r=${r}, p=${p} (${scryptCost(challenge.params)} bytes of work); this client accepts N >= 2^10 and 128*N*r*p <= ${MAX_SCRYPT_BYTES}`,
        );
      }
      const channelBinding = this.#socket.exportKeyingMaterial(CHANNEL_BINDING_BYTES, CHANNEL_BINDING_LABEL);
      if (((challenge.flags & FLAG_CHANNEL_BINDING) !== 0) !== (channelBinding !== undefined)) {
        // One end sees TLS and the other does not: something sits in between.
        throw new AuthFailedError('channel binding mismatch: a TLS-terminating proxy between client and server?');
      }
      const key = await this.#config.keys.derive(this.#config.password, challenge.salt, challenge.params, this.#abort.signal);
      if (key === undefined || this.#stage !== Stage.DERIVING) return;
      const clientNonce = createNonce();
      const transcript: Transcript = {
        flags: challenge.flags,
        channelBinding,
        params: challenge.params,
        salt: challenge.salt,
        serverNonce: challenge.serverNonce,
        clientNonce,
        username: this.#config.username,
      };
      this.#transcript = transcript;
      this.#key = key;
      this.#stage = Stage.CONFIRMATION;
      this.#socket.sendExtension(
        RpcMessageType.AUTH_PROOF,
        encodeProof({ version: PROTOCOL_VERSION, clientNonce, proof: clientProof(key, transcript), username: this.#config.username }),
      );
    } catch (error) {
      this.fail(error as Error);
    }
  }

  #confirm(body: Buffer): void {
    const proof = decodeAuthOk(body);
    const expected = serverProof(this.#key!, this.#transcript!);
    if (!proofsMatch(proof, expected)) {
      this.fail(new AuthFailedError('the server could not prove it knows the password'));
      return;
    }
    this.#stage = Stage.DONE;
    clearTimeout(this.#timer);
    this.#onAuthenticated();
    this.#settled.resolve();
  }
}
