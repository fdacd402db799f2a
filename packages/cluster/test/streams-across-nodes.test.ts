import { setImmediate as flush } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ClusterHost, type ClusterMember, PeerNotFoundError, RemoteError, RpcErrorCode, type RpcServer } from '@proto/rpc';
import { startChildServer } from '../../../testing/child-server.js';
import { Cleanup } from '../../../testing/cleanup.js';
import { RedisServer } from '../../../testing/redis-server.js';
import { failOnUncaught } from '../../../testing/uncaught.js';
import { createMemoryCluster, createRedisCluster } from '../src/index.js';
import { connectClient, FAST, PASSWORD, rejection, startServer } from './helpers.js';

// The cluster side of `server.stream(peerId, ...)`: two members of a memory cluster, the holding
// one serving the stream from a generator standing in for the peer's local stream.

type StreamLocal = NonNullable<ClusterHost['streamLocal']>;

function host(streamLocal?: StreamLocal, errors: Error[] = []): ClusterHost {
  return {
    broadcastLocal: () => 0,
    sendLocal: (peerId) => {
      throw new PeerNotFoundError('no', peerId);
    },
    requestLocal: (peerId) => Promise.reject(new PeerNotFoundError('no', peerId)),
    ...(streamLocal === undefined ? {} : { streamLocal }),
    requestTimeoutMs: 1000,
    reportError: (error) => errors.push(error),
  };
}

const members: ClusterMember[] = [];
afterEach(async () => {
  for (const member of members.splice(0)) await member.leave();
});

/** A caller and a holder whose peer streams what `produce` yields; `peerId` is on the holder. */
async function pair(produce: StreamLocal): Promise<{ caller: ClusterMember; holder: ClusterMember; peerId: string }> {
  const cluster = createMemoryCluster();
  const caller = cluster.join(host());
  const holder = cluster.join(host(produce));
  members.push(caller, holder);
  const peerId = holder.nextPeerId();
  await settle(); // both registered
  return { caller, holder, peerId };
}

/** Lets every message in flight through the memory cluster arrive (it delivers in microtasks). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await flush();
}

describe('streams across nodes', () => {
  it('delivers the items in order and ends the loop with the stream', async () => {
    const { caller, peerId } = await pair(async function* (_peer, method, params) {
      expect(method).toBe('count::up');
      for (let i = 1; i <= (params as { n: number }).n; i++) yield i;
    });
    const items: unknown[] = [];
    for await (const item of caller.stream!(peerId, 'count::up', { n: 40 }, {})) items.push(item);
    expect(items).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('pulls from the peer only as the caller grants credit', async () => {
    let produced = 0;
    const { caller, peerId } = await pair(async function* () {
      for (;;) {
        produced++;
        yield produced;
      }
    });
    const stream = caller.stream!(peerId, 'endless', undefined, { highWaterMark: 4 });
    expect(await stream.next()).toEqual({ value: 1, done: false });
    await settle();
    expect(produced).toBe(4); // the window, not one more
    await stream.next(); // half the window consumed: 2 more granted
    await settle();
    expect(produced).toBe(6);
    await stream.return!();
  });

  it('break cancels on the holding node: the peer stream is closed (finally runs)', async () => {
    let closed!: () => void;
    const finallyRan = new Promise<void>((resolve) => (closed = resolve));
    const { caller, peerId } = await pair(async function* () {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        closed();
      }
    });
    for await (const item of caller.stream!(peerId, 'endless', undefined, {})) if (item === 3) break;
    await finallyRan;
  });

  it('ends with the error the peer stream failed with, after its items', async () => {
    const { caller, peerId } = await pair(async function* () {
      yield 'a';
      throw new RemoteError('E_BAD', 'went wrong', { at: 1 });
    });
    const items: unknown[] = [];
    const error = await rejection(
      (async () => {
        for await (const item of caller.stream!(peerId, 'fails', undefined, {})) items.push(item);
      })(),
    );
    expect(items).toEqual(['a']);
    expect(error).toMatchObject({ code: RpcErrorCode.REMOTE, remoteCode: 'E_BAD', message: 'went wrong', data: { at: 1 } });
  });

  it('times out and aborts across the hop; the peer stream is closed', async () => {
    let closed!: () => void;
    const finallyRan = new Promise<void>((resolve) => (closed = resolve));
    const { caller, peerId } = await pair(async function* (_peer, _method, _params, options) {
      try {
        yield 'first';
        // Like rpc's local stream: the cancel aborts its signal even while an item is awaited.
        await new Promise((resolve) => options.signal?.addEventListener('abort', resolve));
      } finally {
        closed();
      }
    });
    const stream = caller.stream!(peerId, 'slow', undefined, { timeoutMs: 30 });
    expect((await stream.next()).value).toBe('first');
    expect((await rejection(stream.next())).code).toBe(RpcErrorCode.REQUEST_TIMEOUT);
    await finallyRan;
    const controller = new AbortController();
    controller.abort();
    expect((await rejection(caller.stream!(peerId, 'slow', undefined, { signal: controller.signal }).next())).code).toBe(RpcErrorCode.ABORTED);
  });

  it('fails at once for a peer no node holds, and with ERR_CONNECTION_CLOSED when the holding node leaves', async () => {
    const { caller, holder, peerId } = await pair(async function* () {
      yield 1;
      await new Promise(() => {});
    });
    expect((await rejection(caller.stream!('nowhere:x:1', 'm', undefined, {}).next())).code).toBe(RpcErrorCode.PEER_NOT_FOUND);
    const stream = caller.stream!(peerId, 'm', undefined, {});
    expect((await stream.next()).value).toBe(1);
    const pending = rejection(stream.next());
    await holder.leave();
    expect((await pending).code).toBe(RpcErrorCode.CONNECTION_CLOSED);
  });
});

// Streams with input (client streaming, bidirectional) between nodes over a real redis-server.

const redis = new RedisServer();
beforeAll(() => redis.start());
afterAll(() => redis.stop());
const cleanup = new Cleanup();
failOnUncaught(cleanup);
let prefixes = 0;

async function redisNode(prefix: string): Promise<RpcServer> {
  const cluster = createRedisCluster({ url: redis.url, prefix, ...FAST });
  const server = await startServer(cleanup, cluster);
  await cluster.ready();
  return server;
}

/** An endless input that counts how far it was pulled and whether it was closed. */
function countingInput(): { input: AsyncGenerator<number>; pulled: () => number; closed: Promise<void> } {
  let pulled = 0;
  let close!: () => void;
  const closed = new Promise<void>((resolve) => (close = resolve));
  const input = (async function* () {
    try {
      for (;;) yield ++pulled;
    } finally {
      close();
    }
  })();
  return { input, pulled: () => pulled, closed };
}

