import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createClient } from '@redis/client';
import type { ClusterAdapter, ClusterHost, ClusterMember } from '@proto/rpc';
import { ClusterNode, type NodeSettings } from './cluster-node.js';
import { InvalidArgError } from './errors.js';
import { NODE_ID_PATTERN } from './peer-ids.js';
import type { RedisClientLike } from './redis-client.js';
import { RedisTransport } from './redis-transport.js';
import { type ClusterStats, newStats } from './stats.js';

/** Options of {@link createRedisCluster}. */
export interface RedisClusterOptions {
  /**
   * Where Redis is: `redis[s]://[[username][:password]@][host][:port][/db]`. The cluster opens
   * (and closes) its own two connections. Ignored when `client` is given.
   * @default 'redis://localhost:6379'
   */
  url?: string | undefined;
  /**
   * A node-redis client (`createClient()` from `redis` or `@redis/client`) to use instead of
   * `url`. It stays yours: connected by the cluster if it is not open yet, never closed by it.
   * The subscriber connection is duplicated from it (and closed with the server).
   */
  client?: RedisClientLike | undefined;
  /**
   * Namespace of every channel and key the cluster uses (`<prefix>:all`, `<prefix>:node:<id>`,
   * `<prefix>:nodes:<id>`, `<prefix>:peers:<id>`). Servers with the same prefix on the same Redis
   * form one cluster.
   * @default 'proto'
   */
  prefix?: string | undefined;
  /**
   * This server's id in the cluster: 1 to 64 of `A-Z a-z 0-9 _ - .`, unique among the live nodes.
   * @default a random id
   */
  nodeId?: string | undefined;
  /**
   * How often the node refreshes its presence and tells the others it is alive.
   * At most half of `nodeTimeoutMs`.
   * @default nodeTimeoutMs / 4
   */
  heartbeatMs?: number | undefined;
  /**
   * A node not heard from for this long counts as dead: it leaves the registry (its keys expire)
   * and requests in flight through it fail with `ERR_CONNECTION_CLOSED`.
   * @default 10000
   */
  nodeTimeoutMs?: number | undefined;
  /**
   * Default timeout of requests routed to another node (a call's own `timeoutMs` wins), and the
   * longest `clusterPeers()` waits for Redis.
   * @default the server's `requestTimeoutMs`
   */
  requestTimeoutMs?: number | undefined;
}

/** Events of {@link RedisCluster}. */
export interface RedisClusterEvents {
  /** Connected, subscribed and registered: cross-node calls work (first time and after an outage). */
  up: [];
  /** Redis became unreachable (the server also emits `error`); cross-node calls fail until `up`. */
  down: [error: Error];
}

/** The most a reconnect to Redis waits between attempts. */
const MAX_RECONNECT_DELAY_MS = 1000;

function reconnectDelay(retries: number): number {
  return Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS);
}

/**
 * A cluster member over Redis (made by {@link createRedisCluster}): pass it to one
 * `new RpcServer({ ..., cluster })`. Watch `available`, `up`/`down` and `stats`.
 */
export class RedisCluster extends EventEmitter<RedisClusterEvents> implements ClusterAdapter {
  /** This server's node id. */
  readonly nodeId: string;
  /** The channel and key namespace. */
  readonly prefix: string;
  readonly #settings: NodeSettings;
  readonly #url: string | undefined;
  readonly #client: RedisClientLike | undefined;
  #node: ClusterNode | undefined;

  /** @internal use {@link createRedisCluster} */
  constructor(options: RedisClusterOptions) {
    super();
    this.#settings = resolveSettings(options);
    this.nodeId = this.#settings.nodeId;
    this.prefix = this.#settings.prefix;
    this.#url = options.url;
    this.#client = options.client;
  }

  /** Connected to Redis and registered: cross-node calls can go. */
  get available(): boolean {
    return this.#node?.available ?? false;
  }

  /** Counters of this node's cluster traffic (live object). */
  get stats(): Readonly<ClusterStats> {
    return this.#node?.stats ?? newStats();
  }

  /** Resolves once the node is available (at once when it is). */
  ready(): Promise<void> {
    if (this.available) return Promise.resolve();
    return new Promise((resolve) => this.once('up', resolve));
  }

  /** Called by the RpcServer given this adapter. */
  join(host: ClusterHost): ClusterMember {
    if (this.#node !== undefined) {
      throw new InvalidArgError('a Redis cluster adapter serves one server: call createRedisCluster() once per server');
    }
    const client = this.#client;
    const commands = client ?? createClient({
      ...(this.#url === undefined ? {} : { url: this.#url }),
      disableOfflineQueue: true,
      socket: { reconnectStrategy: reconnectDelay },
    });
    const transport = new RedisTransport(this.prefix, { commands, ownsCommands: client === undefined });
    this.#node = new ClusterNode(this.#settings, host, transport, {
      up: () => this.emit('up'),
      down: (_node, error) => this.emit('down', error),
      left: () => {},
    });
    return this.#node;
  }
}

/**
 * A Redis-backed cluster for one RpcServer: `new RpcServer({ password, cluster:
 * createRedisCluster({ url: 'redis://localhost:6379' }) })`. Servers on any machine sharing a
 * Redis (and a `prefix`) then broadcast to each other's peers and reach any peer by id.
 * @throws InvalidArgError for invalid options.
 */
export function createRedisCluster(options: RedisClusterOptions = {}): RedisCluster {
  return new RedisCluster(options);
}

function resolveSettings(options: RedisClusterOptions): NodeSettings {
  if (typeof options !== 'object' || options === null) throw new InvalidArgError('createRedisCluster options must be an object');
  const { url, client, prefix = 'proto', nodeId = randomBytes(6).toString('hex') } = options;
  if (url !== undefined && typeof url !== 'string') throw new InvalidArgError('url must be a string');
  if (client !== undefined && (typeof client !== 'object' || client === null || typeof client.duplicate !== 'function')) {
    throw new InvalidArgError('client must be a node-redis client (createClient())');
  }
  if (typeof prefix !== 'string' || prefix.length === 0 || prefix.length > 128) throw new InvalidArgError('prefix must be 1 to 128 characters');
  if (typeof nodeId !== 'string' || !NODE_ID_PATTERN.test(nodeId)) {
    throw new InvalidArgError(`nodeId must be 1 to 64 of A-Z a-z 0-9 _ - . (got ${JSON.stringify(nodeId)})`);
  }
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 10_000;
  checkPositive('nodeTimeoutMs', nodeTimeoutMs);
  const heartbeatMs = options.heartbeatMs ?? Math.max(1, Math.floor(nodeTimeoutMs / 4));
  checkPositive('heartbeatMs', heartbeatMs);
  if (heartbeatMs * 2 > nodeTimeoutMs) {
    throw new InvalidArgError(`heartbeatMs (${heartbeatMs}) must be at most half of nodeTimeoutMs (${nodeTimeoutMs})`);
  }
  const requestTimeoutMs = options.requestTimeoutMs;
  if (requestTimeoutMs !== undefined && !(typeof requestTimeoutMs === 'number' && requestTimeoutMs >= 0 && Number.isFinite(requestTimeoutMs))) {
    throw new InvalidArgError(`requestTimeoutMs must be a number >= 0, got ${String(requestTimeoutMs)}`);
  }
  return { prefix, nodeId, heartbeatMs, nodeTimeoutMs, requestTimeoutMs };
}

function checkPositive(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new InvalidArgError(`${name} must be a positive integer (milliseconds), got ${String(value)}`);
  }
}
