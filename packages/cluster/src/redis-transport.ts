import { Buffer } from 'node:buffer';
import { ClusterUnavailableError } from './errors.js';
import type { RedisClientLike } from './redis-client.js';
import { listPeers, readIncarnation, readPeerIds } from './redis-presence.js';
import type { ClusterTransport, StoredPeer, TransportHandlers } from './transport.js';

/** How the transport got its connections. */
export interface RedisConnections {
  /** Commands and publishing. */
  readonly commands: RedisClientLike;
  /** Whether `commands` was opened by the cluster (then it closes it too). */
  readonly ownsCommands: boolean;
}

const EVENTS = ['ready', 'error', 'end', 'reconnecting'] as const;

/**
 * Options of every PUBLISH: no per-command timeout (node-redis v6 arms an `AbortSignal.timeout`
 * per command by default, a timer per message). A publish cannot wait for ever: the request it
 * carries has its own deadline, and a Redis that stops answering is detected by the heartbeat
 * (`nodeTimeoutMs`) and fails everything in flight.
 */
const PUBLISH_OPTIONS = { timeout: 0 } as const;

/**
 * Pub/sub and presence over Redis: one connection for commands and PUBLISH (the `client` passed
 * in, or one opened from `url`) plus one subscriber connection duplicated from it. Redis may go
 * away at any time: every command first checks that both connections are ready and otherwise
 * rejects at once with ERR_CLUSTER_UNAVAILABLE (nothing waits in an offline queue), and the
 * node is told once per outage (`lost`) and again when both are back and subscribed (`ready`;
 * node-redis re-subscribes the subscriber by itself on reconnect).
 */
export class RedisTransport implements ClusterTransport {
  readonly #prefix: string;
  readonly #commands: RedisClientLike;
  readonly #ownsCommands: boolean;
  #subscriber: RedisClientLike | undefined;
  #handlers: TransportHandlers | undefined;
  #subscribed = false;
  /** What the node was last told. */
  #state: 'starting' | 'ready' | 'lost' | 'closed' = 'starting';
  readonly #onEvent = (error?: unknown): void => this.#check(error);

  constructor(prefix: string, connections: RedisConnections) {
    this.#prefix = prefix;
    this.#commands = connections.commands;
    this.#ownsCommands = connections.ownsCommands;
  }

  get ready(): boolean {
    return this.#subscribed && this.#commands.isReady && this.#subscriber?.isReady === true;
  }

  start(channels: readonly string[], handlers: TransportHandlers): void {
    this.#handlers = handlers;
    const commands = this.#commands;
    for (const event of EVENTS) commands.on(event, this.#onEvent);
    // The subscriber is ours whoever owns `commands`; it never queues commands while offline.
    const subscriber = commands.duplicate({ disableOfflineQueue: true });
    this.#subscriber = subscriber;
    for (const event of EVENTS) subscriber.on(event, this.#onEvent);
    const onMessage = (message: Buffer): void => {
      if (this.#state !== 'closed') handlers.message(message);
    };
    if (!commands.isOpen) commands.connect().catch((error: unknown) => this.#check(error));
    subscriber
      .connect()
      .then(() => subscriber.subscribe([...channels], onMessage, true))
      .then(
        () => {
          this.#subscribed = true;
          this.#check(undefined);
        },
        (error: unknown) => this.#check(error),
      );
  }

  /** Any connection event: tell the node when the combined state changed. */
  #check(error: unknown): void {
    if (this.#state === 'closed' || this.#handlers === undefined) return;
    if (this.ready) {
      if (this.#state !== 'ready') {
        this.#state = 'ready';
        this.#handlers.ready();
      }
      return;
    }
    // Not ready: connecting for the first time, or an outage. Only an error or a drop is news.
    if (this.#state === 'lost' || (this.#state === 'starting' && error === undefined)) return;
    this.#state = 'lost';
    this.#handlers.lost(error instanceof Error ? error : new Error('the connection to Redis was lost'));
  }

  #key(kind: 'nodes' | 'peers', nodeId: string): string {
    return `${this.#prefix}:${kind}:${nodeId}`;
  }

  /** Run a command on the command connection, or fail at once while Redis is unreachable. */
  #run(args: readonly (string | Buffer)[], options?: { readonly timeout: number }): Promise<unknown> {
    if (!this.ready) return Promise.reject(new ClusterUnavailableError('Redis is unreachable'));
    return this.#commands.sendCommand(args, options);
  }

  publish(channel: string, message: Buffer): Promise<unknown> {
    return this.#run(['PUBLISH', channel, message], PUBLISH_OPTIONS);
  }

  async register(nodeId: string, incarnation: string, peers: ReadonlyMap<string, string>, ttlMs: number): Promise<void> {
    const peersKey = this.#key('peers', nodeId);
    const writes: Promise<unknown>[] = [this.#run(['DEL', peersKey])];
    if (peers.size > 0) {
      const fields: string[] = [];
      for (const [id, value] of peers) fields.push(id, value);
      writes.push(this.#run(['HSET', peersKey, ...fields]), this.#run(['PEXPIRE', peersKey, String(ttlMs)]));
    }
    // The node key last: it is what tells other nodes this one is there.
    writes.push(this.#run(['SET', this.#key('nodes', nodeId), incarnation, 'PX', String(ttlMs)]));
    await Promise.all(writes);
  }

  async refresh(nodeId: string, incarnation: string, ttlMs: number): Promise<void> {
    await Promise.all([
      this.#run(['SET', this.#key('nodes', nodeId), incarnation, 'PX', String(ttlMs)]),
      this.#run(['PEXPIRE', this.#key('peers', nodeId), String(ttlMs)]),
    ]);
  }

  async addPeer(nodeId: string, peerId: string, value: string, ttlMs: number): Promise<void> {
    const key = this.#key('peers', nodeId);
    await Promise.all([this.#run(['HSET', key, peerId, value]), this.#run(['PEXPIRE', key, String(ttlMs)])]);
  }

  async removePeer(nodeId: string, peerId: string): Promise<void> {
    await this.#run(['HDEL', this.#key('peers', nodeId), peerId]);
  }

  incarnationOf(nodeId: string): Promise<string | undefined> {
    return readIncarnation((args) => this.#run(args), this.#key('nodes', nodeId));
  }

  listPeers(): Promise<StoredPeer[]> {
    return listPeers((args) => this.#run(args), this.#prefix);
  }

  peerIdsOf(nodeId: string): Promise<string[]> {
    return readPeerIds((args) => this.#run(args), this.#key('peers', nodeId));
  }

  async unregister(nodeId: string): Promise<void> {
    await this.#run(['DEL', this.#key('nodes', nodeId), this.#key('peers', nodeId)]);
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    for (const event of EVENTS) this.#commands.off(event, this.#onEvent);
    const subscriber = this.#subscriber;
    if (subscriber !== undefined) {
      for (const event of EVENTS) subscriber.off(event, this.#onEvent);
      subscriber.destroy();
    }
    // A client passed in stays open: it is the application's.
    if (this.#ownsCommands) this.#commands.destroy();
  }
}
