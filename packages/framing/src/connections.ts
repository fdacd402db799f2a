import type * as net from 'node:net';
import type { ProtoError } from './errors.js';
import { type FramedSocket, setTracker, type SocketTracker, trackerOf } from './framed-socket.js';

/** Where a connection's failure is reported (the server's `clientError`). */
export interface ClientErrorTarget {
  emit(eventName: 'clientError', error: ProtoError | NodeJS.ErrnoException, socket: FramedSocket | undefined): boolean;
}

const kConnections = Symbol('connections');

interface Tracked {
  [kConnections]: Connections;
}

// Per-connection handlers are module-level functions that find their tracker through the socket:
// no closure and no once-wrapper per connection (idle connections are many; each byte counts).
function clientOnError(this: FramedSocket, error: ProtoError | NodeJS.ErrnoException): void {
  (trackerOf(this) as Connections).target.emit('clientError', error, this);
}
function rawOnClose(this: net.Socket & Tracked): void {
  this[kConnections].handshakes.delete(this);
}

/**
 * The connections of one server: the open {@link FramedSocket}s (each leaves the set when it closes,
 * and its `error` is reported to the server as `clientError`), and the raw sockets of TLS
 * handshakes still in progress, which are not connections yet but must go when the server closes.
 */
export class Connections implements SocketTracker {
  /** Open connections. */
  readonly open = new Set<FramedSocket>();
  /** Raw sockets of TLS handshakes in progress. */
  readonly handshakes = new Set<net.Socket>();
  /** @internal Where `clientError` goes. */
  readonly target: ClientErrorTarget;

  constructor(target: ClientErrorTarget) {
    this.target = target;
  }

  /** Reports `socket`'s errors as `clientError` from now on (before it is adopted, or refused). */
  watch(socket: FramedSocket): void {
    setTracker(socket, this);
    socket.on('error', clientOnError);
  }

  /** Counts `socket` as open until it closes. */
  adopt(socket: FramedSocket): void {
    this.open.add(socket);
  }

  /** @internal `socket` closed (framing calls it before the socket's `close` event; no listener per connection). */
  socketClosed(socket: FramedSocket): void {
    this.open.delete(socket);
  }

  /** Keeps a raw socket whose TLS handshake is in progress, until it closes or {@link handshakeDone}. */
  handshakeStarted(raw: net.Socket): void {
    (raw as net.Socket & Tracked)[kConnections] = this;
    this.handshakes.add(raw);
    raw.on('close', rawOnClose);
  }

  /** The handshake on `raw` completed: it is a connection now (or about to be refused). */
  handshakeDone(raw: net.Socket): void {
    this.handshakes.delete(raw);
  }

  /** Ends every open connection gracefully; resolves when all have closed. */
  endAll(): Promise<void[]> {
    return Promise.all([...this.open].map((socket) => socket.end()));
  }

  /** Destroys handshakes in progress (they have nothing to flush). */
  dropHandshakes(): void {
    for (const raw of this.handshakes) raw.destroy();
  }

  /** Destroys everything still open. */
  destroyAll(): void {
    for (const socket of this.open) socket.destroy();
    this.dropHandshakes();
  }
}
