import { once } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  connect,
  createServer,
  type FramedServer,
  type FramedSocket,
  type FramedSocketOptions,
  type LengthPrefixName,
  ProtoError,
} from '@proto/framing';
import { Cleanup } from '../../../testing/cleanup.js';
import { FaultProxy, type FaultProxyOptions, type ProxyLink } from '../../../testing/fault-proxy.js';
import { checkedPayload, checkedPayloads, verifyPayload } from '../../../testing/checked-payload.js';
import { FuzzCounter, fuzzParams } from '../../../testing/fuzz.js';
import { SeededRandom } from '../../../testing/random.js';
import { referenceEncode } from '../../../testing/reference-frames.js';
import { failOnUncaught } from '../../../testing/uncaught.js';

const cleanup = new Cleanup();
failOnUncaught(cleanup);

interface Rig {
  server: FramedServer;
  proxy: FaultProxy;
  /** Server-side sockets in the order accepted. */
  accepted: FramedSocket[];
  dial(options?: FramedSocketOptions): Promise<{ client: FramedSocket; peer: FramedSocket; link: ProxyLink }>;
}

/** A FramedServer behind a fault proxy; `dial()` connects a client through the proxy. */
async function rig(proxyOptions: Omit<FaultProxyOptions, 'target'>, serverOptions: FramedSocketOptions = {}): Promise<Rig> {
  const accepted: FramedSocket[] = [];
  const server = createServer(serverOptions, (socket) => {
    socket.on('error', () => {});
    accepted.push(socket);
  });
  cleanup.add(server, (s) => s.close({ timeoutMs: 200 }));
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const proxy = cleanup.add(await FaultProxy.start({ ...proxyOptions, target: { port } }), (p) => p.close());
  return {
    server,
    proxy,
    accepted,
    async dial(options = {}) {
      const next = once(server, 'connection');
      const nextLink = proxy.nextLink();
      const { lengthPrefix } = serverOptions;
      const client = await connect({ host: '127.0.0.1', port: proxy.port, ...(lengthPrefix ? { lengthPrefix } : {}), ...options });
      client.on('error', () => {});
      cleanup.add(client, (c) => c.destroy());
      const [peer] = (await next) as [FramedSocket];
      return { client, peer, link: await nextLink };
    },
  };
}

/** Resolves with the next `count` frames (each verified intact) or rejects if the socket closes first. */
function receive(socket: FramedSocket, count: number): Promise<Buffer[]> {
  const frames: Buffer[] = [];
  const promise = new Promise<Buffer[]>((resolve, reject) => {
    if (count === 0) resolve(frames);
    socket.on('frame', (frame) => {
      frames.push(frame);
      if (frames.length === count) resolve(frames);
    });
    socket.once('close', () => reject(new Error(`closed after ${String(frames.length)} of ${String(count)} frames`)));
  });
  // Awaited by the test; marked handled so a test that already failed leaves no unhandled rejection.
  promise.catch(() => {});
  return promise;
}

function closeOf(socket: FramedSocket): Promise<{ hadError: boolean; errors: Error[] }> {
  const errors: Error[] = [];
  socket.on('error', (error) => errors.push(error));
  return new Promise((resolve) => socket.once('close', (hadError) => resolve({ hadError, errors })));
}

function expectInOrder(frames: readonly Buffer[], sent: readonly Buffer[]): void {
  expect(frames.length).toBe(sent.length);
  frames.forEach((frame, i) => {
    expect(verifyPayload(frame)).toBe(i);
    expect(frame.equals(sent[i]!)).toBe(true);
  });
}

