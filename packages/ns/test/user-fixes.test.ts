// Issue 9's ns items: what a user or a peer hit, each pinned by a test that failed before the fix.
import * as net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { connect, DEFAULT_END_TIMEOUT_MS, NsSocket } from '@proto/ns';
import { frame, hello, jsonEvent, next, openSocket, rawClosed, rawConnect, ready, Resources } from './helpers.js';

const resources = new Resources();
const rawServers: net.Server[] = [];
const rawPeers: net.Socket[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const socket of rawPeers.splice(0)) socket.destroy();
  await resources.closeAll();
  await Promise.all(rawServers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

/** A raw TCP server; `onSocket` gets each connection. */
async function rawServer(onSocket: (socket: net.Socket) => void, options: net.ServerOpts = {}): Promise<number> {
  const server = net.createServer(options, (socket) => {
    socket.on('error', () => {});
    rawPeers.push(socket);
    onSocket(socket);
  });
  rawServers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** An event frame whose name is given as raw bytes. */
function eventWithNameBytes(name: Buffer, json: string): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(name.length);
  return frame([0x02], length, name, json);
}

describe('invalid UTF-8 from a peer is ERR_PROTOCOL', () => {
  async function offend(bytes: Buffer): Promise<{ error: Error; received: unknown[] }> {
    const received: unknown[] = [];
    const { server, port } = await resources.server();
    server.on('connection', (socket) => socket.data('**', (data) => received.push(data)));
    const reported = next<[Error]>(server, 'clientError');
    const raw = await rawConnect(resources, port);
    const closed = rawClosed(raw);
    raw.write(Buffer.concat([hello(), ready(), bytes]));
    const [error] = await reported;
    await closed;
    return { error, received };
  }

  it('in an event name (not replaced with U+FFFD and delivered)', async () => {
    const { error, received } = await offend(eventWithNameBytes(Buffer.from([0x61, 0xff, 0x62]), '1'));
    expect(error).toMatchObject({ code: 'ERR_PROTOCOL', message: expect.stringContaining('not valid UTF-8') });
    expect(received).toEqual([]);
  });

  it('in a JSON body', async () => {
    const body = Buffer.concat([Buffer.from('{"s":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const { error, received } = await offend(frame([0x02], [0x00, 0x04], 'chat', body));
    expect(error).toMatchObject({ code: 'ERR_PROTOCOL', message: expect.stringContaining('not valid UTF-8') });
    expect(received).toEqual([]);
  });

  it('valid multi-byte UTF-8 (and a real U+FFFD) still arrives', async () => {
    const { client, peer } = await resources.pair();
    const got = next<[unknown, string[]]>(peer, 'data::héllo');
    client.send('héllo', { s: 'snow ☃ and \uFFFD' });
    const [data, segments] = await got;
    expect(data).toEqual({ s: 'snow ☃ and \uFFFD' });
    expect(segments).toEqual(['héllo']);
  });
});

describe('data JSON cannot carry throws ERR_INVALID_ARG and sends nothing', () => {
  const cases: [string, unknown][] = [
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['a BigInt', 10n],
    ['a nested function', { a: 1, f: () => 1 }],
    ['a nested symbol in an array', [1, Symbol('s')]],
    ['a deeply nested function', { a: { b: [{ c: () => 1 }] } }],
  ];
  it.each(cases)('%s', async (_label, data) => {
    const { client, peer } = await resources.pair();
    const received: unknown[] = [];
    peer.data('**', (value, segments) => received.push([segments.join('::'), value]));
    expect(() => client.send('bad', data)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    const marker = next(peer, 'data::marker');
    client.send('marker', 1);
    await marker;
    expect(received).toEqual([['marker', 1]]);
  });

  it('a cycle', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const socket = new NsSocket({ offlineQueue: true });
    expect(() => socket.send('bad', cyclic)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
  });
});

describe('connect({ signal })', () => {
  it('an already-aborted signal rejects with ERR_ABORTED and dials nothing', async () => {
    let accepted = 0;
    const port = await rawServer(() => accepted++);
    const controller = new AbortController();
    controller.abort(new Error('never mind'));
    await expect(connect({ host: '127.0.0.1', port, signal: controller.signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(accepted).toBe(0);
  });

  it('aborting while the peer says nothing rejects with ERR_ABORTED (cause: the reason) and closes the socket', async () => {
    let connected!: () => void;
    const reached = new Promise<void>((resolve) => (connected = resolve));
    const port = await rawServer(() => connected()); // accepts, never says hello
    const controller = new AbortController();
    const client = new NsSocket({ host: '127.0.0.1', port, reconnect: true });
    const closed = next(client, 'close');
    const pending = client.connect({ signal: controller.signal });
    await reached;
    const reason = new Error('user gave up');
    controller.abort(reason);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_ABORTED', cause: reason });
    await closed;
    expect(client.state).toBe('closed');
  });

  it('a signal aborted after the link opened changes nothing', async () => {
    const { port } = await resources.server();
    const controller = new AbortController();
    const client = resources.track(await connect({ host: '127.0.0.1', port, signal: controller.signal }));
    controller.abort();
    expect(client.connected).toBe(true);
  });
});

describe('end() / close(): one graceful verb, bounded', () => {
  /** A server that says hello and READY, then neither reads nor closes its side. */
  async function silentPeer(): Promise<number> {
    return rawServer((socket) => socket.write(Buffer.concat([hello(), ready()])), { allowHalfOpen: true });
  }

  it('end() destroys the link when the peer never closes its side (after timeoutMs)', async () => {
    const port = await silentPeer();
    const client = await connect({ host: '127.0.0.1', port });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const closed = next(client, 'close');
    let done = false;
    const ended = client.end({ timeoutMs: 1000 }).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await closed;
    await ended;
    expect(client.state).toBe('closed');
  });

  it('end() without options waits DEFAULT_END_TIMEOUT_MS; close() is the same verb', async () => {
    expect(DEFAULT_END_TIMEOUT_MS).toBe(10_000);
    const port = await silentPeer();
    const client = await connect({ host: '127.0.0.1', port });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const closed = next(client, 'close');
    void client.close();
    await vi.advanceTimersByTimeAsync(DEFAULT_END_TIMEOUT_MS - 1);
    expect(client.state).toBe('closing');
    await vi.advanceTimersByTimeAsync(1);
    await closed;
  });

  it('an invalid timeoutMs rejects with ERR_INVALID_ARG', async () => {
    const { port } = await resources.server();
    const client = resources.track(await connect({ host: '127.0.0.1', port }));
    await expect(client.end({ timeoutMs: -1 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
    expect(client.connected).toBe(true);
  });
});

describe('offlineQueue without reconnect', () => {
  it('refuses a send while the link is ending (it would be dropped at close), instead of queueing it', async () => {
    // The peer says hello, sends its FIN, and never reads: the client's link ends but cannot close
    // while its outbound bytes are stuck, so the send below meets an ending link.
    let peerSocket!: net.Socket;
    const port = await rawServer((socket) => {
      peerSocket = socket;
      socket.pause();
      socket.write(Buffer.concat([hello(), ready()]));
    }, { allowHalfOpen: true });
    const client = resources.track(await connect({ host: '127.0.0.1', port, offlineQueue: true, idleTimeoutMs: 100 }));
    const big = Buffer.alloc(1024 * 1024);
    while (client.send('fill', big)) {
      /* until bytes stay queued */
    }
    const idle = next(client, 'idle');
    peerSocket.end();
    await idle; // nothing moves any more: the peer's FIN has been read by now
    expect(client.state).toBe('closing');
    expect(() => client.send('late', 1)).toThrow(expect.objectContaining({ code: 'ERR_NOT_CONNECTED' }));
    client.destroy();
  });
});

describe('stats.reconnects counts successful reconnects', () => {
  it('failed attempts do not count; each link after the first does', async () => {
    const { server, port } = await resources.server();
    const client = resources.track(await connect({ host: '127.0.0.1', port, reconnect: { initialDelayMs: 1, maxDelayMs: 2 } }));
    expect(client.stats.reconnects).toBe(0);
    for (let i = 1; i <= 2; i++) {
      const again = next(client, 'connect');
      (await openSocket(server)).destroy();
      await again;
      expect(client.stats.reconnects).toBe(i);
    }
  });
});

describe('a peer speaking another protocol', () => {
  it('an HTTP server is named by its first bytes before the opening completes', async () => {
    const port = await rawServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const error = await connect({ host: '127.0.0.1', port }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(error).toMatchObject({ code: 'ERR_FRAME_TOO_LARGE', message: 'peer does not speak this protocol; first bytes 48 54 54 50' });
  });

  it('a frame that is not a hello names its first bytes too', async () => {
    const port = await rawServer((socket) => socket.write(jsonEvent('x', '1')));
    await expect(connect({ host: '127.0.0.1', port })).rejects.toMatchObject({
      code: 'ERR_PROTOCOL',
      message: expect.stringContaining('peer does not speak this protocol'),
    });
  });
});
