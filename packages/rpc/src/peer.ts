import type { NsSocket } from '@proto/ns';
import { methodName } from './contract.js';
import type { RequestOptions } from './request-options.js';
import type { StreamOptions } from './stream-options.js';

/**
 * Counters of one connection. `peer.stats` is a live object: each property reads the current value
 * (own enumerable getters, nothing built per read); `{ ...peer.stats }` is a snapshot.
 */
export interface RpcPeerStats {
  /** Bytes received on this connection (framing headers included). */
  readonly bytesIn: number;
  /** Bytes sent. */
  readonly bytesOut: number;
  /**
   * User events (`send`/`broadcast`, delivered to `data` listeners) received on this side's
   * socket; rpc messages (requests, answers, cancels, pings, stream items, the handshake) are not
   * counted: see `requestsIn` and `itemsIn`. Counted since the socket was created (on a client,
   * across reconnects).
   */
  readonly messagesIn: number;
  /** User events sent (queued ones once flushed), counted like `messagesIn`. */
  readonly messagesOut: number;
  /** Requests this side sent on the connection. */
  readonly requestsOut: number;
  /** Requests the other side sent on the connection. */
  readonly requestsIn: number;
  /** Requests this side sent that await their answer. */
  readonly inFlight: number;
  /** Requests from the other side whose handlers are still running. */
  readonly handling: number;
  /** Streams open on this connection, both directions (opened here and served here). */
  readonly openStreams: number;
  /** Stream items received on this connection (items of streams opened here, input of streams served here). */
  readonly itemsIn: number;
  /** Stream items sent on this connection. */
  readonly itemsOut: number;
  /** Latest keepalive round-trip time in milliseconds; undefined before the first pong or without keepalive. */
  readonly rttMs: number | undefined;
  /** `Date.now()` when authentication completed. */
  readonly connectedAt: number;
  /** Outbound bytes accepted but not yet handed to the kernel. */
  readonly bufferedBytes: number;
  /**
   * Whether this side holds the other side's new calls (requests, stream credit and input) because
   * the other side is not reading its answers (they passed the high-water mark); they run once the
   * buffer drained to the low-water mark. Answers to this side's own calls are still read; the
   * connection itself stops being read only when the held calls pass 1 MiB.
   */
  readonly readingPaused: boolean;
}

/** What a peer reads from and asks of the link it stands for (implemented by the rpc link). */
export interface PeerLink {
  readonly socket: NsSocket;
  /** Authenticated and not closed. */
  readonly open: boolean;
  readonly requestsOut: number;
  readonly requestsIn: number;
  readonly inFlight: number;
  readonly handling: number;
  readonly rttMs: number | undefined;
  readonly openStreams: number;
  readonly itemsIn: number;
  readonly itemsOut: number;
  readonly readingPaused: boolean;
  request(method: string, params: unknown, options: RequestOptions | undefined): Promise<unknown>;
  stream<T>(method: string, params: unknown, options: StreamOptions | undefined): AsyncIterableIterator<T>;
}

type Counter = Exclude<keyof RpcPeerStats, 'connectedAt'>;

/** Each counter as a getter over the link (shared functions: no closure per peer). */
const READ: { readonly [K in Counter]: (this: LiveStats) => RpcPeerStats[K] } = {
  bytesIn() {
    return this.link.socket.stats.bytesIn;
  },
  bytesOut() {
    return this.link.socket.stats.bytesOut;
  },
  messagesIn() {
    return this.link.socket.stats.messagesIn;
  },
  messagesOut() {
    return this.link.socket.stats.messagesOut;
  },
  requestsOut() {
    return this.link.requestsOut;
  },
  requestsIn() {
    return this.link.requestsIn;
  },
  inFlight() {
    return this.link.inFlight;
  },
  handling() {
    return this.link.handling;
  },
  openStreams() {
    return this.link.openStreams;
  },
  itemsIn() {
    return this.link.itemsIn;
  },
  itemsOut() {
    return this.link.itemsOut;
  },
  rttMs() {
    return this.link.rttMs;
  },
  bufferedBytes() {
    return this.link.socket.bufferedBytes;
  },
  readingPaused() {
    return this.link.readingPaused;
  },
};

/** Own enumerable getters, so spread, `Object.keys`, `JSON.stringify` and deep equality see the counters. */
const COUNTERS: PropertyDescriptorMap = Object.fromEntries(
  Object.entries(READ).map(([name, get]) => [name, { get, enumerable: true }]),
);

