import type { NsExtension, NsSocket } from '@proto/ns';
import type { AuthThrottle } from './auth-throttle.js';
import { ConnectionClosedError, ProtocolError } from './errors.js';
import { AuthFailCode } from './handshake.js';
import type { KeepAliveOptions } from './keepalive.js';
import type { Link } from './link.js';
import type { LinkOwner } from './link-owner.js';
import { RPC_LINK_MESSAGE_TYPES, sessionOwner } from './session-owner.js';
import { LinkSetup } from './link-setup.js';
import type { PendingAuthHolder, PendingAuthPool } from './pending-auth.js';
import {
  type AuthFailureReason,
  type HandshakeFailure,
  sendFail,
  type ServerAuthConfig,
  ServerHandshake,
} from './server-handshake.js';

/**
 * Where an accepted connection is: `authenticating` (handshake running, holding a pending-auth
 * slot), `open` (authenticated, its {@link Link} serves requests), `refusing` (AUTH_FAIL sent,
 * waiting for the peer to close, destroyed after `authTimeoutMs`), `closed`.
 */
export type ConnectionState = 'authenticating' | 'open' | 'refusing' | 'closed';

/** What the connections of one server share with it. */
export interface ServerSide {
  readonly auth: ServerAuthConfig;
  readonly owner: LinkOwner;
  readonly keepAlive: Required<KeepAliveOptions> | false;
  readonly authMaxFrameBytes: number;
  readonly authTimeoutMs: number;
  readonly pendingAuth: PendingAuthPool<Connection>;
  readonly throttle: AuthThrottle | undefined;
  /** An id for a client that just authenticated (see PeerRegistry.newPeerId). */
  newPeerId(): string;
  /** `close()` was called: new connections are refused. */
  readonly closing: boolean;
  /** A connection was refused during authentication. */
  authFailed(address: string | undefined, reason: AuthFailureReason): void;
  /** An open connection's link closed. */
  linkClosed(link: Link): void;
}

function destroyRefused(socket: NsSocket): void {
  socket.destroy();
}

/**
 * Admission of one accepted socket, as a state machine (see {@link ConnectionState}): the ns
 * extension of that socket, so ns hands it the opening, every rpc message and the close.
 */
export class Connection implements NsExtension, PendingAuthHolder {
  readonly #server: ServerSide;
  #state: ConnectionState = 'authenticating';
  #setup: LinkSetup | undefined = undefined;
  #handshake: ServerHandshake | undefined = undefined;
  /** Settles the opening promise of a refused connection once its link has closed. */
  #settleRefused: ((error: Error) => void) | undefined = undefined;
  #refuseTimer: NodeJS.Timeout | undefined = undefined;
  /**
   * The identity the link authenticated as (binds a resumable session, see session-owner.ts),
   * computed on first use from the key and username it authenticated with: most servers never
   * resume, and the digest costs ~200 bytes a peer (the key is the server's, shared by its peers).
   */
  #sessionOwner: Buffer | undefined = undefined;
  #authKey: Buffer | undefined = undefined;
  #username = '';
  /** ns `resume`: handshake and keepalive are link messages. */
  readonly linkMessageTypes = RPC_LINK_MESSAGE_TYPES;

