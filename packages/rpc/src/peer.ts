import type { Link, RequestOptions } from './link.js';
import { methodName } from './contract.js';

/** Counters of one connection. Reading `peer.stats` takes a fresh snapshot. */
export interface RpcPeerStats {
  /** Bytes received on this connection (framing headers included). */
  readonly bytesIn: number;
  /** Bytes sent. */
  readonly bytesOut: number;
  /** ns messages received (events and rpc messages). */
  readonly messagesIn: number;
  /** ns messages sent. */
  readonly messagesOut: number;
  /** Requests this side sent on the connection. */
  readonly requestsOut: number;
  /** Requests the other side sent on the connection. */
  readonly requestsIn: number;
  /** Requests this side sent that await their answer. */
  readonly inFlight: number;
  /** Requests from the other side whose handlers are still running. */
  readonly handling: number;
  /** Latest keepalive round-trip time in milliseconds; undefined before the first pong or without keepalive. */
  readonly rttMs: number | undefined;
  /** `Date.now()` when authentication completed. */
  readonly connectedAt: number;
}

let nextPeerId = 0;

/**
 * One authenticated connection, seen from this side: on a server, a client (`server.peers`); on a
 * client, the server it is connected to (`ctx.peer` in its handlers). Lets either side send events
 * and requests back on exactly this connection.
 */
export class RpcPeer {
  /** Unique in this process (in a cluster: across the cluster), for `server.peers`, `server.request(peerId, ...)` and logs. */
  readonly id: string;
  /** Remote IP address (or socket path side), as seen at accept/connect time. */
  readonly address: string | undefined;
  /** Remote port (undefined for Unix sockets). */
  readonly port: number | undefined;
  /** The username the client authenticated as (`''` when none was given). */
  readonly username: string;
  /** `Date.now()` when authentication completed. */
  readonly connectedAt: number;
  readonly #link: Link;

  /** @internal created by RpcServer / RpcClient once a link authenticates (`id` from a cluster) */
  constructor(link: Link, username: string, id?: string) {
    this.id = id ?? `peer-${++nextPeerId}`;
    this.#link = link;
    this.address = link.socket.remoteAddress;
    this.port = link.socket.remotePort;
    this.username = username;
    this.connectedAt = Date.now();
  }

  /** Whether the connection is authenticated and still open. */
  get connected(): boolean {
    return this.#link.open;
  }

  /** A snapshot of this connection's counters. */
  get stats(): RpcPeerStats {
    const link = this.#link;
    const stats = link.socket.stats;
    return {
      bytesIn: stats.bytesIn,
      bytesOut: stats.bytesOut,
      messagesIn: stats.messagesIn,
      messagesOut: stats.messagesOut,
      requestsOut: link.requestsOut,
      requestsIn: link.requestsIn,
      inFlight: link.outgoing.size,
      handling: link.incoming.size,
      rttMs: link.keepAlive?.rttMs,
      connectedAt: this.connectedAt,
    };
  }

  /**
   * Call a method the other side handles on this connection. Settles exactly once: the result, a
   * {@link RemoteError} (or `ERR_METHOD_NOT_FOUND` / `ERR_INVALID_PARAMS` / `ERR_OVERLOADED`),
   * `ERR_REQUEST_TIMEOUT`, `ERR_ABORTED`, or `ERR_CONNECTION_CLOSED` when the link drops.
   */
  request(method: string | readonly string[], params?: unknown, options?: RequestOptions): Promise<unknown> {
    return this.#link.request(methodName(method), params, options);
  }

  /** Send an ns event (JSON value or raw bytes) on this connection. Returns false when the writer should back off. */
  send(event: string | readonly string[], data?: unknown): boolean {
    return this.#link.socket.send(event, data);
  }

  /** Close this connection gracefully (flushes what was sent). */
  async close(): Promise<void> {
    await this.#link.socket.end();
  }

  /** Close this connection at once. */
  destroy(error?: Error): void {
    this.#link.socket.destroy(error);
  }
}
