import { describe, expect, it } from 'vitest';
import { createServer, type NsServer, NsSocket, type NsSocketOptions } from '@proto/ns';
import { checkedPayload, verifyPayload } from '../../../testing/checked-payload.js';
import { Cleanup } from '../../../testing/cleanup.js';
import { FaultProxy, type ProxyLink } from '../../../testing/fault-proxy.js';
import { FuzzCounter, fuzzRuns } from '../../../testing/fuzz.js';
import { SeededRandom } from '../../../testing/random.js';
import { failOnUncaught } from '../../../testing/uncaught.js';

const cleanup = new Cleanup();
failOnUncaught(cleanup);

const RECONNECT = { initialDelayMs: 1, maxDelayMs: 5 } as const;

/** Sequence numbers received per kind, checked as they arrive. */
class Receiver {
  readonly json: number[] = [];
  readonly binary: number[] = [];
  #waiters: { kind: 'json' | 'binary'; count: number; resolve: () => void }[] = [];

  listen(socket: NsSocket): void {
    socket.data('json', (data: unknown) => this.#got('json', (data as { seq: number }).seq));
    socket.data('bin', (data: unknown) => this.#got('binary', verifyPayload(data as Buffer)));
  }

  waitFor(kind: 'json' | 'binary', count: number): Promise<void> {
    if (this[kind].length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ kind, count, resolve }));
  }

  #got(kind: 'json' | 'binary', seq: number): void {
    this[kind].push(seq);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (waiter.kind !== kind || this[kind].length < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  }
}

/**
 * Sends `count` JSON and `count` binary messages, sequence-numbered, yielding now and then so cuts
 * land mid-stream; with `more`, goes on past `count` while it returns true (up to `limit`).
 * @returns how many of each kind were sent.
 */
async function produce(socket: NsSocket, count: number, random: SeededRandom, more?: () => boolean, limit = 1_000_000): Promise<number> {
  let seq = 0;
  for (; seq < limit && (seq < count || (more !== undefined && (seq % 25 !== 0 || more()))); seq++) {
    socket.send('json', { seq, pad: 'é'.repeat(random.int(0, 40)) });
    socket.send('bin', checkedPayload(seq, random.bytes(random.int(0, 300))));
    if (seq % 25 === 0) {
      if (!socket.connected || socket.bufferedBytes > 0) await socket.drained().catch(() => undefined);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  return seq;
}

function sequence(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

async function rig(): Promise<{ server: NsServer; proxy: FaultProxy; serverSide: Promise<NsSocket>; fromClient: Receiver }> {
  const fromClient = new Receiver();
  let accepted!: (socket: NsSocket) => void;
  const serverSide = new Promise<NsSocket>((resolve) => (accepted = resolve));
  const server = createServer({ resume: true }, (socket) => {
    fromClient.listen(socket);
    accepted(socket);
  });
  server.on('clientError', () => {});
  cleanup.add(server, (s) => s.close({ timeoutMs: 500 }));
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const proxy = cleanup.add(await FaultProxy.start({ target: { port }, seed: 3 }), (p) => p.close());
  return { server, proxy, serverSide, fromClient };
}

async function client(proxy: FaultProxy, options: NsSocketOptions = {}): Promise<NsSocket> {
  const socket = new NsSocket({ host: '127.0.0.1', port: proxy.port, reconnect: RECONNECT, resume: true, ...options });
  socket.on('error', () => {});
  cleanup.add(socket, (s) => s.destroy());
  await socket.connect();
  return socket;
}

describe('fault injection: resumable ns sessions through a fault proxy', () => {
  it('thousands of sequence-numbered JSON and binary messages both ways across many seeded resets arrive exactly once, in order', async () => {
    const stats = new FuzzCounter('ns/fault/resume-resets');
    const { server, proxy, serverSide, fromClient } = await rig();
    const random = new SeededRandom(21);
    const cuts = fuzzRuns(40);
    let linksCut = 0;
    proxy.on('link', (link) => {
      if (linksCut >= cuts) return;
      linksCut++;
      link.resetAfter(random.next() < 0.5 ? 'toServer' : 'toClient', random.int(100, 20_000));
    });
    const socket = await client(proxy);
    const peer = await serverSide;
    const fromServer = new Receiver();
    fromServer.listen(socket);
    let resumedClient = 0;
    let resumedServer = 0;
    socket.on('resumed', () => resumedClient++);
    peer.on('resumed', () => resumedServer++);
    let peerClosed = false;
    peer.on('close', () => (peerClosed = true));
    const lost: unknown[] = [];
    socket.on('sessionLost', (info: unknown) => lost.push(info));
    // At least 3,000 each way, and on until every planned cut has happened (each is asserted below).
    const uncut = (): boolean => proxy.stats.resets < cuts;
    const [up, down] = await Promise.all([produce(socket, 3000, new SeededRandom(22), uncut), produce(peer, 3000, new SeededRandom(23), uncut)]);
    await Promise.all([
      fromClient.waitFor('json', up),
      fromClient.waitFor('binary', up),
      fromServer.waitFor('json', down),
      fromServer.waitFor('binary', down),
    ]);
    expect(fromClient.json).toEqual(sequence(up));
    expect(fromClient.binary).toEqual(sequence(up));
    expect(fromServer.json).toEqual(sequence(down));
    expect(fromServer.binary).toEqual(sequence(down));
    expect(lost).toEqual([]);
    expect(peerClosed).toBe(false);
    expect(server.sockets.size).toBe(1);
    expect([...server.sockets][0]).toBe(peer);
    expect(resumedClient).toBeGreaterThan(0);
    expect(resumedServer).toBe(resumedClient);
    // Every planned cut happened (the figure RELIABILITY.md quotes), and each one was resumed.
    expect(proxy.stats.resets).toBe(cuts);
    expect(resumedClient).toBe(cuts);
    stats.runs = linksCut;
    stats.add('messagesToServer', 2 * up);
    stats.add('messagesToClient', 2 * down);
    stats.add('resets', proxy.stats.resets);
    stats.add('resumes', resumedClient);
    stats.report();
  });

  it('stalls followed by resets: what piled up behind a stalled direction is resent, nothing lost, nothing twice', async () => {
    const { proxy, serverSide, fromClient } = await rig();
    const random = new SeededRandom(31);
    const stalls = fuzzRuns(10);
    let stalled = 0;
    let current: ProxyLink | undefined;
    proxy.on('link', (link) => (current = link));
    const socket = await client(proxy);
    // Once a link is open: acknowledgements stop coming back while the client keeps sending, then the cut.
    const stallAndCut = (): void => {
      if (stalled >= stalls || current === undefined) return;
      stalled++;
      current.stall('toClient');
      current.resetAfter('toServer', random.int(200, 20_000));
    };
    socket.on('connect', stallAndCut);
    stallAndCut();
    await serverSide;
    const count = 1500;
    await produce(socket, count, new SeededRandom(32));
    await Promise.all([fromClient.waitFor('json', count), fromClient.waitFor('binary', count)]);
    expect(fromClient.json).toEqual(sequence(count));
    expect(fromClient.binary).toEqual(sequence(count));
  });
});
