// Curated public entry point of @proto/cluster: values first, then types.

export { createMemoryCluster } from './memory-cluster.js';
export { createRedisCluster, RedisCluster } from './redis-cluster.js';
export {
  AbortedError,
  ClusterErrorCode,
  ClusterUnavailableError,
  ConnectionClosedError,
  InvalidArgError,
  PeerNotFoundError,
  ProtoError,
  RemoteError,
  RequestTimeoutError,
} from './errors.js';

export type { MemoryCluster, MemoryClusterOptions } from './memory-cluster.js';
export type { RedisClusterEvents, RedisClusterOptions } from './redis-cluster.js';
export type { RedisClientLike } from './redis-client.js';
export type { ClusterStats } from './stats.js';
export type { ClusterAdapter, ClusterHost, ClusterMember, ClusterPeerInfo } from '@proto/rpc';
