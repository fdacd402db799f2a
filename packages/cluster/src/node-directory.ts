import type { RemotePeers } from './remote-peers.js';

/** Called when a known node is gone: it said goodbye, restarted, or fell silent. */
export type NodeGone = (nodeId: string, reason: string) => void;

interface KnownNode {
  incarnation: string;
  timer: NodeJS.Timeout | undefined;
}

function expire(directory: NodeDirectory, nodeId: string): void {
  directory.drop(nodeId, 'stopped answering');
}

/**
 * The other nodes this node has heard from, by id, with the incarnation they announced. Any
 * message from a node counts as life; a node not heard from for `timeoutMs` is dropped (one timer
 * per node, pushed back with `refresh()`, so a node that dies is dropped at most `timeoutMs` after
 * its last message). `timeoutMs` 0 keeps nodes until they say goodbye (the memory cluster).
 */
export class NodeDirectory {
  readonly #nodes = new Map<string, KnownNode>();
  readonly #timeoutMs: number;
  readonly #gone: NodeGone;
  /** What each known node holds: forgotten with the node. */
  readonly peers: RemotePeers;

  constructor(timeoutMs: number, gone: NodeGone, peers: RemotePeers) {
    this.#timeoutMs = timeoutMs;
    this.#gone = gone;
    this.peers = peers;
  }

  /** How many nodes are known. */
  get size(): number {
    return this.#nodes.size;
  }

  /** The incarnation of a known node. */
  incarnation(nodeId: string): string | undefined {
    return this.#nodes.get(nodeId)?.incarnation;
  }

  /** A message from `nodeId` arrived. A new incarnation means the previous one is gone. */
  seen(nodeId: string, incarnation: string): void {
    const known = this.#nodes.get(nodeId);
    if (known !== undefined && known.incarnation === incarnation) {
      known.timer?.refresh();
      return;
    }
    if (known !== undefined) this.drop(nodeId, 'restarted');
    const timer = this.#timeoutMs > 0 ? setTimeout(expire, this.#timeoutMs, this, nodeId) : undefined;
    timer?.unref();
    this.#nodes.set(nodeId, { incarnation, timer });
  }

  /** `nodeId` is gone (goodbye, or silent for too long): forget it and report it. */
  drop(nodeId: string, reason: string): void {
    const known = this.#nodes.get(nodeId);
    if (known === undefined) return;
    clearTimeout(known.timer);
    this.#nodes.delete(nodeId);
    this.peers.drop(nodeId);
    this.#gone(nodeId, reason);
  }

  /** Forget every node without reporting (the cluster itself became unreachable). */
  clear(): void {
    for (const known of this.#nodes.values()) clearTimeout(known.timer);
    this.#nodes.clear();
    this.peers.clear();
  }
}
