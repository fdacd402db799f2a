import { randomBytes } from 'node:crypto';
import type { Buffer } from 'node:buffer';
import type { ClusterHost, ClusterMember, ClusterPeerInfo, ClusterStreamOptions, RequestOptions } from '@proto/rpc';
import { type ClusterMessage, decodeMessage, type EventName, isBatch, type OutgoingMessage, splitBatch } from './envelope.js';
import { AbortedError, clusterUnavailable, ConnectionClosedError, InvalidArgError } from './errors.js';
import { NodeDirectory } from './node-directory.js';
import { NodeStreams } from './node-streams.js';
import { Outbox } from './outbox.js';
import { callTimeout, type OutgoingCall, OutgoingCalls, requestMessage } from './outgoing-calls.js';
import { formatPeerId, listPeers, parsePeerId } from './peer-ids.js';
import { RemotePeers } from './remote-peers.js';
import { Router } from './router.js';
import { ServedCalls } from './served-calls.js';
import { type ClusterStats, newStats } from './stats.js';
import type { ClusterTransport } from './transport.js';
import { errorFromWire } from './wire-errors.js';

/** Resolved settings of one node. */
export interface NodeSettings {
  readonly prefix: string;
  readonly nodeId: string;
  /** Heartbeat period; 0: none (the memory cluster, whose nodes cannot die silently). */
  readonly heartbeatMs: number;
  /** Silence after which another node counts as dead, and the expiry of presence; 0: never. */
  readonly nodeTimeoutMs: number;
  /** Default timeout of requests routed to other nodes; undefined: the server's. */
  readonly requestTimeoutMs: number | undefined;
}

/** What a node tells the adapter that made it. */
export interface NodeEvents {
  up(node: ClusterNode): void;
  down(node: ClusterNode, error: Error): void;
  /** The node left (its server closed). */
  left(node: ClusterNode): void;
}

function tick(node: ClusterNode): void {
  node.heartbeat();
}

/**
 * One server's membership of a cluster, over any {@link ClusterTransport}: presence with
 * heartbeats, broadcast fan-out, requests and events routed to the node that holds a peer, and
 * the failure rules (a node that dies fails what went through it; an unreachable engine fails
 * cross-node calls at once while local work goes on).
 */
export class ClusterNode implements ClusterMember {
  readonly nodeId: string;
  readonly incarnation = randomBytes(4).toString('hex');
  readonly stats: ClusterStats = newStats();
  readonly #settings: NodeSettings;
  readonly host: ClusterHost;
  readonly #transport: ClusterTransport;
  readonly #events: NodeEvents;
  readonly #directory: NodeDirectory;
  readonly #outgoing: OutgoingCalls;
  readonly router: Router;
  readonly #streams: NodeStreams;
  readonly #served = new ServedCalls(this);
  readonly #outbox: Outbox;
  /** Local peers as stored in presence (JSON), by id. */
  readonly #peers = new Map<string, string>();
  /** Bumped on every change of `#peers`, so a registration knows whether it wrote the latest. */
  #peersVersion = 0;
  readonly #allChannel: string;
  readonly #heartbeat: NodeJS.Timeout | undefined;
  #nextPeer = 0;
  /** Connected and registered: cross-node calls may go. */
  #available = false;
  #registering = false;
  /** `performance.now()` when the refresh still awaiting its answer was sent; 0: none. */
  #refreshSentAt = 0;
  #draining = false;
  #left = false;

