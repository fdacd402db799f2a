import type { Buffer } from 'node:buffer';

/**
 * The part of a node-redis client (`createClient()` of `redis` or `@redis/client`, v5 or later)
 * the cluster uses. Any such client fits; a Redis Cluster client (`createCluster`) does not.
 */
export interface RedisClientLike {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  /** A new client with the same options (plus `overrides`), not connected. */
  duplicate(overrides: { disableOfflineQueue: boolean }): RedisClientLike;
  /** `options.timeout`: node-redis's per-command timeout (0: none). */
  sendCommand(args: readonly (string | Buffer)[], options?: { readonly timeout: number }): Promise<unknown>;
  subscribe(channels: string[], listener: (message: Buffer, channel: Buffer) => unknown, bufferMode: true): Promise<void>;
  on(event: string, listener: (error?: unknown) => void): unknown;
  off(event: string, listener: (error?: unknown) => void): unknown;
  destroy(): void;
}
