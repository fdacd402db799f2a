import { afterEach, describe, expect, it } from 'vitest';
import { connect, EXTENSION_TYPE_MAX, EXTENSION_TYPE_MIN, type NsExtension, NsSocket } from '@proto/ns';
import { frame, hello, jsonEvent, next, rawClosed, rawConnect, Resources } from './helpers.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

/** A promise with its resolve/reject outside. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('extension API', () => {
  it('sendExtension round-trips [type][body] to the peer extension, in both directions', async () => {
    const serverMessages: [number, string][] = [];
    const { port } = await resources.server({
      extension: () => ({
        onMessage(socket, type, body) {
          serverMessages.push([type, body.toString()]);
          socket.sendExtension(0x42, ['pong:', body]);
        },
      }),
    });
    const reply = deferred<[number, string]>();
    const client = resources.track(
      await connect({ host: '127.0.0.1', port, extension: { onMessage: (_socket, type, body) => reply.resolve([type, body.toString()]) } }),
    );
    client.sendExtension(0x41, 'ping');
    expect(await reply.promise).toEqual([0x42, 'pong:ping']);
    expect(serverMessages).toEqual([[0x41, 'ping']]);
    expect(client.stats.messagesOut).toBe(0); // extension messages are not user events
  });

  it('sendExtension sends every body shape intact, leaves the caller array alone, and survives a refused send', async () => {
    const got: string[] = [];
    const all = deferred();
    const expected = ['a', '', 'ab', 'abc', 'abcd', 'abcde', 'xyz', 'big:4000', 'after'];
    const { port } = await resources.server({
      maxFrameBytes: 4096,
      extension: () => ({
        onMessage(_socket, _type, body) {
          got.push(body.length > 100 ? `big:${String(body.length)}` : body.toString());
          if (got.length === expected.length) all.resolve();
        },
      }),
    });
    const client = resources.track(await connect({ host: '127.0.0.1', port, maxFrameBytes: 4096, extension: { onMessage() {} } }));
    const five = ['a', 'b', 'c', 'd', 'e'];
    client.sendExtension(0x40, 'a');
    client.sendExtension(0x40, []);
    client.sendExtension(0x40, [Buffer.from('a'), 'b']);
    client.sendExtension(0x40, ['a', 'b', 'c']);
    client.sendExtension(0x40, ['a', 'b', 'c', 'd']);
    client.sendExtension(0x40, five); // more parts than the reused arrays hold
    expect(five).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(() => client.sendExtension(0x40, ['x', Buffer.alloc(5000)])).toThrow(
      expect.objectContaining({ code: 'ERR_FRAME_TOO_LARGE' }),
    );
    client.sendExtension(0x40, ['x', 'y', 'z']);
    client.sendExtension(0x40, Buffer.alloc(4000, 1));
    client.sendExtension(0x40, 'after');
    await all.promise;
    expect(got).toEqual(expected);
  });

  it('sendExtension from a pause listener inside sendExtension keeps both frames intact', async () => {
    const got: string[] = [];
    const both = deferred();
    const { port } = await resources.server({
      extension: () => ({
        onMessage(_socket, _type, body) {
          got.push(body.length > 100 ? `big:${String(body.length)}` : body.toString());
          if (got.length === 2) both.resolve();
        },
      }),
    });
    const client = resources.track(
      await connect({ host: '127.0.0.1', port, highWaterMark: 1024, extension: { onMessage() {} } }),
    );
    let paused = false;
    client.once('pause', () => {
      paused = true;
      client.sendExtension(0x41, ['re', 'entrant']);
    });
    // framing pauses only when bytes stay queued after the write: 12 MiB is more than a fresh
    // loopback connection's kernel buffers take at once.
    client.sendExtension(0x40, [Buffer.alloc(12 * 1024 * 1024, 1), 'tail']);
    expect(paused).toBe(true);
    await both.promise;
    expect(got).toEqual([`big:${String(12 * 1024 * 1024 + 4)}`, 'reentrant']);
  });

  it('validates the type range and needs a live link', async () => {
    expect([EXTENSION_TYPE_MIN, EXTENSION_TYPE_MAX]).toEqual([0x40, 0x7f]);
    const idle = new NsSocket();
    expect(() => idle.sendExtension(0x40, 'x')).toThrow(expect.objectContaining({ code: 'ERR_NOT_CONNECTED' }));
    const { client } = await resources.pair();
    for (const type of [0x3f, 0x80, 0x04, 64.5]) {
      expect(() => client.sendExtension(type, 'x')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    }
  });

  it('the opening gate holds user sends (queued) until onLinkOpening resolves; only extension messages go out', async () => {
    const order: string[] = [];
    const { server, port } = await resources.server({
      extension: () => ({ onMessage: (_socket, _type, body) => order.push(`ext:${body.toString()}`) }),
    });
    const userArrived = deferred();
    server.on('connection', (socket) =>
      socket.data('user', (data) => {
        order.push(`user:${String(data)}`);
        userArrived.resolve();
      }),
    );
    const gate = deferred();
    const opening = deferred<NsSocket>();
    const extension: NsExtension = {
      onMessage() {},
      onLinkOpening(socket) {
        opening.resolve(socket);
        return gate.promise;
      },
    };
    const client = resources.track(new NsSocket({ host: '127.0.0.1', port, extension, offlineQueue: true }));
    const connected = client.connect();
    const socket = await opening.promise;
    expect(socket).toBe(client);
    expect(client.state).toBe('opening');
    expect(client.connected).toBe(false);
    client.send('user', 1); // queued: the link is not open yet
    client.sendExtension(0x40, 'auth');
    gate.resolve();
    await expect(connected).resolves.toBe(client);
    await userArrived.promise;
    expect(order).toEqual(['ext:auth', 'user:1']);
  });

  it('without an offline queue, user send while opening throws ERR_NOT_CONNECTED', async () => {
    const { port } = await resources.server();
    const gate = deferred();
    const opening = deferred();
    const client = resources.track(
      new NsSocket({
        host: '127.0.0.1',
        port,
        extension: {
          onMessage() {},
          onLinkOpening() {
            opening.resolve();
            return gate.promise;
          },
        },
      }),
    );
    const connected = client.connect();
    await opening.promise;
    expect(() => client.send('user', 1)).toThrow(expect.objectContaining({ code: 'ERR_NOT_CONNECTED' }));
    gate.resolve();
    await connected;
    expect(client.send('user', 1)).toBe(true);
  });

  it('user events from a peer that finished opening wait until this side opens, then arrive in order', async () => {
    // Server gate: opens when the client's extension message arrives. The client has no gate, so it
    // sends READY and user events right behind the extension message, in the same chunk.
    const { server, port } = await resources.server({
      extension: () => {
        const gate = deferred();
        return {
          onMessage: () => gate.resolve(),
          onLinkOpening: () => gate.promise,
        };
      },
    });
    const received: unknown[] = [];
    const done = deferred();
    server.on('connection', (socket) =>
      socket.data('n', (n) => {
        received.push(n);
        if (received.length === 3) done.resolve();
      }),
    );
    const client = resources.track(await connect({ host: '127.0.0.1', port }));
    client.sendExtension(0x40, 'open sesame');
    client.send('n', 1);
    client.send('n', 2);
    client.send('n', 3);
    await done.promise;
    expect(received).toEqual([1, 2, 3]);
  });

  it('a user event from a peer still opening (no READY) is ERR_PROTOCOL, even while this side opens', async () => {
    const { server, port } = await resources.server({
      extension: () => ({ onMessage() {}, onLinkOpening: () => new Promise<void>(() => {}) }),
    });
    const reported = next<[Error]>(server, 'clientError');
    const raw = await rawConnect(resources, port);
    const closed = rawClosed(raw);
    raw.write(Buffer.concat([hello(), jsonEvent('user', '1')]));
    expect((await reported)[0]).toMatchObject({ code: 'ERR_PROTOCOL' });
    await closed;
    expect(server.sockets.size).toBe(0);
  });

  it('onLinkOpening runs synchronously at accept, so a tightened maxFrameBytes applies to the first byte', async () => {
    let limitAtOpening = 0;
    const { server, port } = await resources.server({
      extension: () => ({
        onMessage() {},
        onLinkOpening(socket) {
          socket.maxFrameBytes = 64;
          limitAtOpening = socket.maxFrameBytes;
          return new Promise<void>(() => {});
        },
      }),
    });
    const reported = next<[Error]>(server, 'clientError');
    const raw = await rawConnect(resources, port);
    raw.write(Buffer.concat([hello(), frame([0x40], Buffer.alloc(100))]));
    expect((await reported)[0]).toMatchObject({ code: 'ERR_FRAME_TOO_LARGE' });
    expect(limitAtOpening).toBe(64);
  });

  it('a fatal rejection of onLinkOpening makes connect() reject, with no reconnect', async () => {
    const { port } = await resources.server();
    const fatal = Object.assign(new Error('auth failed'), { fatal: true });
    let openings = 0;
    const closedLinks: (Error | undefined)[] = [];
    const client = new NsSocket({
      host: '127.0.0.1',
      port,
      reconnect: { initialDelayMs: 1 },
      extension: {
        onMessage() {},
        onLinkOpening: () => {
          openings++;
          return Promise.reject(fatal);
        },
        onLinkClosed: (_socket, error) => closedLinks.push(error),
      },
    });
    let reconnecting = 0;
    client.on('reconnecting', () => reconnecting++);
    const closed = next<[Error | undefined]>(client, 'close');
    await expect(client.connect()).rejects.toBe(fatal);
    expect((await closed)[0]).toBe(fatal);
    expect(openings).toBe(1);
    expect(reconnecting).toBe(0);
    expect(closedLinks).toEqual([fatal]);
  });

  it('a non-fatal rejection closes the link and reconnects', async () => {
    const { port } = await resources.server();
    let openings = 0;
    const client = resources.track(
      new NsSocket({
        host: '127.0.0.1',
        port,
        reconnect: { initialDelayMs: 1, maxDelayMs: 2 },
        extension: {
          onMessage() {},
          onLinkOpening: () => (++openings < 3 ? Promise.reject(new Error('not yet')) : undefined),
        },
      }),
    );
    await client.connect();
    expect(openings).toBe(3);
    // Two failed attempts, then the socket's first link: no successful reconnect yet.
    expect(client.stats.reconnects).toBe(0);
  });

  it('a synchronous throw of onLinkOpening is a rejection too', async () => {
    const { port } = await resources.server();
    const client = new NsSocket({
      host: '127.0.0.1',
      port,
      extension: {
        onMessage() {},
        onLinkOpening() {
          throw new Error('sync');
        },
      },
    });
    await expect(client.connect()).rejects.toThrow('sync');
  });

  it('the signal aborts and onLinkClosed runs once when the link closes while opening', async () => {
    const { server, port } = await resources.server();
    const signal = deferred<AbortSignal>();
    const closed: (Error | undefined)[] = [];
    const client = new NsSocket({
      host: '127.0.0.1',
      port,
      extension: {
        onMessage() {},
        onLinkOpening(_socket, s) {
          signal.resolve(s);
          return new Promise<void>(() => {});
        },
        onLinkClosed: (_socket, error) => closed.push(error),
      },
    });
    const connected = client.connect().catch((error: unknown) => error);
    const s = await signal.promise;
    expect(s.aborted).toBe(false);
    const clientClosed = next(client, 'close');
    await server.close();
    await clientClosed;
    expect(s.aborted).toBe(true);
    expect(closed).toHaveLength(1);
    expect(await connected).toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
  });

  it('exportKeyingMaterial is undefined on plain TCP; remoteAddress is the peer', async () => {
    const { client, peer } = await resources.pair();
    expect(client.exportKeyingMaterial(32, 'EXPORTER-test')).toBeUndefined();
    expect(client.remoteAddress).toBe('127.0.0.1');
    expect(peer.remoteAddress).toBe('127.0.0.1');
    expect(typeof client.remotePort).toBe('number');
  });

  it('maxFrameBytes passes through to the current link (read and write)', async () => {
    const { client, peer } = await resources.pair();
    expect(client.maxFrameBytes).toBe(16 * 1024 * 1024);
    peer.maxFrameBytes = 1024;
    expect(peer.maxFrameBytes).toBe(1024);
    const error = next<[Error, NsSocket | undefined]>(resources.servers[0]!, 'clientError');
    client.send('big', Buffer.alloc(2000));
    expect((await error)[0]).toMatchObject({ code: 'ERR_FRAME_TOO_LARGE' });
    const idle = new NsSocket();
    expect(() => {
      idle.maxFrameBytes = 10;
    }).toThrow(expect.objectContaining({ code: 'ERR_NOT_CONNECTED' }));
  });

  it('pauseReading stops delivery from the current link until resumeReading, losing nothing', async () => {
    const { client, peer } = await resources.pair();
    const other = await resources.pair(); // round trips on another link: I/O turns, not a sleep
    const received: number[] = [];
    const all = deferred();
    const total = 256;
    client.data('chunk', (data) => {
      received.push((data as Buffer).readUInt32BE(0));
      if (received.length === total) all.resolve();
    });
    const echoed = async (): Promise<void> => {
      const got = next(other.client, 'data::echo');
      other.peer.send('echo', 1);
      await got;
    };
    client.pauseReading();
    let blocked = false;
    for (let i = 0; i < total; i++) {
      const chunk = Buffer.alloc(64 * 1024);
      chunk.writeUInt32BE(i, 0);
      if (!peer.send('chunk', chunk)) blocked = true;
    }
    expect(blocked).toBe(true); // 16 MiB: more than the loopback buffers take
    await echoed();
    const seen = received.length;
    for (let i = 0; i < 20; i++) await echoed();
    expect(received.length).toBe(seen); // nothing read while paused
    expect(received.length).toBeLessThan(total);
    expect(peer.bufferedBytes).toBeGreaterThan(0);
    client.resumeReading();
    await all.promise;
    expect(received).toEqual(Array.from({ length: total }, (_, i) => i));
  });

  it('closing a socket that holds early user events (reading paused) still completes', async () => {
    const { server, port } = await resources.server({
      extension: () => ({ onMessage() {}, onLinkOpening: () => new Promise<void>(() => {}) }),
    });
    const client = resources.track(await connect({ host: '127.0.0.1', port }));
    for (let i = 0; i < 100; i++) client.send('early', i); // held by the server: its side never opens
    const clientClosed = next(client, 'close');
    await server.close(); // must not wait forever on the paused socket
    await clientClosed;
    expect(server.sockets.size).toBe(0);
  });

  it('user events the peer sent before our end() are still delivered while closing', async () => {
    const { client, peer } = await resources.pair();
    const received: unknown[] = [];
    client.data('n', (n) => received.push(n));
    for (let i = 0; i < 50; i++) peer.send('n', i);
    const ended = client.end();
    await ended;
    expect(received.length).toBeGreaterThan(0);
    expect(received).toEqual(Array.from({ length: received.length }, (_, i) => i));
  });

  it('a connection listener that throws after an asynchronous opening costs that link only (no unhandled rejection)', async () => {
    const { server, port } = await resources.server({
      extension: () => ({ onMessage() {}, onLinkOpening: () => Promise.resolve() }),
    });
    server.on('connection', () => {
      throw new TypeError('listener bug');
    });
    const reported = next<[Error]>(server, 'clientError');
    const client = resources.track(new NsSocket({ host: '127.0.0.1', port }));
    const closed = next(client, 'close');
    await client.connect();
    expect((await reported)[0]).toBeInstanceOf(TypeError);
    await closed;
    expect(server.listening).toBe(true);
  });

  it('an onLinkClosed hook that throws is reported as error and the socket still closes', async () => {
    const { port } = await resources.server();
    const boom = new Error('hook bug');
    const client = new NsSocket({ host: '127.0.0.1', port, extension: { onMessage() {}, onLinkClosed: () => { throw boom; } } });
    const errors: Error[] = [];
    client.on('error', (error) => errors.push(error));
    await client.connect();
    await client.end();
    expect(client.state).toBe('closed');
    expect(errors).toEqual([boom]);
  });
});