  constructor(settings: NodeSettings, host: ClusterHost, transport: ClusterTransport, events: NodeEvents) {
    this.#settings = settings;
    this.nodeId = settings.nodeId;
    this.host = host;
    this.#transport = transport;
    this.#events = events;
    this.#allChannel = `${settings.prefix}:all`;
    this.#directory = new NodeDirectory(settings.nodeTimeoutMs, (nodeId, reason) => this.#nodeGone(nodeId, reason), new RemotePeers(transport, settings.heartbeatMs));
    this.router = new Router(this.nodeId, this.#directory, transport);
    this.#streams = new NodeStreams(this);
    this.#outgoing = new OutgoingCalls({ cancel: (call) => this.reply(call.nodeId, { t: 'c', id: call.id }) });
    this.#outbox = new Outbox(transport, this.stats, { prefix: settings.prefix, nodeId: this.nodeId, incarnation: this.incarnation }, (call, error) =>
      this.#outgoing.fail(call, error),
    );
    if (settings.heartbeatMs > 0) {
      this.#heartbeat = setInterval(tick, settings.heartbeatMs, this);
      this.#heartbeat.unref();
    }
    transport.start([this.#allChannel, this.#channelOf(this.nodeId)], {
      message: (bytes) => this.#onMessage(bytes),
      ready: () => void this.#register(),
      lost: (error) => this.#lost(error),
    });
  }

  /** Connected to the cluster and registered: cross-node calls can go. */
  get available(): boolean {
    return this.#available;
  }

  // ---- ClusterMember -------------------------------------------------------------------------

