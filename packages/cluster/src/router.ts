import { clusterUnavailable, peerNotFound } from './errors.js';
import type { NodeDirectory } from './node-directory.js';
import { parsePeerId } from './peer-ids.js';
import type { ClusterTransport } from './transport.js';

/**
 * Where a peer id routes: the node it names, if that node is alive with the incarnation the id
 * carries. Known nodes answer at once; a node not heard from yet (it may just have joined) is
 * looked up in presence once, then known.
 */
export class Router {
  readonly #nodeId: string;
  readonly #directory: NodeDirectory;
  readonly #transport: ClusterTransport;

  constructor(nodeId: string, directory: NodeDirectory, transport: ClusterTransport) {
    this.#nodeId = nodeId;
    this.#directory = directory;
    this.#transport = transport;
  }

  /**
   * The id of the node holding `peerId`: at once when known, else after a lookup.
   * @throws PeerNotFoundError (at once) for an id no live node can hold; the promise rejects with
   * it, or ClusterUnavailableError when the lookup fails.
   */
  resolve(peerId: string): string | Promise<string> {
    const target = parsePeerId(peerId);
    if (target === undefined || target.nodeId === this.#nodeId) throw peerNotFound(peerId);
    const known = this.#directory.incarnation(target.nodeId);
    if (known === target.incarnation) return target.nodeId;
    if (known !== undefined) throw peerNotFound(peerId);
    return this.#transport.incarnationOf(target.nodeId).then(
      (registered) => {
        if (registered !== target.incarnation) throw peerNotFound(peerId);
        this.#directory.seen(target.nodeId, target.incarnation);
        return target.nodeId;
      },
      (error: unknown) => {
        throw clusterUnavailable(error);
      },
    );
  }

  /**
   * For a fire-and-forget send, which has no answer to fail with later: the node id when the peer
   * may be there. In doubt (this node just registered and may not have heard from every node, or
   * has not read a node's peers yet) the event is handed over; the node drops what it cannot deliver.
   * @throws PeerNotFoundError when no live node holds it: its node is not alive (not heard from
   * since registering, or with another incarnation) or is known not to hold it.
   */
  resolveNow(peerId: string): string {
    const target = parsePeerId(peerId);
    if (target === undefined || target.nodeId === this.#nodeId) throw peerNotFound(peerId);
    const known = this.#directory.incarnation(target.nodeId);
    const found = known === undefined
      ? !this.#directory.peers.settled
      : known === target.incarnation && this.#directory.peers.mayHold(target.nodeId, known, peerId);
    if (!found) throw peerNotFound(peerId);
    return target.nodeId;
  }
}
