import type { ClusterHost, ClusterMember, ClusterPeerInfo } from './cluster-adapter.js';
import { PeerNotFoundError } from './errors.js';
import type { Link } from './link.js';
import { FailedStream } from './outgoing-stream.js';
import type { StreamOptions } from './stream-options.js';
import type { RequestOptions } from './request-options.js';
import type { RpcPeer } from './peer.js';

/** What the routing needs from its server. */
export interface RoutingServer {
  /** Authenticated local links by peer id (the server's peer registry). */
  readonly links: { get(peerId: string): Link | undefined; links(): Iterable<Link> };
  /** Send an event to every authenticated local peer, encoded once. */
  broadcastLocal(event: string | readonly string[], data: unknown): number;
  readonly requestTimeoutMs: number;
  reportError(error: Error): void;
}

function notFound(peerId: string): PeerNotFoundError {
  return new PeerNotFoundError(`no connected peer ${peerId}`, peerId);
}

/** The cluster's view of a local peer. */
export function peerInfo(peer: RpcPeer, nodeId: string): ClusterPeerInfo {
  return { id: peer.id, nodeId, address: peer.address, username: peer.username, connectedAt: peer.connectedAt };
}

/**
 * Where `server.send`/`request`/`broadcast` go: a local peer directly, any other through the
 * cluster member when there is one (`ERR_PEER_NOT_FOUND` at once when there is none).
 */
export class PeerRouting {
  readonly #server: RoutingServer;
  /** The server's membership of a cluster, if it joined one. */
  readonly member: ClusterMember | undefined;

  constructor(server: RoutingServer, join: ((host: ClusterHost) => ClusterMember) | undefined) {
    this.#server = server;
    this.member = join?.({
      broadcastLocal: (event, data) => server.broadcastLocal(event, data),
      sendLocal: (peerId, event, data) => this.#sendLocal(peerId, event, data),
      requestLocal: (peerId, method, params, options) => this.#requestLocal(peerId, method, params, options),
      streamLocal: (peerId, method, params, options) => this.#streamLocal(peerId, method, params, options),
      requestTimeoutMs: server.requestTimeoutMs,
      reportError: (error) => server.reportError(error),
    });
  }

  request(peerId: string, method: string, params: unknown, options: RequestOptions | undefined): Promise<unknown> {
    const link = this.#server.links.get(peerId);
    if (link !== undefined) return link.request(method, params, options);
    if (this.member === undefined) return Promise.reject(notFound(peerId));
    return this.member.request(peerId, method, params, options ?? {});
  }

  stream(peerId: string, method: string, params: unknown, options: StreamOptions | undefined): AsyncIterableIterator<unknown> {
    const link = this.#server.links.get(peerId);
    if (link !== undefined) return link.streams.open(method, params, options);
    if (this.member?.stream === undefined) return new FailedStream(notFound(peerId));
    return this.member.stream(peerId, method, params, options ?? {});
  }

  send(peerId: string, event: string | readonly string[], data: unknown): boolean {
    const link = this.#server.links.get(peerId);
    if (link !== undefined) return link.peer.send(event, data);
    if (this.member === undefined) throw notFound(peerId);
    return this.member.send(peerId, event, data);
  }

  broadcast(event: string | readonly string[], data: unknown): number {
    const sent = this.#server.broadcastLocal(event, data);
    this.member?.broadcast(event, data);
    return sent;
  }

  /** Every node's peers; without a cluster, this server's (with `nodeId` `''`). */
  async clusterPeers(): Promise<ClusterPeerInfo[]> {
    if (this.member !== undefined) return this.member.peers();
    return [...this.#server.links.links()].map((link) => peerInfo(link.peer, ''));
  }

  #sendLocal(peerId: string, event: string | readonly string[], data: unknown): boolean {
    const link = this.#server.links.get(peerId);
    if (link === undefined) throw notFound(peerId);
    return link.peer.send(event, data);
  }

  #streamLocal(peerId: string, method: string, params: unknown, options: StreamOptions): AsyncIterableIterator<unknown> {
    const link = this.#server.links.get(peerId);
    if (link === undefined) return new FailedStream(notFound(peerId));
    return link.streams.open(method, params, options);
  }

  #requestLocal(peerId: string, method: string, params: unknown, options: RequestOptions): Promise<unknown> {
    const link = this.#server.links.get(peerId);
    if (link === undefined) return Promise.reject(notFound(peerId));
    return link.request(method, params, options);
  }
}
