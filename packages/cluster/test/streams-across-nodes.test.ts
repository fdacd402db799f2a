import { setImmediate as flush } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type ClusterHost, type ClusterMember, PeerNotFoundError, RemoteError, RpcErrorCode } from '@proto/rpc';
import { createMemoryCluster } from '../src/index.js';
import { rejection } from './helpers.js';

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
    expect((await rejection(caller.stream!(peerId, 'm', undefined, { input: [1] }).next())).code).toBe(RpcErrorCode.INVALID_ARG);
  });
});
