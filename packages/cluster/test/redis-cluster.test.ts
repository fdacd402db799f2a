import { once } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { createClient } from '@redis/client';
import { RpcErrorCode, type RpcServer } from '@proto/rpc';
import { startChildServer } from '../../../testing/child-server.js';
import { Cleanup } from '../../../testing/cleanup.js';
import { failOnUncaught } from '../../../testing/uncaught.js';
import { createRedisCluster, type RedisCluster, type RedisClusterOptions } from '../src/index.js';
import { encodeMessage } from '../src/envelope.js';
import { collect, connectClient, FAST, PASSWORD, rejection, startServer, useRedis } from './helpers.js';

const { redis, newPrefix } = useRedis('test');

const cleanup = new Cleanup();
failOnUncaught(cleanup);

async function node(prefix: string, options: Partial<RedisClusterOptions> = {}): Promise<{ server: RpcServer; cluster: RedisCluster }> {
  const cluster = createRedisCluster({ url: redis.url, prefix, ...FAST, ...options });
  const server = await startServer(cleanup, cluster);
  await cluster.ready();
  return { server, cluster };
}

/** A raw Redis connection for the test itself. */
async function rawClient() {
  const client = createClient({ url: redis.url });
  client.on('error', () => {});
  await client.connect();
  cleanup.add(client, (c) => c.destroy());
  return client;
}

