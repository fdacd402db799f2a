// A link is open (connect() resolves, `connect`/`connection` fire, the offline queue is flushed, the
// backoff counter resets) only once the peer's hello arrived and the extension, if any, opened it.
// A peer that accepts and closes without a hello is a failed attempt, with growing backoff.
import * as net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createServer, type NsReconnectingInfo, NsSocket } from '@proto/ns';
import { fixture, hello, jsonEvent, next, ready, Resources } from './helpers.js';

const resources = new Resources();
afterEach(async () => {
  vi.useRealTimers();
  await resources.closeAll();
});

/** Timers and Date only: never nextTick or queueMicrotask, which real sockets need. */
const useFakeTimers = (): void => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
};

interface RawServer {
  port: number;
  /** Connections accepted so far, in order. */
  sockets: net.Socket[];
  /** Resolves with the next accepted connection. */
  nextConnection(): Promise<net.Socket>;
  close(): Promise<void>;
}

/** A plain TCP server that runs `onConnection` for each connection (and never speaks ns by itself). */
async function rawServer(onConnection: (socket: net.Socket) => void = () => {}, allowHalfOpen = false): Promise<RawServer> {
  const sockets: net.Socket[] = [];
  let waiter: ((socket: net.Socket) => void) | undefined;
  const server = net.createServer({ allowHalfOpen }, (socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    onConnection(socket);
    const resolve = waiter;
    waiter = undefined;
    resolve?.(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    nextConnection: () => new Promise((resolve) => (waiter = resolve)),
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves once `socket` has received at least `bytes` bytes; returns them. */
function received(socket: net.Socket, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  return new Promise((resolve) => {
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks);
      if (all.length < bytes) return;
      socket.off('data', onData);
      resolve(all);
    };
    socket.on('data', onData);
  });
}

const HELLO_BYTES = hello().length;

describe('a link opens only after the peer said hello', () => {
  for (const [how, close] of [
    ['destroys', (socket: net.Socket) => socket.destroy()],
    ['ends', (socket: net.Socket) => socket.end()],
  ] as const) {
    it(`a server that accepts and ${how} each connection before any hello: failed attempts, growing delays, connect() rejects after maxAttempts`, async () => {
      const server = await rawServer(close);
      try {
        const client = new NsSocket({
          host: '127.0.0.1',
          port: server.port,
          reconnect: { initialDelayMs: 2, factor: 2, maxDelayMs: 1000, jitter: false, maxAttempts: 4 },
        });
        let connects = 0;
        const attempts: NsReconnectingInfo[] = [];
        client.on('connect', () => connects++);
        client.on('reconnecting', (info) => attempts.push(info));
        const closed = next<[Error | undefined]>(client, 'close');
        const rejected = await client.connect().then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(rejected).toBeInstanceOf(Error);
        expect((await closed)[0]).toBe(rejected);
        expect(connects).toBe(0);
        expect(attempts.map((info) => [info.attempt, info.delayMs])).toEqual([
          [1, 2],
          [2, 4],
          [3, 8],
          [4, 16],
        ]);
        expect(server.sockets).toHaveLength(5); // the first try and 4 retries
        expect(client.state).toBe('closed');
        expect(client.stats.reconnects).toBe(0); // 4 retries, none of them a link that opened
      } finally {
        await server.close();
      }
    });
  }

  it('a TLS server refusing the client certificate (isClientAllowed false) is a failed attempt, not a connect', async () => {
    const server = createServer({
      tls: {
        key: fixture('server-key.pem'),
        cert: fixture('server-cert.pem'),
        ca: fixture('ca-cert.pem'),
        requestCert: true,
        isClientAllowed: () => false,
      },
    });
    resources.servers.push(server);
    let refused = 0;
    server.on('clientError', (error) => {
      if ((error as { code?: string }).code === 'ERR_CLIENT_REJECTED') refused++;
    });
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const client = new NsSocket({
      host: '127.0.0.1',
      port,
      tls: { ca: fixture('ca-cert.pem'), cert: fixture('server-cert.pem'), key: fixture('server-key.pem'), servername: 'localhost' },
      reconnect: { initialDelayMs: 1, factor: 2, jitter: false, maxAttempts: 2 },
    });
    let connects = 0;
    const attempts: number[] = [];
    client.on('connect', () => connects++);
    client.on('reconnecting', (info) => attempts.push(info.attempt));
    await expect(client.connect()).rejects.toBeInstanceOf(Error);
    expect(connects).toBe(0);
    expect(attempts).toEqual([1, 2]);
    expect(refused).toBe(3);
  });

  it('connect() waits for the hello: meanwhile the socket is opening and sends are queued; then it opens and flushes', async () => {
    const server = await rawServer();
    try {
      const client = resources.track(new NsSocket({ host: '127.0.0.1', port: server.port, offlineQueue: true }));
      let connects = 0;
      client.on('connect', () => connects++);
      const accepted = server.nextConnection();
      const connecting = client.connect();
      const peer = await accepted;
      await received(peer, HELLO_BYTES); // the client's hello: it has attached the link
      expect(client.state).toBe('opening');
      expect(client.connected).toBe(false);
      expect(connects).toBe(0);
      expect(client.send('early', 1)).toBe(true); // queued, not written

      const flushed = received(peer, 1);
      peer.write(Buffer.concat([hello(), ready()]));
      await expect(connecting).resolves.toBe(client);
      expect(connects).toBe(1);
      expect(client.connected).toBe(true);
      const bytes = await flushed;
      // READY, then the queued event: nothing of it was written before the hello.
      expect(bytes.subarray(0, 5)).toEqual(ready());
      expect(bytes.subarray(5).includes('early')).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('user events sent right behind the hello reach listeners added after connect() resolves', async () => {
    const server = await rawServer((socket) => socket.write(Buffer.concat([hello(), ready(), jsonEvent('welcome', '"hi"')])));
    try {
      const client = resources.track(await new NsSocket({ host: '127.0.0.1', port: server.port }).connect());
      const [data] = await next<[unknown]>(client, 'data::welcome');
      expect(data).toBe('hi');
    } finally {
      await server.close();
    }
  });

  it('a server that accepts and never says hello fails the attempt after connectTimeoutMs (ERR_CONNECT_TIMEOUT)', async () => {
    useFakeTimers();
    const server = await rawServer();
    try {
      const client = new NsSocket({ host: '127.0.0.1', port: server.port, connectTimeoutMs: 5_000 });
      const errors: unknown[] = [];
      client.on('error', (error) => errors.push(error));
      const accepted = server.nextConnection();
      const connecting = client.connect();
      const settled = connecting.then(
        () => undefined,
        (error: unknown) => error,
      );
      await received(await accepted, HELLO_BYTES);
      expect(client.state).toBe('opening');
      await vi.advanceTimersByTimeAsync(4_900);
      expect(client.state).toBe('opening');
      await vi.advanceTimersByTimeAsync(200);
      expect(await settled).toMatchObject({ code: 'ERR_CONNECT_TIMEOUT' });
      expect(client.state).toBe('closed');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      await server.close();
    }
  });
});

describe('ending while the link is opening', () => {
  it('end() before the hello: connect() rejects with ERR_CONNECTION_CLOSED at once, no timer left, no reconnect ever', async () => {
    useFakeTimers();
    // allowHalfOpen: the server does not close its side when the client ends, so the link stays up
    // after end(); connect() must not wait for it.
    const server = await rawServer(() => {}, true);
    try {
      const client = new NsSocket({ host: '127.0.0.1', port: server.port, reconnect: { initialDelayMs: 10, jitter: false } });
      let reconnecting = 0;
      client.on('reconnecting', () => reconnecting++);
      const accepted = server.nextConnection();
      const connecting = client.connect();
      await received(await accepted, HELLO_BYTES);
      expect(client.state).toBe('opening');
      const ended = client.end();
      await expect(connecting).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
      expect(client.state).toBe('closing'); // flushing; the peer has not closed its side
      server.sockets[0]!.end();
      await ended;
      expect(client.state).toBe('closed');
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(reconnecting).toBe(0);
      expect(server.sockets).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('destroy(err) before the hello: connect() rejects with err, close carries it, no timer left', async () => {
    useFakeTimers();
    const server = await rawServer();
    try {
      const client = new NsSocket({ host: '127.0.0.1', port: server.port, reconnect: { initialDelayMs: 10, jitter: false } });
      const accepted = server.nextConnection();
      const connecting = client.connect();
      await received(await accepted, HELLO_BYTES);
      const closed = next<[Error | undefined]>(client, 'close');
      const reason = new Error('giving up');
      client.destroy(reason);
      await expect(connecting).rejects.toBe(reason);
      expect((await closed)[0]).toBe(reason);
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(server.sockets).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('end() while the extension is opening aborts its signal and rejects connect() at once, though the peer keeps its side open', async () => {
    // A half-open peer that said hello: end() flushes and waits for its close, which does not come.
    const server = await rawServer((socket) => socket.write(hello()), true);
    try {
      let aborted: unknown;
      let opened!: () => void;
      const opening = new Promise<void>((resolve) => (opened = resolve));
      const closedLinks: (Error | undefined)[] = [];
      const client = new NsSocket({
        host: '127.0.0.1',
        port: server.port,
        extension: {
          onMessage() {},
          onLinkOpening(_socket, signal) {
            signal.addEventListener('abort', () => (aborted = signal.reason));
            opened();
            return new Promise<void>(() => {});
          },
          onLinkClosed: (_socket, error) => closedLinks.push(error),
        },
      });
      const connecting = client.connect();
      await opening;
      const ended = client.end();
      await expect(connecting).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
      expect(aborted).toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
      expect(client.state).toBe('closing');
      server.sockets[0]!.end();
      await ended;
      expect(client.state).toBe('closed');
      expect(closedLinks).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});
