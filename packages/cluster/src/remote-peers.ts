import type { ClusterPeerInfo } from '@proto/rpc';
import type { ClusterMessage } from './envelope.js';
import type { ClusterTransport } from './transport.js';

/**
 * How far past the highest id this node heard a node issue an unknown id still counts as maybe
 * just issued (its join on its way). Ids are issued in order; more joins than this in flight at
 * once from one node would take a burst far beyond what one pub/sub hop carries meanwhile.
 */
const JUST_ISSUED = 1024;

/** The counter of an id starting with `prefix`; -1 for a form no node issues (`01`, `x`, `0`). */
function counterOf(peerId: string, prefixLength: number): number {
  const length = peerId.length - prefixLength;
  if (length < 1 || length > 15 || peerId.charCodeAt(prefixLength) === 48) return -1;
  let n = 0;
  for (let i = prefixLength; i < peerId.length; i++) {
    const digit = peerId.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    n = n * 10 + digit;
  }
  return n;
}

/** What one incarnation of another node holds, as far as this node knows. */
class NodePeers {
  readonly incarnation: string;
  /** Every id this incarnation issues starts with it. */
  readonly prefix: string;
  /** Undefined until the registry read completes: unknown, so anything may be there. */
  peers: Set<string> | undefined = undefined;
  /** The highest counter among the ids it was heard to issue. */
  highest = 0;
  loading = false;
  /**
   * Announcements heard while `peers` is unknown. Whether the registry read saw them or not, the
   * result is the same once they are applied over it: a peer id is never issued twice, and its
   * join is always announced (and stored) before its leave.
   */
  joined: string[] | undefined = undefined;
  left: string[] | undefined = undefined;

  constructor(nodeId: string, incarnation: string) {
    this.incarnation = incarnation;
    this.prefix = `${nodeId}:${incarnation}:`;
  }

  /** `peerId` (one of this incarnation's) is there; the set is known. */
  add(peerId: string): void {
    this.peers!.add(peerId);
    const n = counterOf(peerId, this.prefix.length);
    if (n > this.highest) this.highest = n;
  }
}

/**
 * The peers every other known node holds, so a fire-and-forget `send` can refuse an id no node
 * holds at once (it has no answer to wait for). Kept current by the nodes' join and leave
 * announcements over a read of the registry when a node is first heard of (or re-registered, or
 * its heartbeat counts a different number of peers: an announcement was missed). Until that read
 * completes a node's set is unknown and sends to it are handed over, as they always were.
 *
 * A sender may learn a new peer's id before this node hears its join: code on the holding node
 * relaying it from the `authenticated` event over a path faster than one pub/sub hop (in the same
 * process, for one; the client itself learns no id, and `clusterPeers()` listings are merged in
 * here). Ids are issued in order, so an id just past the highest one heard of is handed over
 * rather than refused. Remaining windows: toward delivery, a never-issued id within
 * {@link JUST_ISSUED} of that highest one is handed over (and dropped by its node); toward
 * throwing, only a burst of more joins than that from one node still on their way.
 */
export class RemotePeers {
  readonly #nodes = new Map<string, NodePeers>();
  readonly #transport: Pick<ClusterTransport, 'peerIdsOf'>;
  readonly #settleMs: number;
  #settled = false;
  #settling: NodeJS.Timeout | undefined;

  /**
   * @param settleMs how long after registering every live node has been heard from: a heartbeat
   * period (the nodes also answer a registration with a hello at once).
   */
  constructor(transport: Pick<ClusterTransport, 'peerIdsOf'>, settleMs: number) {
    this.#transport = transport;
    this.#settleMs = settleMs;
  }

  /** Registered long enough that a node not heard from is not alive. */
  get settled(): boolean {
    return this.#settled;
  }

  /** This node (re)registered: every live node is heard from within `settleMs`. */
  registered(): void {
    clearTimeout(this.#settling);
    this.#settled = false;
    this.#settling = setTimeout(() => {
      this.#settled = true;
    }, this.#settleMs);
    this.#settling.unref();
  }

  /**
   * A message from another node (already in the directory) arrived.
   * @returns true when the sender has just registered and expects a hello.
   */
  heard(message: ClusterMessage): boolean {
    const nodeId = message.n;
    let node = this.#nodes.get(nodeId);
    const registered = message.t === 'hb' && message.r === 1;
    const missed = message.t === 'hb' && message.c !== undefined && node?.peers !== undefined && node.peers.size !== message.c;
    if (node === undefined || node.incarnation !== message.k || registered || missed) {
      // A fresh entry: a read of the old one still in flight is dropped when it answers.
      node = new NodePeers(nodeId, message.k);
      this.#nodes.set(nodeId, node);
    }
    if (message.t === 'pj') {
      if (node.peers !== undefined) node.add(message.peer);
      else (node.joined ??= []).push(message.peer);
    } else if (message.t === 'pl') {
      if (node.peers !== undefined) node.peers.delete(message.peer);
      else (node.left ??= []).push(message.peer);
    }
    // Also retries a read that failed, on the next message from that node.
    if (node.peers === undefined && !node.loading) this.#load(nodeId, node);
    return registered;
  }

  /** False only when `nodeId` (with `incarnation`, which `peerId` carries) is known not to hold `peerId`. */
  mayHold(nodeId: string, incarnation: string, peerId: string): boolean {
    const node = this.#nodes.get(nodeId);
    if (node === undefined || node.incarnation !== incarnation || node.peers === undefined || node.peers.has(peerId)) return true;
    // Not there: it left, was never issued, or was issued so recently that its join is on its way.
    const n = counterOf(peerId, node.prefix.length);
    return n > node.highest && n <= node.highest + JUST_ISSUED;
  }

  /**
   * Peers a `clusterPeers()` listing showed: whoever learns an id from it can send to it (an entry
   * listed just before its peer left stays until the next reload: handed over, as before).
   * @returns `listed`
   */
  listed(listed: ClusterPeerInfo[]): ClusterPeerInfo[] {
    for (const peer of listed) {
      const node = this.#nodes.get(peer.nodeId);
      if (node?.peers !== undefined && peer.id.startsWith(node.prefix)) node.add(peer.id);
    }
    return listed;
  }

  /** The node is gone from the directory. */
  drop(nodeId: string): void {
    this.#nodes.delete(nodeId);
  }

  /** This node lost the cluster or left it: nothing it knew holds any more. */
  clear(): void {
    this.#nodes.clear();
    clearTimeout(this.#settling);
    this.#settled = false;
  }

  #load(nodeId: string, node: NodePeers): void {
    node.loading = true;
    this.#transport.peerIdsOf(nodeId).then(
      (ids) => {
        node.loading = false;
        if (this.#nodes.get(nodeId) !== node) return;
        node.peers = new Set<string>();
        // The hash may still hold a previous incarnation's peers (rewritten at registration).
        for (const id of ids) if (id.startsWith(node.prefix)) node.add(id);
        if (node.joined !== undefined) for (const id of node.joined) node.add(id);
        if (node.left !== undefined) for (const id of node.left) node.peers.delete(id);
        node.joined = node.left = undefined;
      },
      () => {
        // Unknown until the next message from that node reads again; the outage is reported elsewhere.
        node.loading = false;
      },
    );
  }
}