  nextPeerId(): string {
    return formatPeerId(this.nodeId, this.incarnation, ++this.#nextPeer);
  }

  peerJoined(peer: ClusterPeerInfo): void {
    const value = JSON.stringify({ a: peer.address ?? null, u: peer.username, c: peer.connectedAt });
    this.#peers.set(peer.id, value);
    this.#peersVersion++;
    if (this.#available && !this.#draining) {
      this.#transport.addPeer(this.nodeId, peer.id, value, this.#settings.nodeTimeoutMs).catch((error: unknown) => this.#storeFailed(error));
      // After the write and at once, not at the end of the tick: before `authenticated` hands the id out.
      this.#send(this.#allChannel, { t: 'pj', peer: peer.id });
      this.#outbox.flush();
    }
  }

  peerLeft(peerId: string): void {
    if (!this.#peers.delete(peerId)) return;
    this.#peersVersion++;
    if (this.#available && !this.#draining) {
      this.#transport.removePeer(this.nodeId, peerId).catch((error: unknown) => this.#storeFailed(error));
      this.#send(this.#allChannel, { t: 'pl', peer: peerId });
    }
  }

  broadcast(event: EventName, data: unknown): void {
    if (!this.#available) {
      this.stats.lostBroadcasts++;
      return;
    }
    this.#send(this.#allChannel, { t: 'b', e: event, v: data });
  }

  send(peerId: string, event: EventName, data: unknown): boolean {
    const nodeId = this.router.resolveNow(peerId);
    if (!this.#available) throw clusterUnavailable();
    this.#send(this.#channelOf(nodeId), { t: 's', to: peerId, e: event, v: data });
    return true;
  }

  request(peerId: string, method: string, params: unknown, options: RequestOptions): Promise<unknown> {
    const timeoutMs = callTimeout(method, options, this.#settings.requestTimeoutMs ?? this.host.requestTimeoutMs);
    if (timeoutMs instanceof Error) return Promise.reject(timeoutMs);
    if (!this.#available) return Promise.reject(clusterUnavailable());
    let route: string | Promise<string>;
    try {
      route = this.router.resolve(peerId);
    } catch (error) {
      return Promise.reject(error);
    }
    const call = this.#outgoing.open(peerId, method, timeoutMs, options.signal);
    if (typeof route === 'string') this.#dispatch(call, route, timeoutMs, params);
    else {
      route.then(
        (nodeId) => {
          if (this.#outgoing.pending(call)) this.#dispatch(call, nodeId, timeoutMs, params);
        },
        (error: Error) => this.#outgoing.fail(call, error),
      );
    }
    return call.promise;
  }

  stream(peerId: string, method: string, params: unknown, options: ClusterStreamOptions): AsyncIterableIterator<unknown> {
    return this.#streams.open(peerId, method, params, options);
  }

  async peers(): Promise<ClusterPeerInfo[]> {
    if (!this.#available) throw clusterUnavailable();
    return this.#directory.peers.listed(await listPeers(this.#transport, this.#settings.requestTimeoutMs ?? this.host.requestTimeoutMs, this.stats));
  }

  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    // Gone from the registry at once; messages still flow so calls in flight can finish.
    if (this.#transport.ready) this.#transport.unregister(this.nodeId).catch(() => {});
  }

  async leave(): Promise<void> {
    if (this.#left) return;
    this.#left = true;
    this.#draining = true;
    clearInterval(this.#heartbeat);
    const closing = (): Error => new ConnectionClosedError('the server left the cluster');
    this.#outgoing.failAll(closing);
    this.#served.abortNode(undefined, closing());
    this.#streams.nodeGone(undefined, closing);
    this.#directory.clear();
    if (this.#transport.ready) {
      this.#send(this.#allChannel, { t: 'bye' });
      this.#outbox.flush();
      await this.#transport.unregister(this.nodeId).catch(() => {});
    }
    this.#available = false;
    await this.#transport.close();
    this.#events.left(this);
  }

  // ---- presence --------------------------------------------------------------------------------

  /** Heartbeat timer: refresh presence and tell the others we are alive (or retry registering). */
  heartbeat(): void {
    if (!this.#transport.ready) return;
    if (this.#refreshSentAt !== 0) {
      // Connected but silent (a frozen Redis, a dead network path the socket has not noticed):
      // after nodeTimeoutMs without an answer, treat it as an outage rather than wait for ever.
      const silentMs = performance.now() - this.#refreshSentAt;
      if (this.#available && silentMs >= this.#settings.nodeTimeoutMs) {
        this.#lost(new Error(`Redis has not answered for ${Math.round(silentMs)} ms`));
      }
      return;
    }
    if (!this.#available) {
      void this.#register();
      return;
    }
    if (!this.#draining) {
      this.#refreshSentAt = performance.now();
      this.#transport.refresh(this.nodeId, this.incarnation, this.#settings.nodeTimeoutMs).then(
        () => {
          this.#refreshSentAt = 0;
        },
        (error: unknown) => {
          this.#refreshSentAt = 0;
          this.#storeFailed(error);
        },
      );
    }
    this.#send(this.#allChannel, this.#draining ? { t: 'hb' } : { t: 'hb', c: this.#peers.size });
  }

  /** The transport is (again) connected and subscribed: write presence, announce, go up. */
  async #register(): Promise<void> {
    if (this.#registering || this.#left) return;
    this.#registering = true;
    try {
      // Peers that join or leave while it is written are not sent on their own: write again.
      for (let version = -1; version !== this.#peersVersion && !this.#draining; ) {
        version = this.#peersVersion;
        await this.#transport.register(this.nodeId, this.incarnation, this.#peers, this.#settings.nodeTimeoutMs);
      }
    } catch (error) {
      this.host.reportError(clusterUnavailable(error, 'could not register this node in the cluster'));
      return;
    } finally {
      this.#registering = false;
    }
    if (this.#left || !this.#transport.ready || this.#available) return;
    this.#available = true;
    this.#directory.peers.registered();
    this.#send(this.#allChannel, { t: 'hb', r: 1 });
    this.#events.up(this);
  }

  #lost(error: Error): void {
    const wasAvailable = this.#available;
    this.#available = false;
    const reason = (): Error => clusterUnavailable(error);
    this.#outgoing.failAll(reason);
    this.#served.abortNode(undefined, reason());
    this.#streams.nodeGone(undefined, reason);
    this.#directory.clear();
    if (this.#left) return;
    const report = clusterUnavailable(error, wasAvailable ? 'lost the connection to the cluster' : 'cannot reach the cluster');
    this.host.reportError(report);
    this.#events.down(this, report);
  }

  #storeFailed(error: unknown): void {
    // The transport reports the outage itself; a command failing while it is up is worth an error.
    if (this.#transport.ready) this.host.reportError(clusterUnavailable(error, 'could not update presence'));
  }

  #nodeGone(nodeId: string, reason: string): void {
    const error = (): Error => new ConnectionClosedError(`node ${nodeId} ${reason}: the request's answer cannot arrive`);
    this.#outgoing.failNode(nodeId, error);
    this.#served.abortNode(nodeId, error());
    this.#streams.nodeGone(nodeId, error);
  }

  // ---- messages --------------------------------------------------------------------------------

  #channelOf(nodeId: string): string {
    return `${this.#settings.prefix}:node:${nodeId}`;
  }

  /** Encode and publish (at the end of the tick); a failure to publish is the transport's outage, counted. */
  #send(channel: string, message: OutgoingMessage): void {
    this.#outbox.post(channel, this.#outbox.encode(message));
  }

  /** ServingNode: the server is closing. */
  get draining(): boolean {
    return this.#draining;
  }

  /** StreamingNode: publish to another node's channel; throws when the message cannot be encoded. */
  publishTo(nodeId: string, message: OutgoingMessage): void {
    this.#send(this.#channelOf(nodeId), message);
  }

  /** ServingNode: publish to another node's channel (answers and items came as JSON: they encode). */
  reply(nodeId: string, message: OutgoingMessage): void {
    try {
      this.publishTo(nodeId, message);
    } catch {}
  }

  #dispatch(call: OutgoingCall, nodeId: string, timeoutMs: number, params: unknown): void {
    call.nodeId = nodeId;
    let bytes: Buffer;
    try {
      bytes = this.#outbox.encode(requestMessage(call, timeoutMs, params));
    } catch (error) {
      this.#outgoing.fail(call, error instanceof Error ? error : new InvalidArgError(String(error)));
      return;
    }
    call.sent = true;
    this.#outbox.post(this.#channelOf(nodeId), bytes, call);
  }

  #onMessage(bytes: Buffer): void {
    if (this.#left) return;
    if (!isBatch(bytes)) {
      this.#onOne(bytes);
      return;
    }
    const parts = splitBatch(bytes);
    if (parts === undefined) this.stats.malformed++;
    else for (const part of parts) this.#onOne(part);
  }

  #onOne(bytes: Buffer): void {
    if (this.#left) return;
    const decoded = decodeMessage(this.#settings.prefix, bytes);
    if (!decoded.ok) {
      this.stats[decoded.reason]++;
      return;
    }
    const message = decoded.message;
    if (message.n === this.nodeId) {
      // Our own broadcasts and heartbeats come back on the shared channel. The same id with
      // another incarnation is a second node configured with our id: count it, never act on it.
      if (message.k !== this.incarnation) this.stats.foreign++;
      return;
    }
    this.stats.messagesIn++;
    if (message.t === 'bye') {
      this.#directory.drop(message.n, 'left the cluster');
      return;
    }
    this.#directory.seen(message.n, message.k);
    // A node that just registered learns of this one at once, not at its next heartbeat.
    if (this.#directory.peers.heard(message) && this.#available) this.publishTo(message.n, { t: 'hb' });
    this.#handle(message);
  }

  #handle(message: ClusterMessage): void {
    switch (message.t) {
      case 'b':
        this.host.broadcastLocal(message.e, message.v);
        return;
      case 's':
        this.#served.deliver(message);
        return;
      case 'q':
        this.#served.serve(message);
        return;
      case 'c':
        this.#served.cancel(message.n, message.id, new AbortedError('the caller cancelled the request'));
        return;
      case 'r': {
        const call = this.#outgoing.take(message.id, message.n);
        if (call === undefined) this.stats.dropped++;
        else if (message.ok) call.resolve(message.v);
        else call.reject(errorFromWire(message.err!, call.method, call.peerId));
        return;
      }
      default:
        this.#streams.handle(message);
    }
  }

  /** ServingNode: one of this node's peer ids (this node id and incarnation). */
  isMine(peerId: string): boolean {
    const target = parsePeerId(peerId);
    return target !== undefined && target.nodeId === this.nodeId && target.incarnation === this.incarnation;
  }
}
