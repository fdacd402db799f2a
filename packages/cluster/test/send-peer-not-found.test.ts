import { describe, expect, it, vi } from 'vitest';
import { RpcClient, RpcErrorCode, type RpcServer } from '@proto/rpc';
import { startChildServer } from '../../../testing/child-server.js';
import { Cleanup } from '../../../testing/cleanup.js';
import { failOnUncaught } from '../../../testing/uncaught.js';
import { createMemoryCluster, createRedisCluster, type RedisClusterOptions } from '../src/index.js';
import { collect, connectClient, FAST, PASSWORD, rejection, startServer, useRedis } from './helpers.js';

const { redis, newPrefix } = useRedis('send');

const cleanup = new Cleanup();
failOnUncaught(cleanup);

async function redisNode(prefix: string, options: Partial<RedisClusterOptions> = {}): Promise<RpcServer> {
  const cluster = createRedisCluster({ url: redis.url, prefix, ...FAST, ...options });
  const server = await startServer(cleanup, cluster);
  await cluster.ready();
  return server;
}

const notFound = expect.objectContaining({ code: RpcErrorCode.PEER_NOT_FOUND });

/**
 * Checks what holds once the cluster has settled. The memory cluster settles within the tick a
 * node registers in; Redis nodes within a heartbeat period and a round trip, so `settled` polls.
 */
type Settled = (check: () => void) => Promise<void>;

/**
 * `a` sends to peers of `b` (both up): (a) an unknown node, (c) a never-issued id, delivery to a
 * live peer, to one that joined after `a` read `b`'s peers, to one `a` learned from
 * clusterPeers(), (b) a peer that left; then `b` closes and its peers' ids throw.
 */
async function sendCases(a: RpcServer, b: RpcServer, settled: Settled): Promise<void> {
  const first = await connectClient(cleanup, b);
  first.client.handle('echo', (value) => value);
  const [nodeB, incarnationB] = first.peerId.split(':') as [string, string];

  // (a) A well-formed id of a node that is not alive.
  await settled(() => expect(() => a.send(`zzzz:${incarnationB}:1`, 'x')).toThrow(notFound));
  // (c) Never issued on a live node (throwing also shows `a` has read b's peers).
  await settled(() => expect(() => a.send(`${nodeB}:${incarnationB}:999999`, 'x')).toThrow(notFound));

  const got = collect(first.client, 'direct::msg', 1);
  expect(a.send(first.peerId, 'direct::msg', { n: 1 })).toBe(true);
  expect(await got).toEqual([{ n: 1 }]);

  // Joined after a read b's peers: its join was announced before b answers anything later.
  const late = await connectClient(cleanup, b);
  expect(await a.request(first.peerId, 'echo', 'after the join')).toBe('after the join');
  const lateGot = collect(late.client, 'direct::msg', 1);
  expect(a.send(late.peerId, 'direct::msg', 'late')).toBe(true);
  expect(await lateGot).toEqual(['late']);

  // Handed out by b's own process at once: a's send goes out before the join reaches a.
  const quick = new RpcClient({ host: '127.0.0.1', port: b.address().port, password: PASSWORD, keepAlive: false });
  cleanup.add(quick, (c) => c.close({ timeoutMs: 200 }));
  const quickGot = collect(quick, 'direct::msg', 1);
  const relayed = new Promise((resolve) => b.once('authenticated', (peer) => resolve(a.send(peer.id, 'direct::msg', 'relayed'))));
  await quick.connect();
  expect(await relayed).toBe(true);
  expect(await quickGot).toEqual(['relayed']);

  // Learned from a listing: sendable as soon as the listing is.
  const listed = await connectClient(cleanup, b, 'listed');
  const listedId = await vi.waitFor(async () => {
    const peer = (await a.clusterPeers()).find((p) => p.username === 'listed');
    expect(peer?.id).toBe(listed.peerId);
    return peer!.id;
  }, { timeout: 5000, interval: 10 });
  const listedGot = collect(listed.client, 'direct::msg', 1);
  expect(a.send(listedId, 'direct::msg', 'listed')).toBe(true);
  expect(await listedGot).toEqual(['listed']);

  // (b) A peer that left its live node: known once b answers anything after the leave.
  const gone = await connectClient(cleanup, b);
  const closed = new Promise((resolve) => b.once('close', resolve));
  await gone.client.close();
  await closed;
  expect(await rejection(a.request(gone.peerId, 'x'))).toMatchObject({ code: RpcErrorCode.PEER_NOT_FOUND, peerId: gone.peerId });
  expect(() => a.send(gone.peerId, 'x')).toThrow(notFound);
  // The others are still there.
  expect(a.send(first.peerId, 'direct::still', 1)).toBe(true);

  // The node closes: gone from a's directory with its goodbye.
  await b.close({ timeoutMs: 20 });
  await settled(() => expect(() => a.send(first.peerId, 'x')).toThrow(notFound));
  expect(() => a.send(late.peerId, 'x')).toThrow(notFound);
}

