import { type ClusterAdapter, RpcClient, type RpcPeer, RpcServer, type RpcServerOptions } from '@proto/rpc';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Cleanup } from '../../../testing/cleanup.js';
import { RedisServer } from '../../../testing/redis-server.js';

export const PASSWORD = 'cluster test password 7f3a';

/** Presence timings short enough for tests: a dead node leaves the registry within 800 ms. */
export const FAST = { heartbeatMs: 100, nodeTimeoutMs: 800 } as const;

/**
 * The file's redis-server: started before its tests, stopped after them, and started again after a
 * test that left it stopped (an outage test that failed midway). `newPrefix()` gives each test its
 * own cluster namespace on it.
 */
export function useRedis(tag: string): { redis: RedisServer; newPrefix: () => string } {
  const redis = new RedisServer();
  beforeAll(() => redis.start());
  afterAll(() => redis.stop());
  afterEach(async () => {
    if (!redis.running) await redis.start();
  });
  let prefixes = 0;
  return { redis, newPrefix: () => `${tag}${++prefixes}-${process.pid}` };
}

/** A server of the cluster, listening on 127.0.0.1, closed by `cleanup`. */
export async function startServer(cleanup: Cleanup, cluster: ClusterAdapter, options: Partial<RpcServerOptions> = {}): Promise<RpcServer> {
  const server = new RpcServer({ password: PASSWORD, keepAlive: false, shutdownTimeoutMs: 200, ...options, cluster });
  cleanup.add(server, (s) => s.close());
  await server.listen({ host: '127.0.0.1', port: 0 });
  return server;
}

/** A client connected to `server`, with the id its server gave it. */
export async function connectClient(cleanup: Cleanup, server: RpcServer | number, username = ''): Promise<{ client: RpcClient; peerId: string }> {
  const port = typeof server === 'number' ? server : server.address().port;
  const client = new RpcClient({ host: '127.0.0.1', port, password: PASSWORD, username, keepAlive: false });
  cleanup.add(client, (c) => c.close({ timeoutMs: 200 }));
  if (typeof server === 'number') {
    await client.connect();
    return { client, peerId: '' };
  }
  const authenticated = new Promise<RpcPeer>((resolve) => server.once('authenticated', resolve));
  await client.connect();
  return { client, peerId: (await authenticated).id };
}

/** Resolves with the data of the first `count` events `event` the client receives. */
export function collect(client: RpcClient, event: string, count: number): Promise<unknown[]> {
  const seen: unknown[] = [];
  return new Promise((resolve) => {
    client.data(event, (data) => {
      seen.push(data);
      if (seen.length === count) resolve(seen);
    });
  });
}

/** Resolves with the error a promise rejected with (fails the test if it resolved). */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}
