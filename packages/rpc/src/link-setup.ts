import type { NsSocket } from '@proto/ns';
import { ProtocolError } from './errors.js';
import type { KeepAliveOptions } from './keepalive.js';
import { Link } from './link.js';
import type { LinkOwner } from './link-owner.js';

/** The part of a client or server handshake the setup routes messages to. */
export interface OpeningHandshake {
  /** Finished (either way). */
  readonly done: boolean;
  /** Failed: it still takes (and drops) what follows, while its link is torn down. */
  readonly failed?: boolean;
  onMessage(type: number, body: Buffer): void;
}

/**
 * "Authenticate, then link", the same on both sides: one ns link starts with the small pre-auth
 * frame limit and every rpc message going to its handshake; the handshake's success restores the
 * limit and opens the {@link Link}, which takes every message from then on.
 */
export class LinkSetup {
  readonly socket: NsSocket;
  readonly #owner: LinkOwner;
  readonly #keepAlive: Required<KeepAliveOptions> | false;
  readonly #frameLimit: number;
  /** Set right after construction: the handshake needs {@link LinkSetup.authenticated} as its callback. */
  handshake: OpeningHandshake | undefined = undefined;
  /** The authenticated link; undefined before the handshake succeeded and after the link closed. */
  link: Link | undefined = undefined;

  constructor(socket: NsSocket, owner: LinkOwner, keepAlive: Required<KeepAliveOptions> | false, authMaxFrameBytes: number) {
    this.socket = socket;
    this.#owner = owner;
    this.#keepAlive = keepAlive;
    this.#frameLimit = socket.maxFrameBytes;
    socket.maxFrameBytes = Math.min(this.#frameLimit, authMaxFrameBytes);
  }

  /** The handshake succeeded: restore the frame limit and open the link as `peerId` (it starts keepalive). */
  authenticated(peerId: string, username: string): Link {
    this.socket.maxFrameBytes = this.#frameLimit;
    const link = new Link(this.socket, this.#owner, this.#keepAlive, peerId, username);
    this.link = link;
    return link;
  }

  /** An rpc message arrived on this ns link. Throws ProtocolError on bad input. */
  onMessage(type: number, body: Buffer): void {
    const link = this.link;
    if (link !== undefined) {
      link.onMessage(type, body);
      return;
    }
    const handshake = this.handshake;
    if (handshake !== undefined && (!handshake.done || handshake.failed === true)) {
      handshake.onMessage(type, body);
      return;
    }
    throw new ProtocolError(`unexpected rpc message 0x${type.toString(16)} before authentication`);
  }

  /** The ns link closed: settle the link's requests. Returns the link that closed, if any. */
  closed(error: Error | undefined): Link | undefined {
    const link = this.link;
    this.link = undefined;
    link?.closed(error);
    return link;
  }
}