describe('send(peerId) to a peer no node holds', () => {
  it('memory cluster: throws ERR_PEER_NOT_FOUND at once, and still reaches live peers', async () => {
    const cluster = createMemoryCluster();
    const a = await startServer(cleanup, cluster);
    const b = await startServer(cleanup, cluster);
    // Settled by the time anything else happened: checked at once.
    await sendCases(a, b, async (check) => check());
    // A node that joined after `a` learns of it (a hello) and reads its peers at once.
    const c = await startServer(cleanup, cluster);
    const onA = await connectClient(cleanup, a);
    const got = collect(onA.client, 'direct::msg', 1);
    expect(c.send(onA.peerId, 'direct::msg', 'from c')).toBe(true);
    expect(await got).toEqual(['from c']);
    const [nodeA, incarnationA] = onA.peerId.split(':') as [string, string];
    expect(() => c.send(`${nodeA}:${incarnationA}:999999`, 'x')).toThrow(notFound);
  });

  it('Redis cluster: throws ERR_PEER_NOT_FOUND once settled, and still reaches live peers', async () => {
    const prefix = newPrefix();
    const a = await redisNode(prefix);
    const b = await redisNode(prefix);
    await sendCases(a, b, (check) => vi.waitFor(check, { timeout: 2000, interval: 10 }));
  });

  it('Redis cluster: hands over while a node may not have heard from every node yet', async () => {
    const prefix = newPrefix();
    // Registered a moment ago, with a heartbeat period far longer than this test.
    const slow = await redisNode(prefix, { heartbeatMs: 30_000, nodeTimeoutMs: 60_000 });
    expect(slow.send('zzzz:abcd:1', 'x')).toBe(true);
  });

  it('Redis cluster: the peers of a SIGKILLed node throw once it left the directory', async () => {
    const prefix = newPrefix();
    const a = await redisNode(prefix);
    const child = await startChildServer({ password: PASSWORD, serverOptions: { keepAlive: false }, cluster: { url: redis.url, prefix, nodeId: 'child', ...FAST } });
    cleanup.add(child, (c) => c.kill());
    const onChild = await connectClient(cleanup, child.port, 'on-child');
    const childPeer = await vi.waitFor(async () => {
      const peer = (await a.clusterPeers()).find((p) => p.nodeId === 'child');
      expect(peer).toBeDefined();
      return peer!.id;
    }, { timeout: 5000, interval: 20 });
    const got = collect(onChild.client, 'direct::msg', 1);
    expect(a.send(childPeer, 'direct::msg', 'alive')).toBe(true);
    expect(await got).toEqual(['alive']);

    const started = new Promise<void>((resolve) => {
      onChild.client.handle('hold', () => {
        resolve();
        return new Promise(() => {});
      });
    });
    const pending = rejection(a.request(childPeer, 'hold', undefined, { timeoutMs: 0 }));
    await started;
    await child.kill('SIGKILL');
    // The request fails when `a` drops the silent node from its directory.
    expect((await pending).code).toBe(RpcErrorCode.CONNECTION_CLOSED);
    expect(() => a.send(childPeer, 'x')).toThrow(notFound);
    expect(await rejection(a.request(childPeer, 'x'))).toMatchObject({ code: RpcErrorCode.PEER_NOT_FOUND });
  });
});