describe('fault injection: FramedSocket through a fault proxy', () => {
  it.each<LengthPrefixName>(['uint32be', 'varint'])(
    'with 1-byte chunks (%s), every frame arrives intact and in order, both ways',
    async (lengthPrefix) => {
      const { dial, proxy } = await rig({ chunkBytes: 1 }, { lengthPrefix });
      const { client, peer } = await dial();
      const up = checkedPayloads(120, 1, 0, 40);
      const down = checkedPayloads(120, 2, 0, 40);
      const atPeer = receive(peer, up.length);
      const atClient = receive(client, down.length);
      for (const frame of up) client.send(frame);
      for (const frame of down) peer.send(frame);
      expectInOrder(await atPeer, up);
      expectInOrder(await atClient, down);
      // Every byte crossed on its own.
      expect(proxy.stats.pieces).toBe(proxy.stats.bytesToServer + proxy.stats.bytesToClient);
    },
  );

  it('with random chunking and seeded random delays, small and large (zero-copy) frames arrive intact and in order', async () => {
    const { dial, proxy } = await rig({ chunkBytes: { min: 1, max: 4096 }, delayMs: { min: 0, max: 1 }, seed: 99 });
    const { client, peer } = await dial();
    const random = new SeededRandom(5);
    // Mostly small frames, some over the 16 KiB zero-copy threshold.
    const up = Array.from({ length: 200 }, (_, seq) =>
      checkedPayload(seq, random.bytes(random.chance(0.03) ? random.int(16 * 1024, 40 * 1024) : random.int(0, 300))),
    );
    const atPeer = receive(peer, up.length);
    const echoed = receive(client, up.length);
    peer.on('frame', (frame) => peer.send(frame));
    for (const frame of up) client.send(frame);
    expectInOrder(await atPeer, up);
    expectInOrder(await echoed, up);
    expect(proxy.stats.delayed).toBeGreaterThan(0);
  });

  it('a stalled reader makes the sender back off (pause, drained) without losing or reordering anything', async () => {
    const highWaterMark = 64 * 1024;
    const maxBufferedBytes = 1024 * 1024;
    const { dial } = await rig({}, {});
    const { client, peer, link } = await dial({ highWaterMark, maxBufferedBytes });
    link.stall('toServer');
    let pauses = 0;
    let resumes = 0;
    let maxBuffered = 0;
    client.on('pause', () => pauses++);
    client.on('resume', () => resumes++);
    const random = new SeededRandom(3);
    const sent: Buffer[] = [];
    const send = async (): Promise<boolean> => {
      const frame = checkedPayload(sent.length, random.bytes(64 * 1024 - 12));
      sent.push(frame);
      if (client.send(frame)) return false;
      maxBuffered = Math.max(maxBuffered, client.bufferedBytes);
      firstBlock();
      await client.drained();
      return true;
    };
    let stallLifted = false;
    let firstBlock!: () => void;
    const blockedOnce = new Promise<void>((resolve) => (firstBlock = resolve));
    // Send 64 KiB frames until the kernel buffers and the proxy are full and send() says stop (it
    // waits in drained() until the stall is lifted), then a few more.
    const writer = (async () => {
      while (!stallLifted && sent.length < 4096) await send();
      for (let i = 0; i < 8; i++) await send();
    })();
    await blockedOnce;
    // While stalled the server received nothing; a round trip the other way shows the loop kept running.
    const pong = receive(client, 1);
    peer.send('pong');
    await pong;
    expect(peer.stats.framesIn).toBe(0);
    const received: Buffer[] = [];
    peer.on('frame', (frame) => received.push(frame));
    stallLifted = true;
    link.resume('toServer');
    await writer;
    const atPeer = received.length === sent.length ? Promise.resolve(received) : receive(peer, sent.length - received.length).then(() => received);
    expectInOrder(await atPeer, sent);
    expect(sent.length).toBeGreaterThan(16); // well past the high-water mark: backpressure was real
    const stallStats = new FuzzCounter('framing/fault/stall');
    stallStats.runs = 1;
    stallStats.add('bytesSent', sent.length * 64 * 1024);
    stallStats.add('pauses', pauses);
    stallStats.report();
    expect(pauses).toBeGreaterThan(0);
    expect(resumes).toBe(pauses);
    expect(maxBuffered).toBeLessThanOrEqual(maxBufferedBytes);
  });

  it('a connection reset in the middle of a frame delivers only whole frames, then closes both ends with an error', async () => {
    const { dial } = await rig({});
    const frames = checkedPayloads(30, 4, 1, 200);
    const wire = frames.map((f) => referenceEncode('uint32be', f));
    const total = wire.reduce((n, w) => n + w.length, 0);
    // Cut strictly inside a frame: a cut on a boundary may legitimately look like a clean end.
    const boundaries = new Set<number>();
    for (let at = 0, i = 0; i < wire.length; at += wire[i]!.length, i++) boundaries.add(at);
    let cuts = 0;
    const stats = new FuzzCounter('framing/fault/reset-mid-frame');
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: total - 1 }), async (cutAt) => {
        fc.pre(!boundaries.has(cutAt));
        const { client, peer, link } = await dial();
        link.resetAfter('toServer', cutAt);
        const peerClosed = closeOf(peer);
        const clientClosed = closeOf(client);
        const received: Buffer[] = [];
        peer.on('frame', (frame) => received.push(frame));
        for (const frame of frames) client.send(frame);
        const server = await peerClosed;
        const dialer = await clientClosed;
        cuts++;
        // Whole frames only, in order: every delivered frame is intact, none is a fragment.
        let complete = 0;
        for (let at = 0, i = 0; i < wire.length && at + wire[i]!.length <= cutAt; at += wire[i]!.length, i++) complete++;
        expect(received.length).toBeLessThanOrEqual(complete);
        // An EOF means every byte before the cut was read: then every whole frame in them was delivered.
        if (server.errors.some((e) => (e as ProtoError).code === 'ERR_UNEXPECTED_EOF')) expect(received.length).toBe(complete);
        stats.runs++;
        stats.add(received.length === complete ? 'all-whole-frames-before-cut' : 'fewer-frames');
        for (const error of server.errors) stats.add(String((error as NodeJS.ErrnoException).code));
        received.forEach((frame, i) => expect(verifyPayload(frame)).toBe(i));
        expect(server.hadError).toBe(true);
        for (const error of server.errors) {
          const code = (error as NodeJS.ErrnoException).code;
          // A reset, or the EOF Linux reports when the RST overtakes unread bytes: ERR_UNEXPECTED_EOF then.
          expect(['ECONNRESET', 'ERR_UNEXPECTED_EOF']).toContain(code);
          if (code === 'ERR_UNEXPECTED_EOF') expect(error).toBeInstanceOf(ProtoError);
        }
        expect(dialer.hadError || dialer.errors.length === 0).toBe(true);
        expect(client.closed && peer.closed).toBe(true);
      }),
      fuzzParams(25),
    );
    expect(cuts).toBeGreaterThan(0);
    stats.report();
  });

  it('a half-close from the client side ends the connection gracefully: frames sent before it arrive, no error', async () => {
    const { dial, proxy } = await rig({});
    const { client, peer } = await dial();
    const [link] = [...proxy.links];
    const frames = checkedPayloads(10, 6, 1, 100);
    const atClient = receive(client, frames.length);
    const clientClosed = closeOf(client);
    const peerClosed = closeOf(peer);
    // The server answers the FIN by flushing what it sent and ending its side; the proxy forwards that FIN.
    for (const frame of frames) peer.send(frame);
    link!.halfClose('toServer');
    expectInOrder(await atClient, frames);
    expect(await peerClosed).toEqual({ hadError: false, errors: [] });
    expect(await clientClosed).toEqual({ hadError: false, errors: [] });
  });

  it('a half-open connection (the FIN never arrives) is found by idleTimeoutMs, not left open forever', async () => {
    const { dial, proxy } = await rig({ forwardEnd: false }, { idleTimeoutMs: 150 });
    const { client, peer, link } = await dial({ idleTimeoutMs: 0 });
    const finAtProxy = once(link.client, 'end');
    void client.end();
    await finAtProxy;
    expect(proxy.stats.swallowedEnds).toBe(1);
    // The server never learns the client is gone; only its idle timer tells.
    await once(peer, 'timeout');
    expect(peer.closed).toBe(false);
    expect(peer.stats.framesIn).toBe(0);
    const closed = closeOf(peer);
    peer.destroy();
    expect((await closed).hadError).toBe(false);
  });
});