/**
 * The live `peer.stats` object: each counter reads the link's own counters (updated in place), so
 * a read allocates nothing; `{ ...peer.stats }` is a snapshot. As ns's `socket.stats`.
 */
class LiveStats implements RpcPeerStats {
  declare readonly bytesIn: number;
  declare readonly bytesOut: number;
  declare readonly messagesIn: number;
  declare readonly messagesOut: number;
  declare readonly requestsOut: number;
  declare readonly requestsIn: number;
  declare readonly inFlight: number;
  declare readonly handling: number;
  declare readonly openStreams: number;
  declare readonly itemsIn: number;
  declare readonly itemsOut: number;
  declare readonly rttMs: number | undefined;
  declare readonly bufferedBytes: number;
  declare readonly readingPaused: boolean;
  readonly connectedAt: number;
  /** @internal */
  declare readonly link: PeerLink;

  constructor(link: PeerLink, connectedAt: number) {
    Object.defineProperty(this, 'link', { value: link });
    this.connectedAt = connectedAt;
    Object.defineProperties(this, COUNTERS);
  }
}

let peerCounter = 0;
let serverLinkCounter = 0;

/** @internal the next id a server of this process gives a client (`peer-1`, `peer-2`, ...). */
export function nextPeerId(): string {
  return `peer-${++peerCounter}`;
}

/**
 * @internal the next id a client of this process gives its link to a server (`server-1`,
 * `server-2`, ...: a new one per link, reconnects included). Named apart from the server's ids so
 * `client.peer.id` is never mistaken for the id the server uses for the same connection.
 */
export function nextServerLinkId(): string {
  return `server-${++serverLinkCounter}`;
}

/**
 * One authenticated connection, seen from this side: on a server, a client (`server.peers`); on a
 * client, the server it is connected to (`ctx.peer` in its handlers). Lets either side send events
 * and requests back on exactly this connection.
 */
export class RpcPeer {
  /**
   * Unique in this process. On a server, the client's id (`peer-<n>`) for `server.peers`,
   * `server.request(peerId, ...)` and logs. On a client (`client.peer`, `ctx.peer`), the client's
   * own name for its current link to the server (`server-<n>`): new for every new link, kept
   * across a resume (`resume`: the session, its requests and streams go on under the same id); not
   * the id the server gave the same connection, which the client does not learn.
   */
  readonly id: string;
  /** Remote IP address (or socket path side), as seen at accept/connect time. */
  readonly address: string | undefined;
  /** Remote port (undefined for Unix sockets). */
  readonly port: number | undefined;
  /** The username the client authenticated as (`''` when none was given). */
  readonly username: string;
  /** `Date.now()` when authentication completed. */
  readonly connectedAt: number;
  readonly #link: PeerLink;
  #stats: LiveStats | undefined = undefined;

  /** @internal created by the link it stands for, once that link authenticated */
  constructor(link: PeerLink, id: string, username: string) {
    this.id = id;
    this.#link = link;
    this.address = link.socket.remoteAddress;
    this.port = link.socket.remotePort;
    this.username = username;
    this.connectedAt = Date.now();
  }

  /** Live counters of this connection (see {@link RpcPeerStats}); the same object on every read. */
  get stats(): RpcPeerStats {
    return (this.#stats ??= new LiveStats(this.#link, this.connectedAt));
  }

  /** Whether the connection is authenticated and still open. */
  get connected(): boolean {
    return this.#link.open;
  }

  /**
   * Call a method the other side handles on this connection. Settles exactly once: the result, a
   * {@link RemoteError} (or `ERR_METHOD_NOT_FOUND` / `ERR_INVALID_PARAMS` / `ERR_OVERLOADED`),
   * `ERR_REQUEST_TIMEOUT`, `ERR_ABORTED`, or `ERR_CONNECTION_CLOSED` when the link drops.
   */
  request(method: string | readonly string[], params?: unknown, options?: RequestOptions): Promise<unknown> {
    return this.#link.request(methodName(method), params, options);
  }

  /**
   * Open a stream the other side serves on this connection (see `RpcClient.stream`): an async
   * iterator of its items, returned at once.
   */
  stream<T = unknown>(method: string | readonly string[], params?: unknown, options?: StreamOptions): AsyncIterableIterator<T> {
    return this.#link.stream<T>(methodName(method), params, options);
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
