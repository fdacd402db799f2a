// An accepted socket opens (joins `sockets`, fires `connection`) at the client's hello, not at
// accept: a TCP connection that never speaks ns is no connection. Until then it still counts for
// `maxConnections`, `close()` ends it, and `helloTimeoutMs` bounds the wait.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as net from 'node:net';
import { connect, createServer, type NsSocket } from '@proto/ns';
import { hello, next, rawClosed, rawConnect, ready, Resources } from './helpers.js';

const resources = new Resources();
afterEach(async () => {
  vi.useRealTimers();
  await resources.closeAll();
});

/** Received by the raw client: at least the server's hello (so the server saw the connection). */
function receivedSome(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => socket.once('data', () => resolve()));
}

describe('an accepted socket opens at the client hello', () => {
  it('a raw client that connects and never sends a hello produces no connection; its hello does', async () => {
    const { server, port } = await resources.server();
    const connections: NsSocket[] = [];
    server.on('connection', (socket) => connections.push(socket));
    const raw = await rawConnect(resources, port);
    await receivedSome(raw); // the server accepted it and sent its hello
    // A ping through a real client proves the server processed everything before it.
    const opened = next<[NsSocket]>(server, 'connection');
    const client = resources.track(await connect({ host: '127.0.0.1', port }));
    const [clientPeer] = await opened;
    expect(connections).toEqual([clientPeer]);
    expect(server.sockets.size).toBe(1);
    expect(client.connected).toBe(true);
    const rawOpened = next<[NsSocket]>(server, 'connection');
    raw.write(Buffer.concat([hello(), ready()]));
    const [rawPeer] = await rawOpened;
    expect(rawPeer).not.toBe(clientPeer);
    expect(server.sockets.size).toBe(2);
  });

  it('a connection not yet open counts for maxConnections', async () => {
    const { server, port } = await resources.server({ maxConnections: 1 });
    const silent = await rawConnect(resources, port);
    await receivedSome(silent);
    const refused = next<[Error, NsSocket | undefined]>(server, 'clientError');
    const extra = await rawConnect(resources, port);
    const extraClosed = rawClosed(extra);
    const [error, socket] = await refused;
    expect(error).toMatchObject({ code: 'ERR_CLIENT_REJECTED' });
    expect(socket).toBeUndefined();
    await extraClosed;
    expect(server.sockets.size).toBe(0);
  });

  it('server.close() ends a connection that never said hello', async () => {
    const { server, port } = await resources.server();
    const silent = await rawConnect(resources, port);
    const closed = rawClosed(silent);
    await receivedSome(silent);
    // The raw client never ends its side either: close() destroys it after its timeout.
    await server.close({ timeoutMs: 200 });
    await closed;
    expect(server.sockets.size).toBe(0);
  });

  it('helloTimeoutMs closes a connection that says nothing (clientError ERR_CONNECT_TIMEOUT), never a connection', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { server, port } = await resources.server({ helloTimeoutMs: 5000 });
    let connections = 0;
    server.on('connection', () => connections++);
    const silent = await rawConnect(resources, port);
    const closed = rawClosed(silent);
    await receivedSome(silent);
    const reported = next<[Error, NsSocket | undefined]>(server, 'clientError');
    await vi.advanceTimersByTimeAsync(4999);
    expect(silent.destroyed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const [error] = await reported;
    expect(error).toMatchObject({ code: 'ERR_CONNECT_TIMEOUT', message: expect.stringContaining('helloTimeoutMs (5000 ms)') });
    await closed;
    expect(connections).toBe(0);
  });

  it('helloTimeoutMs: 0 waits for ever; an invalid value is refused', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { server, port } = await resources.server({ helloTimeoutMs: 0 });
    const silent = await rawConnect(resources, port);
    await receivedSome(silent);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(vi.getTimerCount()).toBe(0);
    expect(silent.destroyed).toBe(false);
    expect(server.sockets.size).toBe(0);
    expect(() => createServer({ helloTimeoutMs: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
  });
});
