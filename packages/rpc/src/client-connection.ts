import type { NsExtension, NsSocket } from '@proto/ns';
import { ClientHandshake } from './client-handshake.js';
import { authChannel } from './diagnostics.js';
import { AbortedError, ConnectionClosedError, NotConnectedError, ProtocolError } from './errors.js';
import type { KeepAliveOptions } from './keepalive.js';
import type { SerialDeriver } from './key-derivation.js';
import type { LinkOwner } from './link-owner.js';
import type { Link } from './link.js';
import { LinkSetup } from './link-setup.js';
import { FailedStream } from './outgoing-stream.js';
import { nextServerLinkId } from './peer.js';
import type { RequestOptions } from './request-options.js';
import { RPC_LINK_MESSAGE_TYPES } from './session-owner.js';
import type { StreamOptions } from './stream-options.js';

/** What the links of one client share: credentials, limits, and the owner their links report to. */
export interface ClientSide {
  readonly owner: LinkOwner;
  readonly password: string | Uint8Array;
  readonly username: string;
  readonly authTimeoutMs: number;
  readonly keepAlive: Required<KeepAliveOptions> | false;
  readonly authMaxFrameBytes: number;
  /** The client's key derivations, one at a time (a hostile server cannot pile them up). */
  readonly keys: SerialDeriver;
}

/**
 * The ns extension of an `RpcClient`, the client's counterpart of the server's `Connection`: each
 * ns link opens with a handshake and becomes an rpc {@link Link}; with `resume`, the rpc link is
 * kept across a link drop while the session lives.
 */
export class ClientConnection implements NsExtension {
  readonly #side: ClientSide;
  /** The current ns link's setup: its handshake, then its rpc link. */
  #setup: LinkSetup | undefined = undefined;
  #handshake: ClientHandshake | undefined = undefined;
  /** With `resume`: the rpc link kept across a link drop while the session lives. */
  #kept: Link | undefined = undefined;
  /** ns `resume`: handshake and keepalive are link messages. */
  readonly linkMessageTypes = RPC_LINK_MESSAGE_TYPES;

  constructor(side: ClientSide) {
    this.#side = side;
  }

  /** The authenticated link of the current ns link. */
  get link(): Link | undefined {
    return this.#setup?.link;
  }

  /** `client.request`: `ERR_NOT_CONNECTED` (or `ERR_ABORTED`) at once without a link. */
  request(method: string, params: unknown, options: RequestOptions | undefined): Promise<unknown> {
    // In a resumable session, a request made while the link is down waits in the window.
    const link = this.#setup?.link ?? this.#kept;
    if (link !== undefined) return link.request(method, params, options);
    const signal = options?.signal;
    if (signal?.aborted === true) return Promise.reject(new AbortedError(`request ${method} aborted before it was sent`, { cause: signal.reason }));
    return Promise.reject(new NotConnectedError(`cannot send request ${method}: not connected`));
  }

  /** `client.stream`: a stream failing with `ERR_NOT_CONNECTED` (or `ERR_ABORTED`) without a link. */
  stream(method: string, params: unknown, options: StreamOptions | undefined): AsyncIterableIterator<unknown> {
    // As for requests: in a resumable session the stream waits in the window.
    const link = this.#setup?.link ?? this.#kept;
    if (link !== undefined) return link.streams.open(method, params, options);
    const signal = options?.signal;
    if (signal?.aborted === true) return new FailedStream(new AbortedError(`stream ${method} aborted before it was opened`, { cause: signal.reason }));
    return new FailedStream(new NotConnectedError(`cannot open stream ${method}: not connected`));
  }

  onMessage(_socket: NsSocket, type: number, body: Buffer): void {
    const setup = this.#setup;
    if (setup === undefined) throw new ProtocolError(`unexpected rpc message 0x${type.toString(16)}`);
    // Authenticated: straight to the link (the setup only routes the handshake's messages).
    const link = setup.link;
    if (link !== undefined) link.onMessage(type, body);
    else setup.onMessage(type, body);
  }

  onLinkOpening(socket: NsSocket, signal: AbortSignal): Promise<void> {
    const side = this.#side;
    const setup = new LinkSetup(socket, side.owner, side.keepAlive, side.authMaxFrameBytes);
    const handshake = new ClientHandshake(
      socket,
      { password: side.password, username: side.username, authTimeoutMs: side.authTimeoutMs, keys: side.keys },
      // With a resumable session the link kept from before the drop goes on (its requests, calls, streams).
      () => setup.authenticated(nextServerLinkId(), side.username, this.#kept),
    );
    setup.handshake = handshake;
    this.#setup = setup;
    this.#handshake = handshake;
    signal.addEventListener('abort', () => handshake.fail(new ConnectionClosedError('the link closed during authentication')), {
      once: true,
    });
    return handshake.promise.then(
      () => {
        this.#handshake = undefined;
        if (authChannel.hasSubscribers) {
          authChannel.publish({ side: 'client', address: socket.remoteAddress, ok: true });
        }
      },
      (error: Error) => {
        if (authChannel.hasSubscribers) {
          authChannel.publish({ side: 'client', address: socket.remoteAddress, ok: false, reason: error.message });
        }
        throw error;
      },
    );
  }

  onLinkClosed(socket: NsSocket, error: Error | undefined): void {
    this.#handshake?.fail(new ConnectionClosedError('the link closed during authentication'));
    this.#handshake = undefined;
    const setup = this.#setup;
    this.#setup = undefined;
    const link = setup?.link ?? this.#kept;
    if (link !== undefined && socket.inSession) {
      // ns keeps the session: what is in flight is answered after the resume; timeouts keep running.
      link.keepAlive?.stop();
      this.#kept = link;
      return;
    }
    this.#kept = undefined;
    setup?.closed(error);
  }

  /** ns `resume`: the session continues on a new link. */
  onLinkResumed(): void {
    this.#setup?.link?.keepAlive?.start();
  }

  /** ns `resume`: the session ended or was lost: what was in flight in it fails; a new link (if any) starts afresh. */
  onSessionLost(): void {
    const old = this.#kept ?? this.#setup?.link;
    this.#kept = undefined;
    old?.closed(new ConnectionClosedError('the session was lost'));
    const setup = this.#setup;
    if (setup !== undefined && setup.link === old && old !== undefined) setup.authenticated(nextServerLinkId(), this.#side.username);
  }
}