describe('Redis cluster', () => {
  it('spans processes: broadcast, routed requests, and a SIGKILLed node leaves within nodeTimeoutMs', async () => {
    const prefix = newPrefix();
    const a = await node(prefix);
    const b = await node(prefix);
    const child = await startChildServer({ password: PASSWORD, serverOptions: { keepAlive: false }, cluster: { url: redis.url, prefix, nodeId: 'child', ...FAST } });
    cleanup.add(child, (c) => c.kill());
    const onA = await connectClient(cleanup, a.server, 'on-a');
    const onB = await connectClient(cleanup, b.server, 'on-b');
    const onChild = await connectClient(cleanup, child.port, 'on-child');

    // Another node's registration is written to Redis just after its client authenticated, so
    // this node sees it eventually, not at the moment connect() resolved on the client.
    const peers = await vi.waitFor(async () => {
      const listed = await b.server.clusterPeers();
      expect(listed.map((p) => [p.username, p.nodeId]).sort()).toEqual([
        ['on-a', a.cluster.nodeId],
        ['on-b', b.cluster.nodeId],
        ['on-child', 'child'],
      ]);
      return listed;
    }, { timeout: 5000, interval: 20 });
    const childPeer = peers.find((p) => p.nodeId === 'child')!.id;

    const got = [onA, onB, onChild].map(({ client }) => collect(client, 'news::*', 1));
    expect(a.server.broadcast('news::item', { n: 1 })).toBe(1);
    expect(await Promise.all(got)).toEqual([[{ n: 1 }], [{ n: 1 }], [{ n: 1 }]]);

    onChild.client.handle('echo', (params) => params);
    expect(await a.server.request(childPeer, 'echo', { hi: 'there' })).toEqual({ hi: 'there' });
    expect(await a.server.request(onB.peerId, 'missing').catch((e: { code: string }) => e.code)).toBe(RpcErrorCode.METHOD_NOT_FOUND);

    const started = new Promise<void>((resolve) => {
      onChild.client.handle('hold', () => {
        resolve();
        return new Promise(() => {});
      });
    });
    const pending = rejection(a.server.request(childPeer, 'hold', undefined, { timeoutMs: 0 }));
    await started;
    const killedAt = Date.now();
    await child.kill('SIGKILL');
    const error = await pending;
    const elapsed = Date.now() - killedAt;
    expect(error.code).toBe(RpcErrorCode.CONNECTION_CLOSED);
    expect(elapsed).toBeLessThanOrEqual(FAST.nodeTimeoutMs + 250);
    // Its presence expired with it.
    expect((await a.server.clusterPeers()).map((p) => p.nodeId).sort()).toEqual([a.cluster.nodeId, b.cluster.nodeId].sort());
    expect(await rejection(a.server.request(childPeer, 'echo'))).toMatchObject({ code: RpcErrorCode.PEER_NOT_FOUND });
  });

  it('survives a Redis outage: local work goes on, cross-node calls fail fast, all comes back by itself', async () => {
    const prefix = newPrefix();
    const a = await node(prefix);
    const b = await node(prefix);
    const errors: Error[] = [];
    a.server.on('error', (error) => errors.push(error));
    // b has no `error` listener: the outage must not throw anywhere (failOnUncaught checks).
    const local = await connectClient(cleanup, a.server);
    const remote = await connectClient(cleanup, b.server);
    local.client.handle('echo', (params) => params);
    remote.client.handle('echo', (params) => params);
    const held = new Promise<void>((resolve) => {
      remote.client.handle('hold', () => {
        resolve();
        return new Promise(() => {});
      });
    });
    const inFlight = rejection(a.server.request(remote.peerId, 'hold', undefined, { timeoutMs: 0 }));
    await held;

    const down = Promise.all([once(a.cluster, 'down'), once(b.cluster, 'down')]);
    await redis.kill();
    await down;
    expect(a.cluster.available).toBe(false);
    expect((await inFlight).code).toBe(RpcErrorCode.CLUSTER_UNAVAILABLE);
    expect(errors.some((e) => (e as { code?: string }).code === RpcErrorCode.CLUSTER_UNAVAILABLE)).toBe(true);

    // Local work is untouched.
    expect(await a.server.request(local.peerId, 'echo', 1)).toBe(1);
    expect(await local.client.request('missing').catch((e: { code: string }) => e.code)).toBe(RpcErrorCode.METHOD_NOT_FOUND);
    const localNews = collect(local.client, 'news::*', 1);
    expect(a.server.broadcast('news::during', 'outage')).toBe(1);
    expect(await localNews).toEqual(['outage']);
    expect(a.cluster.stats.lostBroadcasts).toBe(1);
    // Cross-node calls fail at once.
    const started = Date.now();
    expect(await rejection(a.server.request(remote.peerId, 'echo', 2))).toMatchObject({ code: RpcErrorCode.CLUSTER_UNAVAILABLE });
    expect(Date.now() - started).toBeLessThan(100);
    expect(() => a.server.send(remote.peerId, 'x')).toThrow(expect.objectContaining({ code: RpcErrorCode.CLUSTER_UNAVAILABLE }));
    expect(await rejection(a.server.clusterPeers())).toMatchObject({ code: RpcErrorCode.CLUSTER_UNAVAILABLE });

    // Redis comes back empty (no persistence): both nodes re-subscribe and re-register by themselves.
    const up = Promise.all([once(a.cluster, 'up'), once(b.cluster, 'up')]);
    await redis.start();
    await up;
    expect(await a.server.request(remote.peerId, 'echo', 3)).toBe(3);
    expect((await a.server.clusterPeers()).map((p) => p.id).sort()).toEqual([local.peerId, remote.peerId].sort());
    const remoteNews = collect(remote.client, 'news::*', 1);
    a.server.broadcast('news::after', 'back');
    expect(await remoteNews).toEqual(['back']);
  });

  it('treats a Redis that stops answering (SIGSTOP) as an outage within nodeTimeoutMs, and recovers', async () => {
    const prefix = newPrefix();
    const a = await node(prefix);
    const b = await node(prefix);
    const remote = await connectClient(cleanup, b.server);
    remote.client.handle('echo', (params) => params);
    const down = once(a.cluster, 'down');
    redis.pause();
    const pausedAt = Date.now();
    try {
      await down;
      expect(Date.now() - pausedAt).toBeLessThanOrEqual(FAST.nodeTimeoutMs + FAST.heartbeatMs + 250);
      expect(await rejection(a.server.request(remote.peerId, 'echo', 1))).toMatchObject({ code: RpcErrorCode.CLUSTER_UNAVAILABLE });
    } finally {
      redis.resume();
    }
    await a.cluster.ready();
    await b.cluster.ready();
    expect(await a.server.request(remote.peerId, 'echo', 2)).toBe(2);
  });

  it('starts while Redis is down: works locally, reports it, and joins by itself once Redis is up', async () => {
    await redis.kill();
    const prefix = newPrefix();
    const cluster = createRedisCluster({ url: redis.url, prefix, ...FAST });
    const down = once(cluster, 'down');
    const server = await startServer(cleanup, cluster);
    const [error] = (await down) as [Error & { code?: string }];
    expect(error.code).toBe(RpcErrorCode.CLUSTER_UNAVAILABLE);
    expect(cluster.available).toBe(false);
    server.handle('ping', () => 'pong');
    const { client, peerId } = await connectClient(cleanup, server);
    expect(await client.request('ping')).toBe('pong');
    client.handle('echo', (params) => params);
    expect(await server.request(peerId, 'echo', 'local')).toBe('local');

    const up = once(cluster, 'up');
    await redis.start();
    await up;
    const other = await node(prefix);
    expect(await other.server.request(peerId, 'echo', 'remote')).toBe('remote');
    expect((await other.server.clusterPeers()).map((p) => p.id)).toEqual([peerId]);
  });

  it('ignores and counts malformed messages and messages of another prefix', async () => {
    const prefix = newPrefix();
    const a = await node(prefix);
    const b = await node(prefix);
    const { client } = await connectClient(cleanup, a.server);
    const raw = await rawClient();
    const garbage = [
      Buffer.from('not a cluster message'),
      Buffer.from([0x50, 0x43, 1, 0xff, 0xff, 0xff, 0xff]),
      encodeMessage(prefix, 'x', 'y', { t: 'q', id: -1, to: 'a:b:c', m: 'm', ms: 0, v: null }),
      Buffer.concat([Buffer.from([0x50, 0x43, 1, 0, 0, 0, 2]), Buffer.from('{]')]),
    ];
    for (const bytes of garbage) {
      await raw.publish(`${prefix}:all`, bytes);
      await raw.publish(`${prefix}:node:${a.cluster.nodeId}`, bytes);
    }
    await raw.publish(`${prefix}:all`, encodeMessage('another-cluster', 'x', 'y', { t: 'b', e: 'news::foreign', v: 1 }));
    // A valid message after them: once it arrives, everything before it was handled.
    const marker = collect(client, 'news::*', 1);
    await raw.publish(`${prefix}:all`, encodeMessage(prefix, 'tester', 'k', { t: 'b', e: 'news::marker', v: 'm' }));
    expect(await marker).toEqual(['m']);
    expect(a.cluster.stats.malformed).toBe(garbage.length * 2);
    expect(a.cluster.stats.foreign).toBe(1);
    // Still working.
    const other = await connectClient(cleanup, b.server);
    other.client.handle('echo', (params) => params);
    expect(await a.server.request(other.peerId, 'echo', 'ok')).toBe('ok');
  });

  it('publishes the cross-node requests of one tick as a batch: 200 requests, a handful of PUBLISH commands', async () => {
    const prefix = newPrefix();
    const a = await node(prefix, { heartbeatMs: 60_000, nodeTimeoutMs: 120_000 });
    const b = await node(prefix, { heartbeatMs: 60_000, nodeTimeoutMs: 120_000 });
    const held = await connectClient(cleanup, b.server);
    held.client.handle('double', (n) => (n as number) * 2);
    expect(await a.server.request(held.peerId, 'double', 0)).toBe(0); // routed once: both nodes know each other
    const raw = await rawClient();
    const publishCalls = async (): Promise<number> => {
      const info = await raw.info('commandstats');
      return Number(/cmdstat_publish:calls=(\d+)/.exec(info)?.[1] ?? 0);
    };
    const before = await publishCalls();
    const answers = await Promise.all(Array.from({ length: 200 }, (_, n) => a.server.request(held.peerId, 'double', n)));
    const published = (await publishCalls()) - before;
    expect(answers).toEqual(Array.from({ length: 200 }, (_, n) => n * 2));
    // Without batching: 200 requests + 200 answers = 400 PUBLISH commands.
    expect(published).toBeGreaterThan(0);
    expect(published).toBeLessThan(40);
  });

  it('puts no password on the channels', async () => {
    const prefix = newPrefix();
    const raw = await rawClient();
    const seen: Buffer[] = [];
    const spy = raw.duplicate();
    spy.on('error', () => {});
    await spy.connect();
    cleanup.add(spy, (c) => c.destroy());
    await spy.pSubscribe(`${prefix}:*`, (message) => seen.push(message), true);
    const a = await node(prefix);
    const b = await node(prefix);
    const onB = await connectClient(cleanup, b.server, 'bob');
    onB.client.handle('echo', (params) => params);
    expect(await a.server.request(onB.peerId, 'echo', 'x')).toBe('x');
    const news = collect(onB.client, 'news::*', 1);
    a.server.broadcast('news::n', 1);
    await news;
    expect(seen.length).toBeGreaterThan(3);
    for (const message of seen) expect(message.includes(PASSWORD)).toBe(false);
    const keys = await raw.keys(`${prefix}:*`);
    for (const key of keys) {
      const dump = JSON.stringify(key.includes(':peers:') ? await raw.hGetAll(key) : await raw.get(key));
      expect(dump.includes(PASSWORD)).toBe(false);
    }
  });

  it('closes only the connections it opened: a client passed in stays open', async () => {
    const prefix = newPrefix();
    const raw = await rawClient();
    const listed = async (): Promise<number> => String(await raw.sendCommand(['CLIENT', 'LIST'])).trim().split('\n').length;
    const before = await listed();
    const mine = createRedisCluster({ url: redis.url, prefix, ...FAST });
    const server = await startServer(cleanup, mine);
    await mine.ready();
    expect(await listed()).toBe(before + 2);
    const left = await connectClient(cleanup, server);
    await server.close();
    expect(await listed()).toBe(before);
    expect(await raw.exists(`${prefix}:nodes:${mine.nodeId}`)).toBe(0);
    expect(left.client.connected).toBe(false);

    const shared = await rawClient();
    const theirs = createRedisCluster({ client: shared, prefix, ...FAST });
    const second = await startServer(cleanup, theirs);
    await theirs.ready();
    await second.close();
    expect(shared.isOpen).toBe(true);
    expect(await shared.ping()).toBe('PONG');
  });

  it('validates its options and serves exactly one server', async () => {
    expect(() => createRedisCluster({ nodeId: 'has:colon' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    expect(() => createRedisCluster({ heartbeatMs: 600, nodeTimeoutMs: 1000 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    expect(() => createRedisCluster({ nodeTimeoutMs: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    const cluster = createRedisCluster({ url: redis.url, prefix: newPrefix(), ...FAST });
    await startServer(cleanup, cluster);
    await cluster.ready();
    await expect(startServer(cleanup, cluster)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
  });
});