describe('streams with input across nodes (Redis)', () => {
  it('carries the caller\'s input to the peer handler and its items back (bidirectional)', async () => {
    const prefix = `streams${++prefixes}-${process.pid}`;
    const a = await redisNode(prefix);
    const b = await redisNode(prefix);
    const { client, peerId } = await connectClient(cleanup, b);
    client.handleStream('double', async function* (_params, ctx) {
      for await (const x of ctx.input) yield (x as number) * 2;
    });
    async function* numbers(): AsyncGenerator<number> {
      for (let i = 1; i <= 60; i++) yield i;
    }
    const items: unknown[] = [];
    for await (const item of a.stream(peerId, 'double', undefined, { input: numbers(), highWaterMark: 4 })) items.push(item);
    expect(items).toEqual(Array.from({ length: 60 }, (_, i) => (i + 1) * 2));
    // A plain iterable works too (client streaming: one answer for the whole input).
    client.handleStream('sum', async function* (_params, ctx) {
      let total = 0;
      for await (const x of ctx.input) total += x as number;
      yield total;
    });
    const sums: unknown[] = [];
    for await (const item of a.stream(peerId, 'sum', undefined, { input: [1, 2, 3, 4] })) sums.push(item);
    expect(sums).toEqual([10]);
  });

  it('pulls the caller\'s input only within credit, and break closes both generators', async () => {
    const prefix = `streams${++prefixes}-${process.pid}`;
    const a = await redisNode(prefix);
    const b = await redisNode(prefix);
    const { client, peerId } = await connectClient(cleanup, b);
    let handlerClosed!: () => void;
    const handlerFinally = new Promise<void>((resolve) => (handlerClosed = resolve));
    client.handle('ping', () => 'pong');
    client.handleStream('stall', async function* (_params, ctx) {
      try {
        yield 'ready';
        // Never reads ctx.input: only the credit windows may fill.
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
      } finally {
        handlerClosed();
      }
    });
    const { input, pulled, closed } = countingInput();
    const stream = a.stream(peerId, 'stall', undefined, { input });
    expect(await stream.next()).toEqual({ value: 'ready', done: false });
    await vi.waitFor(() => expect(pulled()).toBeGreaterThanOrEqual(16), { timeout: 5000, interval: 10 });
    // Round trips through the same nodes: whatever the input could still be pulled for has been.
    for (let i = 0; i < 3; i++) expect(await a.request(peerId, 'ping')).toBe('pong');
    // The holding node's window plus the peer's input credit (16 each), never more.
    expect(pulled()).toBeLessThanOrEqual(32);
    await stream.return!();
    await closed;
    await handlerFinally;
  });

  it('ends with ERR_CONNECTION_CLOSED when the holding node dies, closing the caller\'s input', async () => {
    const prefix = `streams${++prefixes}-${process.pid}`;
    const a = await redisNode(prefix);
    const child = await startChildServer({ password: PASSWORD, serverOptions: { keepAlive: false }, cluster: { url: redis.url, prefix, nodeId: 'child', ...FAST } });
    cleanup.add(child, (c) => c.kill());
    const { client } = await connectClient(cleanup, child.port, 'on-child');
    client.handleStream('echo', async function* (_params, ctx) {
      for await (const x of ctx.input) yield x;
    });
    const peerId = await vi.waitFor(async () => {
      const peer = (await a.clusterPeers()).find((p) => p.nodeId === 'child');
      expect(peer).toBeDefined();
      return peer!.id;
    }, { timeout: 5000, interval: 20 });
    const { input, closed } = countingInput();
    const stream = a.stream(peerId, 'echo', undefined, { input });
    expect((await stream.next()).value).toBe(1);
    await child.kill('SIGKILL');
    const error = await rejection((async () => {
      for (;;) if ((await stream.next()).done === true) return;
    })());
    expect(error.code).toBe(RpcErrorCode.CONNECTION_CLOSED);
    await closed;
  });
});
