import { once } from 'node:events';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup } from './cleanup.js';
import { FaultProxy, type FaultProxyOptions } from './fault-proxy.js';
import { SeededRandom } from './random.js';

const cleanup = new Cleanup();

afterEach(async () => {
  await cleanup.run();
});

interface Ends {
  proxy: FaultProxy;
  /** The test's client socket (connected to the proxy). */
  client: net.Socket;
  /** The server side of the same connection. */
  server: net.Socket;
}

/** A raw TCP server, a proxy in front of it, and one connection through it. */
async function through(options: Omit<FaultProxyOptions, 'target'> = {}, allowHalfOpen = true): Promise<Ends> {
  const target = net.createServer({ allowHalfOpen });
  cleanup.add(target, (s) => new Promise((resolve) => s.close(resolve)));
  target.listen(0, '127.0.0.1');
  await once(target, 'listening');
  const proxy = cleanup.add(await FaultProxy.start({ ...options, target: { port: (target.address() as net.AddressInfo).port } }), (p) =>
    p.close(),
  );
  const accepted = once(target, 'connection');
  const client = cleanup.add(net.connect({ host: '127.0.0.1', port: proxy.port, allowHalfOpen: true }), (s) => s.destroy());
  client.on('error', () => {});
  const [server] = (await accepted) as [net.Socket];
  cleanup.add(server, (s) => s.destroy());
  server.on('error', () => {});
  return { proxy, client, server };
}

/** Resolves with close's `hadError` (events.once would reject on an earlier 'error'). */
function closeOf(socket: net.Socket): Promise<boolean> {
  return new Promise((resolve) => socket.once('close', resolve));
}

/** Collects `bytes` bytes from a socket; resolves with them and the number of reads it took. */
function collect(socket: net.Socket, bytes: number): Promise<{ data: Buffer; reads: number }> {
  const chunks: Buffer[] = [];
  let total = 0;
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= bytes) {
        socket.off('data', onData);
        resolve({ data: Buffer.concat(chunks), reads: chunks.length });
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed after ${String(total)} of ${String(bytes)} bytes`)));
  });
}

describe('FaultProxy', () => {
  it('with 1-byte chunks, forwards everything intact, one byte per read', async () => {
    const { proxy, client, server } = await through({ chunkBytes: 1 });
    const payload = new SeededRandom(7).bytes(2000);
    const got = collect(server, payload.length);
    client.write(payload);
    const { data, reads } = await got;
    expect(data).toEqual(payload);
    // Pieces are written one per event-loop turn, so the receiver sees (nearly) every byte on its own.
    expect(reads).toBeGreaterThan(payload.length / 2);
    expect(proxy.stats.pieces).toBe(payload.length);
  });

  it('with random chunk sizes and delays, keeps order both ways and counts the delays', async () => {
    const { proxy, client, server } = await through({ chunkBytes: { min: 1, max: 64 }, delayMs: { min: 0, max: 2 }, seed: 42 });
    const up = new SeededRandom(1).bytes(5000);
    const down = new SeededRandom(2).bytes(5000);
    const atServer = collect(server, up.length);
    const atClient = collect(client, down.length);
    client.write(up);
    server.write(down);
    expect((await atServer).data).toEqual(up);
    expect((await atClient).data).toEqual(down);
    expect(proxy.stats.delayed).toBeGreaterThan(0);
    expect(proxy.stats.bytesToServer).toBe(up.length);
    expect(proxy.stats.bytesToClient).toBe(down.length);
  });

  it('stalls one direction while the other flows, and delivers the held bytes on resume', async () => {
    const { proxy, client, server } = await through();
    const [link] = [...proxy.links];
    link!.stall('toServer');
    let serverGot = 0;
    server.on('data', (chunk: Buffer) => {
      serverGot += chunk.length;
    });
    const atServer = collect(server, 9);
    client.write('held back');
    // A round trip the other way proves the loop ran while the stalled bytes stayed in the proxy.
    const back = collect(client, 4);
    server.write('pong');
    expect((await back).data.toString()).toBe('pong');
    expect(serverGot).toBe(0);
    link!.resume('toServer');
    expect((await atServer).data.toString()).toBe('held back');
    expect(proxy.stats.stalls).toBe(1);
  });

  it('resets both sockets after exactly N bytes in one direction', async () => {
    const { proxy, client, server } = await through({}, false);
    const [link] = [...proxy.links];
    link!.resetAfter('toServer', 37);
    const received: Buffer[] = [];
    server.on('data', (chunk: Buffer) => received.push(chunk));
    const serverClosed = closeOf(server);
    const clientClosed = closeOf(client);
    client.write(Buffer.alloc(100, 0xab));
    const clientHadError = await clientClosed;
    await serverClosed;
    expect(clientHadError).toBe(true);
    const total = Buffer.concat(received).length;
    expect(total).toBe(37);
    expect(proxy.stats.resets).toBe(1);
  });

  it('half-closes one direction: the receiver sees end, the other direction still flows', async () => {
    const { proxy, client, server } = await through();
    const [link] = [...proxy.links];
    const ended = once(server, 'end');
    link!.halfClose('toServer');
    await ended;
    const back = collect(client, 5);
    server.write('still');
    expect((await back).data.toString()).toBe('still');
    expect(proxy.stats.halfCloses).toBe(1);
  });

  it('with forwardEnd false, swallows a FIN: the other side never learns the peer is gone', async () => {
    const { proxy, client, server } = await through({ forwardEnd: false });
    const [link] = [...proxy.links];
    const finAtProxy = once(link!.client, 'end');
    client.end();
    await finAtProxy;
    expect(proxy.stats.swallowedEnds).toBe(1);
    const back = collect(client, 2);
    server.write('ok');
    expect((await back).data.toString()).toBe('ok');
    expect(server.readableEnded).toBe(false);
  });
});
