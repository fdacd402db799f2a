// The engine-neutral seam between an RpcServer and a cluster of servers. rpc knows nothing of
// Redis (or NATS, or anything else): an adapter (`@proto/cluster`'s createRedisCluster or
// createMemoryCluster) implements `ClusterAdapter`, and the server talks to it only through these
// interfaces. This file imports types only, so it adds no cycle and no dependency.

import type { RequestOptions } from './request-options.js';

/** One peer of a cluster, as `server.clusterPeers()` lists it. */
export interface ClusterPeerInfo {
  /** The peer id, unique across the cluster: usable with `send`/`request` on any node. */
  readonly id: string;
  /** The node (server) the peer is connected to. */
  readonly nodeId: string;
  /** The peer's remote IP address (undefined over a Unix socket). */
  readonly address: string | undefined;
  /** The username the peer authenticated as (`''` when none). */
  readonly username: string;
  /** `Date.now()` on its node when the peer authenticated. */
  readonly connectedAt: number;
}

/** The options of a stream routed through the cluster (the fields of rpc's stream options it carries). */
export interface ClusterStreamOptions {
  /** Cancel the stream. */
  signal?: AbortSignal | undefined;
  /** Deadline for the whole stream in milliseconds; 0 or undefined: none. */
  timeoutMs?: number | undefined;
  /** Items the producer may send ahead of the consumer. */
  highWaterMark?: number | undefined;
  /** Items for the handler's `ctx.input`. */
  input?: AsyncIterable<unknown> | Iterable<unknown> | undefined;
}

/**
 * What a server offers the cluster: delivery to its own, local peers. The cluster calls these when
 * a message from another node arrives; they never route again.
 */
export interface ClusterHost {
  /** Send an event to every authenticated local peer; returns how many it went to. */
  broadcastLocal(event: string | readonly string[], data: unknown): number;
  /**
   * Send an event to one local peer. Returns false when its writer should back off.
   * @throws PeerNotFoundError when no local peer has this id.
   */
  sendLocal(peerId: string, event: string | readonly string[], data: unknown): boolean;
  /**
   * Call a method a local peer handles. Settles like `server.request`; rejects with
   * `ERR_PEER_NOT_FOUND` when no local peer has this id, `ERR_CONNECTION_CLOSED` while the server
   * shuts down.
   */
  requestLocal(peerId: string, method: string, params: unknown, options: RequestOptions): Promise<unknown>;
  /**
   * Open a stream on a local peer (`server.stream`), when the server has streams. The cluster
   * pulls its items only as fast as the caller on the other node grants credit, and cancels it
   * with `return()`.
   */
  streamLocal?(peerId: string, method: string, params: unknown, options: ClusterStreamOptions): AsyncIterableIterator<unknown>;
  /** The server's `requestTimeoutMs`: the default timeout of a request that gives none. */
  readonly requestTimeoutMs: number;
  /** Report a cluster failure (Redis down, a failed registration) through the server's `error` event. */
  reportError(error: Error): void;
}

/**
 * One server's membership of a cluster, made by {@link ClusterAdapter.join}. The server calls it
 * for everything that leaves the node: broadcasts, calls to peers it does not hold, presence.
 */
export interface ClusterMember {
  /** This node's id (unique in the cluster). */
  readonly nodeId: string;
  /** A new peer id, unique across the cluster, that routes to this node. */
  nextPeerId(): string;
  /** A local peer authenticated: register it so other nodes can find it. */
  peerJoined(peer: ClusterPeerInfo): void;
  /** A local peer left. */
  peerLeft(peerId: string): void;
  /** Deliver a broadcast (already sent to the local peers) to every other node's peers. */
  broadcast(event: string | readonly string[], data: unknown): void;
  /**
   * Send an event to a peer this node does not hold.
   * @returns true once handed to the cluster.
   * @throws PeerNotFoundError when no node can hold the id, ClusterUnavailableError while the
   * cluster cannot be reached.
   */
  send(peerId: string, event: string | readonly string[], data: unknown): boolean;
  /**
   * Call a method on a peer this node does not hold, through the node holding it. Rejects with
   * `ERR_PEER_NOT_FOUND` (no node holds it), `ERR_CLUSTER_UNAVAILABLE` (the cluster cannot be
   * reached), `ERR_CONNECTION_CLOSED` (the holding node died or left), or what the peer answered.
   */
  request(peerId: string, method: string, params: unknown, options: RequestOptions): Promise<unknown>;
  /**
   * Open a stream on a peer this node does not hold, through the node holding it: its items come
   * back under the caller's credit (`highWaterMark`), `return()`/`signal`/`timeoutMs` cancel it
   * there. Fails like `request`.
   */
  stream?(peerId: string, method: string, params: unknown, options: ClusterStreamOptions): AsyncIterableIterator<unknown>;
  /** Every node's peers (this node's included). */
  peers(): Promise<ClusterPeerInfo[]>;
  /** The server started closing: refuse new calls from other nodes, let those in flight finish. */
  drain(): void;
  /** Leave the cluster at once and release what the adapter opened for this member. */
  leave(): Promise<void>;
}

/**
 * The `cluster` option of `RpcServer`: a cluster engine. `join` is called once by the server
 * that takes the adapter, in its constructor; an adapter may serve several servers (the memory
 * cluster) or exactly one (the Redis cluster, whose `nodeId` names one server).
 */
export interface ClusterAdapter {
  join(host: ClusterHost): ClusterMember;
}
