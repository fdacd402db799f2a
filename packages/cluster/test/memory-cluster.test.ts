import { describe, expect, it } from 'vitest';
import { RpcError, RpcErrorCode, type RpcServer } from '@proto/rpc';
import { Cleanup } from '../../../testing/cleanup.js';
import { failOnUncaught } from '../../../testing/uncaught.js';
import { createMemoryCluster, type MemoryCluster } from '../src/index.js';
import { connectClient, rejection, startServer } from './helpers.js';

const cleanup = new Cleanup();
failOnUncaught(cleanup);

async function threeNodes(cluster: MemoryCluster = createMemoryCluster()): Promise<[RpcServer, RpcServer, RpcServer]> {
  return [await startServer(cleanup, cluster), await startServer(cleanup, cluster), await startServer(cleanup, cluster)];
}

describe('memory cluster', () => {
  it('broadcast reaches every node\'s peers exactly once', async () => {
    const cluster = createMemoryCluster();
    const [a, b, c] = await threeNodes(cluster);
    expect(cluster.nodeIds).toEqual(['node-1', 'node-2', 'node-3']);
    const clients = [
      await connectClient(cleanup, a),
      await connectClient(cleanup, a),
      await connectClient(cleanup, b),
      await connectClient(cleanup, c),
    ];
    const counts = clients.map(() => 0);
    const ended = clients.map(
      ({ client }, i) =>
        new Promise<void>((resolve) => {
          client.data('news::*', (_data, event) => {
            if (event[1] === 'item') counts[i]!++;
            else resolve();
          });
        }),
    );
    const received = new Promise<unknown>((resolve) => clients[3]!.client.data('news::item', resolve));
    // Returns the local count: the two clients of `a`.
    expect(a.broadcast('news::item', { text: 'hello' })).toBe(2);
    a.broadcast('news::end');
    await Promise.all(ended);
    expect(counts).toEqual([1, 1, 1, 1]);
    expect(await received).toEqual({ text: 'hello' });
  });

  it('gives peer ids unique across the cluster that route to their node', async () => {
    const [a, b] = await threeNodes();
    const one = await connectClient(cleanup, a);
    const two = await connectClient(cleanup, b);
    expect(one.peerId).not.toBe(two.peerId);
    expect(one.peerId.startsWith('node-1:')).toBe(true);
    expect(two.peerId.startsWith('node-2:')).toBe(true);
    expect(a.peers.has(one.peerId)).toBe(true);
    // `peers` stays local.
    expect(a.peers.has(two.peerId)).toBe(false);
  });

  it('routes request(peerId) to the holding node and back, with errors and raw bytes', async () => {
    const [a, , c] = await threeNodes();
    const { client, peerId } = await connectClient(cleanup, c, 'carol');
    let seenPeer: string | undefined;
    client.handle('ui::confirm', (question: string, ctx) => {
      seenPeer = ctx.peer.id;
      return `yes to ${question}`;
    });
    client.handle('ui::fail', () => {
      throw new RpcError('E_NOPE', 'refused', { why: 'test' });
    });
    client.handle('ui::bytes', (bytes: Buffer) => Buffer.concat([bytes, Buffer.from([9])]));
    expect(await a.request(peerId, 'ui::confirm', 'deploy')).toBe('yes to deploy');
    expect(seenPeer).toBe(client.peer!.id);
    const failed = await rejection(a.request(peerId, 'ui::fail'));
    expect(failed).toMatchObject({ code: RpcErrorCode.REMOTE, remoteCode: 'E_NOPE', message: 'refused', data: { why: 'test' } });
    const missing = await rejection(a.request(peerId, ['ui', 'missing']));
    expect(missing).toMatchObject({ code: RpcErrorCode.METHOD_NOT_FOUND, method: 'ui::missing' });
    const bytes = await a.request(peerId, 'ui::bytes', Buffer.from([1, 2]));
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect([...(bytes as Buffer)]).toEqual([1, 2, 9]);
  });

  it('delivers send(peerId) to a peer on another node', async () => {
    const [a, b] = await threeNodes();
    const { client, peerId } = await connectClient(cleanup, b);
    const got = new Promise<unknown>((resolve) => client.data('direct::msg', resolve));
    expect(a.send(peerId, 'direct::msg', { n: 7 })).toBe(true);
    expect(await got).toEqual({ n: 7 });
  });

  it('fails at once with ERR_PEER_NOT_FOUND for a peer no node holds', async () => {
    const [a, b] = await threeNodes();
    const { client, peerId } = await connectClient(cleanup, b);
    for (const id of ['peer-1', 'nowhere:abc:1', `${peerId.split(':')[0]}:wrong:1`, 'node-1:x:1']) {
      const error = await rejection(a.request(id, 'x'));
      expect(error).toMatchObject({ code: RpcErrorCode.PEER_NOT_FOUND, peerId: id });
    }
    expect(() => a.send('peer-1', 'x')).toThrow(expect.objectContaining({ code: RpcErrorCode.PEER_NOT_FOUND }));
    // A peer that left: its node answers at once.
    const left = new Promise((resolve) => b.once('close', resolve));
    await client.close();
    await left;
    expect(await rejection(a.request(peerId, 'x'))).toMatchObject({ code: RpcErrorCode.PEER_NOT_FOUND, peerId });
  });

  it('times out and cancels a routed request: the peer\'s handler sees ctx.signal abort', async () => {
    const [a, b] = await threeNodes();
    const { client, peerId } = await connectClient(cleanup, b);
    const aborted = new Promise<unknown>((resolve) => {
      client.handle('hold', (_params, ctx) => {
        ctx.signal.addEventListener('abort', () => resolve(ctx.signal.reason), { once: true });
        return new Promise(() => {});
      });
    });
    const error = await rejection(a.request(peerId, 'hold', undefined, { timeoutMs: 30 }));
    expect(error.code).toBe(RpcErrorCode.REQUEST_TIMEOUT);
    expect(await aborted).toBeInstanceOf(Error);

    const controller = new AbortController();
    const abortedToo = new Promise<void>((resolve) => {
      client.handle('hold2', (_params, ctx) => {
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        controller.abort(new Error('user gave up'));
        return new Promise(() => {});
      });
    });
    const second = await rejection(a.request(peerId, 'hold2', undefined, { signal: controller.signal, timeoutMs: 0 }));
    expect(second.code).toBe(RpcErrorCode.ABORTED);
    await abortedToo;
    // Already aborted: nothing is sent at all.
    expect(await rejection(a.request(peerId, 'hold2', undefined, { signal: controller.signal }))).toMatchObject({ code: RpcErrorCode.ABORTED });
  });

  it('routes server.stream(peerId) to the holding node: items, break reaching the generator, errors', async () => {
    const [a, b] = await threeNodes();
    const { client, peerId } = await connectClient(cleanup, b);
    let finished!: () => void;
    const generatorClosed = new Promise<void>((resolve) => (finished = resolve));
    client.handleStream('count::up', async function* ({ n }: { n: number }) {
      for (let i = 1; i <= n; i++) yield i;
    });
    client.handleStream('count::forever', async function* () {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        finished();
      }
    });
    client.handleStream('count::fail', async function* () {
      yield 'first';
      throw new RpcError('E_STREAM', 'stream broke');
    });
    const items: unknown[] = [];
    for await (const item of a.stream(peerId, 'count::up', { n: 50 }, { highWaterMark: 4 })) items.push(item);
    expect(items).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    for await (const item of a.stream(peerId, 'count::forever')) if (item === 10) break;
    await generatorClosed;
    const seen: unknown[] = [];
    const error = await rejection(
      (async () => {
        for await (const item of a.stream(peerId, 'count::fail')) seen.push(item);
      })(),
    );
    expect(seen).toEqual(['first']);
    expect(error).toMatchObject({ code: RpcErrorCode.REMOTE, remoteCode: 'E_STREAM' });
    expect((await rejection(a.stream('node-2:nope:1', 'count::up').next())).code).toBe(RpcErrorCode.PEER_NOT_FOUND);
  });

  it('lists every node\'s peers with clusterPeers()', async () => {
    const [a, b, c] = await threeNodes();
    const one = await connectClient(cleanup, a, 'alice');
    const two = await connectClient(cleanup, b, 'bob');
    const peers = await c.clusterPeers();
    expect(peers.sort((x, y) => x.username.localeCompare(y.username))).toEqual([
      { id: one.peerId, nodeId: 'node-1', address: '127.0.0.1', username: 'alice', connectedAt: expect.any(Number) },
      { id: two.peerId, nodeId: 'node-2', address: '127.0.0.1', username: 'bob', connectedAt: expect.any(Number) },
    ]);
  });

  it('a server that closes leaves at once; its requests in flight end with ERR_CONNECTION_CLOSED', async () => {
    const cluster = createMemoryCluster();
    const [a, b] = await threeNodes(cluster);
    const { client, peerId } = await connectClient(cleanup, b);
    const started = new Promise<void>((resolve) => {
      client.handle('hold', () => {
        resolve();
        return new Promise(() => {});
      });
    });
    const pending = rejection(a.request(peerId, 'hold', undefined, { timeoutMs: 0 }));
    await started;
    await b.close({ timeoutMs: 20 });
    expect((await pending).code).toBe(RpcErrorCode.CONNECTION_CLOSED);
    expect(cluster.nodeIds).toEqual(['node-1', 'node-3']);
    expect(await a.clusterPeers()).toEqual([]);
    expect(await rejection(a.request(peerId, 'hold'))).toMatchObject({ code: RpcErrorCode.PEER_NOT_FOUND });
  });
});
