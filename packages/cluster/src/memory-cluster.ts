import type { Buffer } from 'node:buffer';
import type { ClusterAdapter, ClusterHost, ClusterMember } from '@proto/rpc';
import { ClusterNode } from './cluster-node.js';
import { InvalidArgError } from './errors.js';
import { type ClusterStats, newStats } from './stats.js';
import type { ClusterTransport, StoredPeer, TransportHandlers } from './transport.js';

type Subscriber = (bytes: Buffer) => void;

/** The shared state of a memory cluster: channels and presence, in this process. */
class MemoryHub {
  readonly channels = new Map<string, Set<Subscriber>>();
  readonly nodes = new Map<string, { incarnation: string; peers: Map<string, string> }>();

  publish(channel: string, bytes: Buffer): void {
    const subscribers = this.channels.get(channel);
    if (subscribers === undefined) return;
    // Delivered later, in order, like a message broker would: never inside the sender's call.
    for (const subscriber of subscribers) queueMicrotask(() => subscriber(bytes));
  }
}

/** A transport over a {@link MemoryHub}: always available, nothing expires. */
class MemoryTransport implements ClusterTransport {
  readonly #hub: MemoryHub;
  readonly #subscriptions: [string, Subscriber][] = [];
  #open = false;

  constructor(hub: MemoryHub) {
    this.#hub = hub;
  }

  get ready(): boolean {
    return this.#open;
  }

  start(channels: readonly string[], handlers: TransportHandlers): void {
    const subscriber: Subscriber = (bytes) => {
      if (this.#open) handlers.message(bytes);
    };
    for (const channel of channels) {
      let set = this.#hub.channels.get(channel);
      if (set === undefined) this.#hub.channels.set(channel, (set = new Set()));
      set.add(subscriber);
      this.#subscriptions.push([channel, subscriber]);
    }
    this.#open = true;
    queueMicrotask(() => handlers.ready());
  }

  async publish(channel: string, message: Buffer): Promise<void> {
    this.#hub.publish(channel, message);
  }

  async register(nodeId: string, incarnation: string, peers: ReadonlyMap<string, string>): Promise<void> {
    this.#hub.nodes.set(nodeId, { incarnation, peers: new Map(peers) });
  }

  async refresh(): Promise<void> {}

  async addPeer(nodeId: string, peerId: string, value: string): Promise<void> {
    this.#hub.nodes.get(nodeId)?.peers.set(peerId, value);
  }

  async removePeer(nodeId: string, peerId: string): Promise<void> {
    this.#hub.nodes.get(nodeId)?.peers.delete(peerId);
  }

  async incarnationOf(nodeId: string): Promise<string | undefined> {
    return this.#hub.nodes.get(nodeId)?.incarnation;
  }

  async listPeers(): Promise<StoredPeer[]> {
    const peers: StoredPeer[] = [];
    for (const [nodeId, node] of this.#hub.nodes) {
      for (const [peerId, value] of node.peers) peers.push({ nodeId, peerId, value });
    }
    return peers;
  }

  async peerIdsOf(nodeId: string): Promise<string[]> {
    const node = this.#hub.nodes.get(nodeId);
    return node === undefined ? [] : [...node.peers.keys()];
  }

  async unregister(nodeId: string): Promise<void> {
    this.#hub.nodes.delete(nodeId);
  }

  async close(): Promise<void> {
    this.#open = false;
    for (const [channel, subscriber] of this.#subscriptions.splice(0)) this.#hub.channels.get(channel)?.delete(subscriber);
  }
}

/** Options of {@link createMemoryCluster}. */
export interface MemoryClusterOptions {
  /**
   * Requests routed to another server time out after this long unless the call gives its own
   * `timeoutMs`.
   * @default the server's `requestTimeoutMs`
   */
  requestTimeoutMs?: number | undefined;
}

/** A cluster of servers in one process (see {@link createMemoryCluster}). */
export interface MemoryCluster extends ClusterAdapter {
  /** Node ids of the servers that joined and have not left, in joining order. */
  readonly nodeIds: readonly string[];
  /** Counters summed over its servers. */
  readonly stats: Readonly<ClusterStats>;
}

/**
 * A cluster whose servers all run in this process: pass the same object to several
 * `new RpcServer({ ..., cluster })`. The same routing as the Redis cluster (messages are encoded and
 * delivered asynchronously, as a broker would), without a broker: for tests, examples, and one
 * process serving several ports. Servers get the node ids `node-1`, `node-2`, ...
 */
export function createMemoryCluster(options: MemoryClusterOptions = {}): MemoryCluster {
  const requestTimeoutMs = options.requestTimeoutMs;
  if (requestTimeoutMs !== undefined && !(requestTimeoutMs >= 0 && Number.isFinite(requestTimeoutMs))) {
    throw new InvalidArgError(`requestTimeoutMs must be a number >= 0, got ${String(requestTimeoutMs)}`);
  }
  const hub = new MemoryHub();
  const members = new Set<ClusterNode>();
  let joined = 0;
  const events = { up: () => {}, down: () => {}, left: (node: ClusterNode) => members.delete(node) };
  return {
    join(host: ClusterHost): ClusterMember {
      const settings = { prefix: 'memory', nodeId: `node-${++joined}`, heartbeatMs: 0, nodeTimeoutMs: 0, requestTimeoutMs };
      const node = new ClusterNode(settings, host, new MemoryTransport(hub), events);
      members.add(node);
      return node;
    },
    get nodeIds() {
      return [...members].map((node) => node.nodeId);
    },
    get stats() {
      const total = newStats();
      for (const node of members) for (const key of Object.keys(total) as (keyof ClusterStats)[]) total[key] += node.stats[key];
      return total;
    },
  };
}
