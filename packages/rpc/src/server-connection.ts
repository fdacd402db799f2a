import type { NsExtension, NsSocket } from '@proto/ns';
import { ProtocolError } from './errors.js';
import type { Link } from './link.js';
import type { PendingAuthHolder } from './pending-auth.js';
import type { ServerHandshake } from './server-handshake.js';

/** What a connection needs from its server. */
export interface ServerCore {
  opening(connection: Connection, socket: NsSocket, signal: AbortSignal): Promise<void>;
  closed(connection: Connection, error: Error | undefined): void;
}

/** Extension hooks of one accepted socket: routes rpc messages to its handshake, then its link. */
export class Connection implements NsExtension, PendingAuthHolder {
  readonly core: ServerCore;
  handshake: ServerHandshake | undefined = undefined;
  link: Link | undefined = undefined;
  /** Settles the opening promise of a refused connection once its link has closed. */
  settleRefused: ((error: Error) => void) | undefined = undefined;
  refuseTimer: NodeJS.Timeout | undefined = undefined;

  constructor(core: ServerCore) {
    this.core = core;
  }

  onMessage(_socket: NsSocket, type: number, body: Buffer): void {
    const link = this.link;
    if (link?.open === true) {
      link.onMessage(type, body);
      return;
    }
    const handshake = this.handshake;
    if (handshake !== undefined && !handshake.done) {
      handshake.onMessage(type, body);
      return;
    }
    throw new ProtocolError(`unexpected rpc message 0x${type.toString(16)} before authentication`);
  }

  onLinkOpening(socket: NsSocket, signal: AbortSignal): Promise<void> {
    return this.core.opening(this, socket, signal);
  }

  onLinkClosed(_socket: NsSocket, error: Error | undefined): void {
    this.core.closed(this, error);
  }

  /** PendingAuthHolder: another address needed this connection's authentication slot. */
  evicted(): void {
    this.handshake?.evict();
  }
}

/** Timer callback: a refused peer did not close its side in time. */
export function destroyRefused(socket: NsSocket): void {
  socket.destroy();
}
