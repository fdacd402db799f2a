import type { EventPattern } from '@proto/ns';
import type { Link } from './link.js';
import { nextPeerId, type RpcPeer } from './peer.js';
import { attachData, type DataRegistration, detachData, patternKey, type ServerDataListener } from './server-data.js';

/**
 * Told when a peer joins or leaves a server's registry: the place a cluster adapter hooks in to
 * announce this node's peers (presence) to the others.
 */
export interface PeerRegistryObserver {
  peerAdded(peer: RpcPeer): void;
  peerRemoved(peer: RpcPeer): void;
}

/** `server.peers`: a read-only Map view of the registry's links, by peer id. */
class PeerView implements ReadonlyMap<string, RpcPeer> {
  readonly #links: ReadonlyMap<string, Link>;

  constructor(links: ReadonlyMap<string, Link>) {
    this.#links = links;
  }

  get size(): number {
    return this.#links.size;
  }
  get(peerId: string): RpcPeer | undefined {
    return this.#links.get(peerId)?.peer;
  }
  has(peerId: string): boolean {
    return this.#links.has(peerId);
  }
  forEach(callback: (peer: RpcPeer, peerId: string, map: ReadonlyMap<string, RpcPeer>) => void, thisArg?: unknown): void {
    for (const [peerId, link] of this.#links) callback.call(thisArg, link.peer, peerId, this);
  }
  keys(): MapIterator<string> {
    return this.#links.keys();
  }
  *values(): MapIterator<RpcPeer> {
    for (const link of this.#links.values()) yield link.peer;
  }
  *entries(): MapIterator<[string, RpcPeer]> {
    for (const [peerId, link] of this.#links) yield [peerId, link.peer];
  }
  [Symbol.iterator](): MapIterator<[string, RpcPeer]> {
    return this.entries();
  }
}

/**
 * The authenticated links of one server, by peer id (one Map), and the `server.data()`
 * registrations every link gets. Adding and removing a link is the only way in or out, so the
 * peers, the links and the data listeners can never disagree.
 */
export class PeerRegistry {
  readonly #links = new Map<string, Link>();
  readonly #data: DataRegistration[] = [];
  /** The read-only view given out as `server.peers`. */
  readonly peers: ReadonlyMap<string, RpcPeer> = new PeerView(this.#links);
  /** Cluster hook (see {@link PeerRegistryObserver}); none by default. */
  observer: PeerRegistryObserver | undefined = undefined;

  get size(): number {
    return this.#links.size;
  }

  /**
   * The id of a client that just authenticated: `peer-<n>`, unique in this process. A cluster
   * adapter makes ids unique across nodes here (a node prefix).
   */
  newPeerId(): string {
    return nextPeerId();
  }

  /** The link of `peerId`, if it is connected here. */
  get(peerId: string): Link | undefined {
    return this.#links.get(peerId);
  }

  links(): MapIterator<Link> {
    return this.#links.values();
  }

  /** A link authenticated and opened: register it and give it every data listener. */
  add(link: Link): void {
    this.#links.set(link.peer.id, link);
    for (const registration of this.#data) attachData(registration, link);
    this.observer?.peerAdded(link.peer);
  }

  /** A link closed: false when it was not registered (it closed before it opened). */
  remove(link: Link): boolean {
    const peer = link.peer;
    for (const registration of this.#data) registration.wrappers.delete(peer);
    if (this.#links.get(peer.id) !== link) return false;
    this.#links.delete(peer.id);
    this.observer?.peerRemoved(peer);
    return true;
  }

  /** `server.data(pattern, listener)`: on every link now and later. */
  addData(pattern: EventPattern, listener: ServerDataListener): void {
    const registration: DataRegistration = { pattern, listener, wrappers: new Map() };
    this.#data.push(registration);
    for (const link of this.#links.values()) attachData(registration, link);
  }

  /** `server.offData(pattern, listener)`. */
  removeData(pattern: EventPattern, listener: ServerDataListener): void {
    const key = patternKey(pattern);
    const index = this.#data.findIndex((r) => r.listener === listener && patternKey(r.pattern) === key);
    if (index < 0) return;
    const registration = this.#data[index];
    this.#data.splice(index, 1);
    if (registration !== undefined) for (const link of this.#links.values()) detachData(registration, link);
  }
}
