// Issue 10's ns items, as attacks with raw sockets: stuck readers under broadcast, connection floods.
import type * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type NsServer, type NsSocket } from '@proto/ns';
import { hello, next, rawClosed, rawConnect, ready, Resources } from './helpers.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

/** A raw client that opens an ns link (its hello and READY) and never reads (a stuck reader). */
async function stuckReader(port: number): Promise<net.Socket> {
  const raw = await rawConnect(resources, port);
  raw.pause();
  raw.write(Buffer.concat([hello(), ready()]));
  return raw;
}

/** `count` stuck readers and their (open) server sockets; `errors` records the server's clientError events from then on. */
async function stuckPeers(server: NsServer, port: number, count: number): Promise<{ stuck: NsSocket[]; errors: [Error, NsSocket | undefined][] }> {
  const stuck: NsSocket[] = [];
  for (let i = 0; i < count; i++) {
    const connected = next<[NsSocket]>(server, 'connection');
    await stuckReader(port);
    stuck.push((await connected)[0]);
  }
  const errors: [Error, NsSocket | undefined][] = [];
  server.on('clientError', (error, socket) => errors.push([error, socket]));
  return { stuck, errors };
}

const MiB = 1024 * 1024;

describe('security: stuck readers under broadcast', () => {
  it("a peer broadcast destroys for overflowing is reported on the server's clientError", async () => {
    const { server, port } = await resources.server({ maxBufferedBytes: 2 * MiB });
    const connected = next<[NsSocket]>(server, 'connection');
    await stuckReader(port);
    const [victim] = await connected;
    const reported = next<[Error, NsSocket | undefined]>(server, 'clientError');
    const payload = Buffer.alloc(MiB);
    for (let i = 0; i < 64 && victim.state === 'open'; i++) server.broadcast('flood', payload);
    const [error, socket] = await reported;
    expect(error).toMatchObject({ code: 'ERR_BUFFER_OVERFLOW' });
    expect(socket).toBe(victim);
  });

  it('maxTotalBufferedBytes bounds what all sockets hold together: the fullest are destroyed first', async () => {
    const budget = 4 * MiB;
    const { server, port } = await resources.server({ maxTotalBufferedBytes: budget });
    const healthyOpened = next(server, 'connection');
    const healthy = resources.track(await connect({ host: '127.0.0.1', port }));
    await healthyOpened;
    const { stuck, errors } = await stuckPeers(server, port, 3);
    const payload = Buffer.alloc(MiB);
    let peak = 0;
    for (let i = 0; i < 64 && errors.length === 0; i++) {
      const delivered = next(healthy, 'data::flood');
      server.broadcast('flood', payload);
      peak = Math.max(peak, [...server.sockets].reduce((sum, socket) => sum + socket.bufferedBytes, 0));
      await delivered; // the healthy reader keeps up; the stuck ones pile up
    }
    expect(errors.length).toBeGreaterThan(0);
    for (const [error, socket] of errors) {
      expect(error).toMatchObject({ code: 'ERR_BUFFER_OVERFLOW', message: expect.stringContaining('maxTotalBufferedBytes') });
      expect(stuck).toContain(socket);
    }
    // What is left after the check fits the budget (one broadcast's worth may pass it before the check).
    expect([...server.sockets].filter((socket) => socket.state === 'open').reduce((sum, socket) => sum + socket.bufferedBytes, 0)).toBeLessThanOrEqual(budget);
    expect(peak).toBeLessThanOrEqual(budget + 4 * MiB);
    expect(healthy.connected).toBe(true);
  });
});

describe('security: maxTotalBufferedBytes on single sends', () => {
  it('sends from server sockets (no broadcast) past the budget destroy the fullest with ERR_BUFFER_OVERFLOW, reported as clientError', async () => {
    const budget = 4 * MiB;
    const { server, port } = await resources.server({ maxTotalBufferedBytes: budget });
    const { stuck, errors } = await stuckPeers(server, port, 2);
    const payload = Buffer.alloc(MiB);
    // Each socket alone stays far below its own maxBufferedBytes (16 MiB); together they pass the budget.
    for (let i = 0; i < 32 && errors.length === 0; i++) {
      for (const socket of stuck) if (socket.state === 'open') socket.send('flood', payload);
    }
    expect(errors.length).toBeGreaterThan(0);
    for (const [error, socket] of errors) {
      expect(error).toMatchObject({ code: 'ERR_BUFFER_OVERFLOW', message: expect.stringContaining('maxTotalBufferedBytes') });
      expect(stuck).toContain(socket);
      expect(socket!.connected).toBe(false); // destroyed (its close follows)
    }
    const left = stuck.filter((socket) => socket.state === 'open');
    expect(left.reduce((sum, socket) => sum + socket.bufferedBytes, 0)).toBeLessThanOrEqual(budget);
  });
});

describe('security: maxTotalBufferedBytes with resumable sessions', () => {
  it('extension messages of a session (sequenced, the rpc path) count for the budget too', async () => {
    const budget = 4 * MiB;
    const { server, port } = await resources.server({ maxTotalBufferedBytes: budget, resume: true, extension: () => ({ onMessage() {} }) });
    const opened: NsSocket[] = [];
    server.on('connection', (socket) => opened.push(socket));
    const errors: [Error, NsSocket | undefined][] = [];
    server.on('clientError', (error, socket) => errors.push([error, socket]));
    const clients: NsSocket[] = [];
    for (let i = 0; i < 2; i++) {
      const connected = next(server, 'connection');
      const client = resources.track(await connect({ host: '127.0.0.1', port, resume: true, extension: { onMessage() {} } }));
      client.pauseReading(); // a reader that stops: the server's writes pile up
      clients.push(client);
      await connected;
    }
    const payload = Buffer.alloc(MiB);
    for (let i = 0; i < 32 && errors.length === 0; i++) {
      for (const socket of opened) if (socket.state === 'open') socket.sendExtension(0x40, payload);
    }
    expect(errors.length).toBeGreaterThan(0);
    for (const [error, socket] of errors) {
      expect(error).toMatchObject({ code: 'ERR_BUFFER_OVERFLOW', message: expect.stringContaining('maxTotalBufferedBytes') });
      expect(opened).toContain(socket);
    }
    for (const client of clients) client.destroy(); // stuck readers: no graceful end to wait for
  });
});

describe('security: connection floods', () => {
  it('maxConnections refuses one more connection at accept (ERR_CLIENT_REJECTED), and admits again once one left', async () => {
    const { server, port } = await resources.server({ maxConnections: 2 });
    const peers: NsSocket[] = [];
    server.on('connection', (socket) => peers.push(socket));
    const first = resources.track(await connect({ host: '127.0.0.1', port }));
    resources.track(await connect({ host: '127.0.0.1', port }));
    const refused = next<[Error, NsSocket | undefined]>(server, 'clientError');
    const raw = await rawConnect(resources, port);
    const closed = rawClosed(raw);
    const [error, socket] = await refused;
    expect(error).toMatchObject({ code: 'ERR_CLIENT_REJECTED' });
    expect(socket).toBeUndefined();
    await closed;
    expect(server.sockets.size).toBe(2);

    const serverSide = next(peers[0]!, 'close');
    await first.end();
    await serverSide; // the server let go of the slot
    const third = resources.track(await connect({ host: '127.0.0.1', port }));
    expect(third.connected).toBe(true);
  });

  it('invalid limits are refused at createServer', async () => {
    await expect(resources.server({ maxConnections: -1 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
    await expect(resources.server({ maxTotalBufferedBytes: 1.5 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
  });
});
