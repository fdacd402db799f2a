import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, NsChannels, type NsConnectMessage, type NsDisconnectMessage, type NsReconnectMessage, type NsSocket } from '@proto/ns';
import { next, Resources } from './helpers.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

describe('NsServer', () => {
  it('broadcast sends the same event to every open socket and returns the count', async () => {
    const { server, port, client } = await resources.pair();
    const second = resources.track(await connect({ host: '127.0.0.1', port }));
    while (server.sockets.size < 2) await next(server, 'connection');
    const got = Promise.all([client, second].map((socket) => next<[unknown, string[]]>(socket, 'data::news::*')));
    expect(server.broadcast(['news', 'flash'], { headline: 'hi' })).toBe(2);
    for (const [data, event] of await got) {
      expect(data).toEqual({ headline: 'hi' });
      expect(event).toEqual(['news', 'flash']);
    }
    const bytes = Promise.all([client, second].map((socket) => next<[unknown]>(socket, 'data::blob')));
    expect(server.broadcast('blob', Buffer.from([1, 2, 3]))).toBe(2);
    for (const [data] of await bytes) expect(data).toEqual(Buffer.from([1, 2, 3]));
    expect(() => server.broadcast('bad::', 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
  });

  it('sockets holds open connections only, and a socket leaves it when it closes', async () => {
    const { server, client, peer } = await resources.pair();
    expect([...server.sockets]).toEqual([peer]);
    const gone = next(peer, 'close');
    await client.end();
    await gone;
    expect(server.sockets.size).toBe(0);
  });

  it('close() is graceful: messages sent before it are delivered, then clients see close', async () => {
    const { server, client, peer } = await resources.pair();
    const received: unknown[] = [];
    client.data('last', (data) => received.push(data));
    const closed = next(client, 'close');
    peer.send('last', 1);
    peer.send('last', 2);
    await server.close();
    await closed;
    expect(received).toEqual([1, 2]);
    expect(server.listening).toBe(false);
    expect(() => server.address()).toThrow(expect.objectContaining({ code: 'ERR_NOT_CONNECTED' }));
  });

  it('end() on a client flushes what it sent before closing', async () => {
    const { client, peer } = await resources.pair();
    const received: unknown[] = [];
    const done = new Promise<void>((resolve) =>
      peer.data('n', (n) => {
        received.push(n);
        if (received.length === 100) resolve();
      }),
    );
    for (let i = 0; i < 100; i++) client.send('n', i);
    await client.end();
    await done;
    expect(received).toHaveLength(100);
    expect(client.state).toBe('closed');
  });

  it('createServer(options, onConnection) and createServer(onConnection) both work; listen on port 0', async () => {
    const { server, port } = await resources.server({ highWaterMark: 1024 });
    expect(port).toBeGreaterThan(0);
    expect(server.address()).toMatchObject({ host: '127.0.0.1', port });
  });

  it('emits idle after idleTimeoutMs without traffic', async () => {
    const { client } = await resources.pair({}, { idleTimeoutMs: 30 });
    await next(client, 'idle');
    expect(client.connected).toBe(true);
  });

  it('passes backpressure up: send returns false, pause and resume fire, drained() resolves', async () => {
    const { client, peer } = await resources.pair({}, { highWaterMark: 64 * 1024 });
    peer.data('blob', () => {});
    const events: string[] = [];
    client.on('pause', () => events.push('pause'));
    client.on('resume', () => events.push('resume'));
    const chunk = Buffer.alloc(32 * 1024);
    // The kernel takes a few MB on loopback before anything stays buffered in the process.
    let sends = 0;
    while (client.send('blob', chunk)) sends++;
    expect(sends).toBeLessThan(10_000);
    expect(events).toEqual(['pause']);
    expect(client.bufferedBytes).toBeGreaterThanOrEqual(64 * 1024);
    await client.drained();
    expect(events).toEqual(['pause', 'resume']);
    expect(client.bufferedBytes).toBeLessThanOrEqual(32 * 1024);
  });

  it('publishes connect, disconnect and reconnect on diagnostics channels', async () => {
    const seen: string[] = [];
    const onConnect = (message: unknown): void => {
      const m = message as NsConnectMessage;
      seen.push(`connect:${m.server ? 'server' : 'client'}:${m.remoteAddress ?? '?'}`);
    };
    const onDisconnect = (message: unknown): void => {
      const m = message as NsDisconnectMessage;
      seen.push(`disconnect:${m.server ? 'server' : 'client'}:${String(m.willReconnect)}`);
    };
    const onReconnect = (message: unknown): void => {
      seen.push(`reconnect:${(message as NsReconnectMessage).attempt}`);
    };
    diagnosticsChannel.subscribe(NsChannels.CONNECT, onConnect);
    diagnosticsChannel.subscribe(NsChannels.DISCONNECT, onDisconnect);
    diagnosticsChannel.subscribe(NsChannels.RECONNECT, onReconnect);
    try {
      const { client, peer } = await resources.pair({}, { reconnect: { initialDelayMs: 1, maxDelayMs: 2 } });
      const back = next(client, 'connect');
      peer.destroy();
      await back;
      expect(seen).toEqual(
        expect.arrayContaining(['connect:server:127.0.0.1', 'connect:client:127.0.0.1', 'disconnect:server:false', 'disconnect:client:true', 'reconnect:1']),
      );
      expect(NsChannels).toEqual({ CONNECT: 'proto:ns:connect', DISCONNECT: 'proto:ns:disconnect', RECONNECT: 'proto:ns:reconnect' });
    } finally {
      diagnosticsChannel.unsubscribe(NsChannels.CONNECT, onConnect);
      diagnosticsChannel.unsubscribe(NsChannels.DISCONNECT, onDisconnect);
      diagnosticsChannel.unsubscribe(NsChannels.RECONNECT, onReconnect);
    }
  });

  it('stats count bytes and messages across reconnects', async () => {
    const { client, peer } = await resources.pair({}, { reconnect: { initialDelayMs: 1, maxDelayMs: 2 } });
    const got = next(peer, 'data::x');
    client.send('x', 'abc');
    await got;
    const before = client.stats;
    expect(before.messagesOut).toBe(1);
    expect(before.bytesOut).toBeGreaterThan(0);
    const back = next(client, 'connect');
    peer.destroy();
    await back;
    const after = client.stats;
    expect(after.bytesOut).toBeGreaterThanOrEqual(before.bytesOut);
    expect(after.reconnects).toBe(1);
    expect(after.messagesOut).toBe(1);
  });

  it('typed lifecycle events: close carries the error of destroy(err)', async () => {
    const { client } = await resources.pair();
    const errors: Error[] = [];
    client.on('error', (error) => errors.push(error));
    const closed = next<[Error | undefined]>(client, 'close');
    const reason = new Error('bye');
    client.destroy(reason);
    expect((await closed)[0]).toBe(reason);
    expect(errors).toEqual([reason]);
    const socket: NsSocket = client;
    expect(socket.state).toBe('closed');
  });
});