  constructor(server: ServerSide) {
    this.#server = server;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The authenticated link while `open`. */
  get link(): Link | undefined {
    return this.#state === 'open' ? this.#setup?.link : undefined;
  }

  onMessage(_socket: NsSocket, type: number, body: Buffer): void {
    const setup = this.#setup;
    if (setup === undefined) throw new ProtocolError(`unexpected rpc message 0x${type.toString(16)} before authentication`);
    // Authenticated: straight to the link (the setup only routes the handshake's messages).
    const link = setup.link;
    if (link !== undefined) link.onMessage(type, body);
    else setup.onMessage(type, body);
  }

  onLinkOpening(socket: NsSocket, signal: AbortSignal): Promise<void> {
    const server = this.#server;
    const address = socket.remoteAddress;
    if (server.closing) return Promise.reject(new ConnectionClosedError('the server is shutting down'));
    // First of all (the setup lowers the frame limit): a connection refused below reads no more
    // than authMaxFrameBytes either.
    const setup = new LinkSetup(socket, server.owner, server.keepAlive, server.authMaxFrameBytes);
    this.#setup = setup;
    // Unix-socket peers have no address: they share one, as in the auth throttle.
    if (!server.pendingAuth.acquire(address ?? '', this)) {
      server.authFailed(address, 'too-many-pending');
      return this.#refuse(socket, AuthFailCode.OVERLOADED);
    }
    let handshake: ServerHandshake;
    try {
      handshake = new ServerHandshake(socket, server.auth, (username, key) => {
        setup.authenticated(server.newPeerId(), username);
        this.#authKey = key;
        this.#username = username;
        this.#state = 'open';
      });
    } catch (error) {
      server.pendingAuth.release(this);
      return Promise.reject(error);
    }
    setup.handshake = handshake;
    this.#handshake = handshake;
    // ns aborts with the link's error: a protocol error of the layers below fails the handshake.
    signal.addEventListener('abort', () => handshake.abort(signal.reason), { once: true });
    return handshake.promise.then(
      () => {
        server.pendingAuth.release(this);
        // The link takes every message from now on: let the handshake (nonces, key material, its
        // abort controller: ~1.6 KiB a peer) be collected.
        this.#handshake = undefined;
        setup.handshake = undefined;
      },
      (failure: HandshakeFailure) => this.#failed(socket, address, failure),
    );
  }

  onLinkClosed(socket: NsSocket, error: Error | undefined): void {
    const open = this.link;
    if (open !== undefined && socket.inSession) {
      // The session waits for the client: requests, calls and streams go on; keepalive resumes with the link.
      open.keepAlive?.stop();
      return;
    }
    this.#state = 'closed';
    this.#handshake?.abort(error);
    if (this.#refuseTimer !== undefined) clearTimeout(this.#refuseTimer);
    this.#settleRefused?.(new ConnectionClosedError('connection refused'));
    this.#settleRefused = undefined;
    const link = this.#setup?.closed(error);
    if (link !== undefined) this.#server.linkClosed(link);
  }

  /** ns `resume`: the identity of this link. */
  sessionOwner(): Uint8Array | undefined {
    if (this.#sessionOwner === undefined && this.#authKey !== undefined) this.#sessionOwner = sessionOwner(this.#authKey, this.#username);
    return this.#sessionOwner;
  }

  /** ns `resume`: the session continues on a new link (moved into this socket). */
  onLinkResumed(): void {
    this.link?.keepAlive?.start();
  }

  /** ns `resume`: the session is over; what was in flight in it fails. */
  onSessionLost(): void {
    this.#state = 'closed';
    const link = this.#setup?.closed(new ConnectionClosedError('the session ended'));
    if (link !== undefined) this.#server.linkClosed(link);
  }

  /** PendingAuthHolder: may a newcomer of the same address take this slot (no proof sent yet)? */
  awaitingProof(): boolean {
    return this.#handshake?.awaitingProof ?? true;
  }

  /** PendingAuthHolder: another connection needed this connection's authentication slot. */
  evicted(): void {
    this.#handshake?.evict();
  }

  /** `address` as at accept time: a socket that failed may have lost its own by now. */
  #failed(socket: NsSocket, address: string | undefined, failure: HandshakeFailure): Promise<void> {
    const server = this.#server;
    server.pendingAuth.release(this);
    if (failure.reason === 'disconnected') throw failure.error;
    if (failure.reason === 'too-many-pending') {
      // Evicted for another address (its slot is already taken again).
      server.authFailed(address, failure.reason);
      return this.#refuse(socket, AuthFailCode.OVERLOADED);
    }
    if (failure.reason === 'protocol-error') server.throttle?.recordFailure(address ?? '', Date.now());
    server.authFailed(address, failure.reason);
    if (failure.reason === 'wrong-password' || failure.reason === 'unknown-user') {
      // AUTH_FAIL was sent: close gracefully so it reaches the client.
      return this.#closeRefused(socket, failure.error);
    }
    throw failure.error;
  }

  /** Refuse with AUTH_FAIL (`code`) and close once that is flushed. */
  #refuse(socket: NsSocket, code: number): Promise<void> {
    sendFail(socket, code);
    return this.#closeRefused(socket, new ConnectionClosedError('connection refused'));
  }

  /**
   * ns destroys a link whose opening rejects, dropping what was just sent; so end it gracefully
   * instead and settle the opening only once the link has closed (destroying it if the peer does
   * not close its side in time).
   */
  #closeRefused(socket: NsSocket, error: Error): Promise<void> {
    this.#state = 'refusing';
    return new Promise<void>((_resolve, reject) => {
      this.#settleRefused = reject;
      this.#refuseTimer = setTimeout(destroyRefused, this.#server.authTimeoutMs, socket);
      void socket.end();
    }).catch(() => {
      throw error;
    });
  }
}
