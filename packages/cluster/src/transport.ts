import type { Buffer } from 'node:buffer';

/** What a transport tells its node. */
export interface TransportHandlers {
  /** A message arrived on one of the subscribed channels (its bytes are the node's to keep). */
  message(bytes: Buffer): void;
  /** Connected and subscribed: the first time, and again after every reconnect. */
  ready(): void;
  /** The engine became unreachable (called once per outage, also when the first connect fails). */
  lost(error: Error): void;
}

/** One registered peer, as the presence store keeps it. */
export interface StoredPeer {
  readonly nodeId: string;
  readonly peerId: string;
  /** What the node stored for it (JSON, see cluster-node.ts). */
  readonly value: string;
}

/**
 * The engine seam inside @proto/cluster: pub/sub channels plus a presence store whose entries
 * expire unless refreshed. The routing, liveness and request logic (cluster-node.ts) is shared by
 * every engine; an engine only moves bytes and keeps presence. Every method that talks to the
 * engine rejects at once while it is unreachable.
 */
export interface ClusterTransport {
  /** Connected and subscribed right now. */
  readonly ready: boolean;
  /** Connect and subscribe to `channels`; progress is reported through `handlers`. */
  start(channels: readonly string[], handlers: TransportHandlers): void;
  /** Publish one message (or batch) on `channel`; settles when the engine took it. */
  publish(channel: string, message: Buffer): Promise<unknown>;
  /** (Re)write this node's presence: its incarnation and every local peer, all expiring after `ttlMs`. */
  register(nodeId: string, incarnation: string, peers: ReadonlyMap<string, string>, ttlMs: number): Promise<void>;
  /** Heartbeat: push the expiry of this node's presence `ttlMs` ahead. */
  refresh(nodeId: string, incarnation: string, ttlMs: number): Promise<void>;
  addPeer(nodeId: string, peerId: string, value: string, ttlMs: number): Promise<void>;
  removePeer(nodeId: string, peerId: string): Promise<void>;
  /** The incarnation a live node registered, or undefined when no live node has this id. */
  incarnationOf(nodeId: string): Promise<string | undefined>;
  /** Every peer of every live node. */
  listPeers(): Promise<StoredPeer[]>;
  /** The ids of the peers one node stored (none when it is not registered). */
  peerIdsOf(nodeId: string): Promise<string[]>;
  /** Remove this node's presence at once (clean leave). */
  unregister(nodeId: string): Promise<void>;
  /** Release what the transport opened (never a connection it was given). */
  close(): Promise<void>;
}
