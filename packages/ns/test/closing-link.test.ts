// A link whose peer has ended (its FIN arrived) but that has not closed yet: framing refuses
// writes from that moment, so ns must treat the link as going away, never throw for it in a
// broadcast, and let a client's send behave as disconnected.
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type NsSocket } from '@proto/ns';
import { hello, next, rawConnect, ready, Resources } from './helpers.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

/** One turn of the event loop (I/O included): lets a FIN that is on its way be read. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * More bytes than the kernel buffers of a loopback connection hold: sent to a peer that does not
 * read, they keep the sender's `end()` flushing, so its link stays in the ending window.
 */
const BLOB = Buffer.alloc(4 * 1024 * 1024);
const BLOBS = 8;

describe('a link whose peer has ended', () => {
  it('is skipped by broadcast, which never throws for it; the socket reports itself closing', async () => {
    const { server, port, client, peer } = await resources.pair();
    // A second peer, by hand, that stops reading: the server cannot finish writing to it.
    const accepted = new Promise<NsSocket>((resolve) => server.on('connection', (socket) => socket !== peer && resolve(socket)));
    const raw = await rawConnect(resources, port);
    raw.pause();
    raw.write(Buffer.concat([hello(), ready()]));
    const stalled = await accepted;
    expect(server.sockets.size).toBe(2);
    for (let i = 0; i < BLOBS; i++) stalled.send('blob', BLOB);
    expect(stalled.bufferedBytes).toBeGreaterThan(0);

    raw.end(); // FIN: the server's side of that link is ending, but it cannot close before it flushed
    const ticks: unknown[] = [];
    client.data('tick', (n) => ticks.push(n));
    let sent = 2;
    let rounds = 0;
    while (sent === 2) {
      await turn();
      sent = server.broadcast('tick', ++rounds); // threw ERR_NOT_CONNECTED once the FIN was read
    }
    expect(sent).toBe(1);
    expect(stalled.connected).toBe(false);
    expect(stalled.state).toBe('closing');
    expect(() => stalled.send('late', 1)).toThrow(expect.objectContaining({ code: 'ERR_NOT_CONNECTED' }));
    expect(client.connected).toBe(true);

    const gone = next(stalled, 'close');
    raw.destroy();
    await gone;
    expect(server.sockets.size).toBe(1);
    expect(server.broadcast('tick', ++rounds)).toBe(1);
    await new Promise<void>((resolve) => client.data('tick', (n) => n === rounds && resolve()));
    expect(ticks).toEqual(Array.from({ length: rounds }, (_, i) => i + 1));
  });

  it('stress, as reported: two clients end() together while the server broadcasts from a close listener (20 rounds)', async () => {
    const failures: unknown[] = [];
    const { server, port } = await resources.server();
    server.on('connection', (socket) =>
      socket.on('close', () => {
        try {
          server.broadcast('bye', socket.remotePort ?? 0);
        } catch (error) {
          failures.push(error);
        }
      }),
    );
    for (let round = 0; round < 20; round++) {
      const joined = new Promise<void>((resolve) => {
        const onConnection = (): void => {
          if (server.sockets.size < 2) return;
          server.off('connection', onConnection);
          resolve();
        };
        server.on('connection', onConnection);
      });
      const a = await connect({ host: '127.0.0.1', port });
      const b = await connect({ host: '127.0.0.1', port });
      await joined;
      const peers = [...server.sockets];
      const allClosed = Promise.all(peers.map((peer) => next(peer, 'close')));
      await Promise.all([a.end(), b.end()]);
      await allClosed;
      expect(server.sockets.size).toBe(0);
    }
    expect(failures).toEqual([]);
  });

  it('on a client: send behaves as disconnected (queued with offlineQueue), and the queue is flushed after reconnecting', async () => {
    // A raw ns server: the first connection stops reading, then ends; the second one records bytes.
    const connections: net.Socket[] = [];
    const second = { received: [] as Buffer[], done: undefined as (() => void) | undefined };
    const gotQueued = new Promise<void>((resolve) => (second.done = resolve));
    const rawServer = net.createServer({ allowHalfOpen: true }, (socket) => {
      connections.push(socket);
      socket.on('error', () => {});
      socket.write(Buffer.concat([hello(), ready()]));
      if (connections.length === 1) socket.pause();
      else
        socket.on('data', (chunk: Buffer) => {
          second.received.push(chunk);
          if (Buffer.concat(second.received).includes('queued')) second.done!();
        });
    });
    await new Promise<void>((resolve) => rawServer.listen(0, '127.0.0.1', resolve));
    try {
      const port = (rawServer.address() as net.AddressInfo).port;
      const client = resources.track(
        await connect({ host: '127.0.0.1', port, reconnect: { initialDelayMs: 1, maxDelayMs: 5 }, offlineQueue: true }),
      );
      for (let i = 0; i < BLOBS; i++) client.send('blob', BLOB);
      connections[0]!.end(); // the client's end() now waits for a flush the server never reads

      let sends = 0;
      while (client.connected) {
        await turn();
        client.send('tick', ++sends); // threw ERR_NOT_CONNECTED once the FIN was read
      }
      expect(client.state).toBe('closing');
      expect(client.send('queued', 'after the peer ended')).toBe(true);
      // connect() in this window waits for the next open link instead of resolving with this one.
      const order: string[] = [];
      const again = client.connect().then(() => order.push('connect() resolved'));
      client.once('connect', () => order.push('connect event'));

      const reconnected = next(client, 'connect');
      const lost = next<[Error | undefined]>(client, 'disconnect');
      connections[0]!.destroy();
      await lost;
      await reconnected;
      await again;
      expect(order).toEqual(['connect event', 'connect() resolved']);
      await gotQueued;
      expect(connections).toHaveLength(2);
    } finally {
      for (const socket of connections) socket.destroy();
      await new Promise<void>((resolve) => rawServer.close(() => resolve()));
    }
  });
});
