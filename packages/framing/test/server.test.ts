import { once } from 'node:events';
import * as net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AbortedError,
  connect,
  createServer,
  type FramedServer,
  FramedSocket,
  type ListenRetryEvent,
  NotConnectedError,
  ProtocolError,
  type ProtoError,
  FrameTooLargeError,
  InvalidArgError,
} from '../src/index.js';
import { collectFrames, listenLocal, rawConnect, rawFrame, Resources } from './fixtures/helpers.js';

const resources = new Resources();

afterEach(async () => {
  await resources.closeAll();
});

function clientErrors(server: FramedServer): Array<[Error, FramedSocket | undefined]> {
  const errors: Array<[Error, FramedSocket | undefined]> = [];
  server.on('clientError', (error, socket) => errors.push([error, socket]));
  return errors;
}

/** An echo server: every frame comes back prefixed with `echo:`. */
async function echoServer(options = {}): Promise<{ server: FramedServer; port: number }> {
  const server = resources.server(
    createServer(options, (socket) => socket.on('frame', (frame) => socket.send(['echo:', frame]))),
  );
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  return { server, port };
}

/** Occupies a port on 127.0.0.1 with a plain net server. */
async function occupyPort(): Promise<{ blocker: net.Server; port: number }> {
  const blocker = resources.server(net.createServer());
  await new Promise<void>((resolve) => blocker.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return { blocker, port: (blocker.address() as net.AddressInfo).port };
}

describe('createServer / FramedServer', () => {
  it('listens on port 0 and reports its address', async () => {
    const server = resources.server(createServer());
    expect(() => server.address()).toThrow(NotConnectedError);
    const address = await server.listen({ host: '127.0.0.1', port: 0 });
    expect(address).toEqual({ host: '127.0.0.1', port: expect.any(Number), family: 'IPv4', path: undefined });
    expect(address.port).toBeGreaterThan(0);
    expect(server.address()).toEqual(address);
    expect(server.listening).toBe(true);
    await expect(server.listen({ host: '127.0.0.1', port: 0 })).rejects.toBeInstanceOf(InvalidArgError);
  });

  it('hands connections to onConnection and tracks them in a ReadonlySet', async () => {
    const { server, port } = await echoServer();
    const connected = once(server, 'connection');
    const client = resources.socket(await connect({ host: '127.0.0.1', port }));
    const [accepted] = (await connected) as [FramedSocket];
    expect(accepted).toBeInstanceOf(FramedSocket);
    expect(server.connections.has(accepted)).toBe(true);
    expect(server.connections.size).toBe(1);
    const reply = collectFrames(client, 1);
    client.send('hi');
    expect(String((await reply)[0])).toBe('echo:hi');
    const closed = new Promise((resolve) => accepted.once('close', resolve));
    await client.end();
    await closed;
    expect(server.connections.size).toBe(0);
  });

  it('passes FramedSocket options to accepted sockets', async () => {
    const { port, accepted } = await listenLocal(resources, { maxFrameBytes: 8, idleTimeoutMs: 20 });
    const client = resources.socket(await connect({ host: '127.0.0.1', port }));
    const socket = await accepted;
    expect(socket.maxFrameBytes).toBe(8);
    await once(socket, 'timeout');
    expect(client.closed).toBe(false);
  });

  it('reports garbage from one client as clientError while another client is served', async () => {
    const { server, port } = await echoServer({ maxFrameBytes: 1024 });
    const errors = clientErrors(server);
    const healthy = resources.socket(await connect({ host: '127.0.0.1', port }));
    const before = collectFrames(healthy, 1);
    healthy.send('before');
    expect(String((await before)[0])).toBe('echo:before');

    const bad = await rawConnect(resources, port);
    const failed = once(server, 'clientError');
    const badClosed = once(bad, 'close');
    bad.write(rawFrame(Buffer.from('fine')));
    bad.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xde, 0xad]));
    const [error, socket] = (await failed) as [Error, FramedSocket];
    await badClosed;
    expect(error).toBeInstanceOf(FrameTooLargeError);
    expect((error as ProtoError).code).toBe('ERR_FRAME_TOO_LARGE');
    expect(socket).toBeInstanceOf(FramedSocket);
    if (!socket.closed) await new Promise((resolve) => socket.once('close', resolve));
    expect(socket.closed).toBe(true);
    expect(server.connections.has(socket)).toBe(false);

    const after = collectFrames(healthy, 2);
    healthy.send('after');
    healthy.send(Buffer.alloc(1000, 1));
    const frames = await after;
    expect(String(frames[0])).toBe('echo:after');
    expect(frames[1]!.length).toBe(1005);
    expect(errors).toHaveLength(1);
    expect(server.connections.size).toBe(1);
  });

  it('reports a malformed header as ERR_PROTOCOL', async () => {
    const { server, port } = await echoServer({ lengthPrefix: 'varint' });
    const bad = await rawConnect(resources, port);
    const failed = once(server, 'clientError');
    bad.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    const [error] = (await failed) as [Error];
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtoError).code).toBe('ERR_PROTOCOL');
  });

  it('reports a throwing onConnection as clientError and keeps serving', async () => {
    let calls = 0;
    const server = resources.server(
      createServer((socket) => {
        calls++;
        if (calls === 1) throw new Error('handler bug');
        socket.on('frame', (frame) => socket.send(frame));
      }),
    );
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const failed = once(server, 'clientError');
    const first = resources.socket(await connect({ host: '127.0.0.1', port }));
    first.on('error', () => {});
    const [error] = (await failed) as [Error];
    expect(error.message).toBe('handler bug');
    const second = resources.socket(await connect({ host: '127.0.0.1', port }));
    const reply = collectFrames(second, 1);
    second.send('still here');
    expect(String((await reply)[0])).toBe('still here');
  });

  it('retries listen on EADDRINUSE and succeeds once the port is free', async () => {
    const { blocker, port } = await occupyPort();
    const server = resources.server(createServer());
    const retries: ListenRetryEvent[] = [];
    server.on('listenRetry', (info) => {
      retries.push(info);
      if (retries.length === 1) blocker.close();
    });
    const address = await server.listen({ host: '127.0.0.1', port, retries: 5, retryDelayMs: 20 });
    expect(address.port).toBe(port);
    expect(retries).toHaveLength(1);
    expect(retries[0]!.attempt).toBe(1);
    expect(retries[0]!.delayMs).toBe(20);
    expect((retries[0]!.error as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
  });

  it('rejects with EADDRINUSE after the retries are used up', async () => {
    const { port } = await occupyPort();
    const server = resources.server(createServer());
    const attempts: number[] = [];
    server.on('listenRetry', ({ attempt }) => attempts.push(attempt));
    const error = await server.listen({ host: '127.0.0.1', port, retries: 2, retryDelayMs: 5 }).catch((e: unknown) => e);
    expect((error as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
    expect(attempts).toEqual([1, 2]);
    expect(server.listening).toBe(false);
  });

  it('close() during a retry delay stops listen() with ERR_ABORTED', async () => {
    const { port } = await occupyPort();
    const server = resources.server(createServer());
    const retried = once(server, 'listenRetry');
    const listening = server.listen({ host: '127.0.0.1', port, retries: 3, retryDelayMs: 60_000 });
    await retried;
    await server.close();
    await expect(listening).rejects.toBeInstanceOf(AbortedError);
  });

  it('closes gracefully: frames sent before close arrive, close resolves, no connection left', async () => {
    const server = resources.server(createServer());
    const accepted = once(server, 'connection');
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const client = resources.socket(await connect({ host: '127.0.0.1', port }));
    const [socket] = (await accepted) as [FramedSocket];
    const frames = collectFrames(client, 101);
    for (let i = 0; i < 100; i++) socket.send(`frame ${String(i)}`);
    socket.send(Buffer.alloc(200_000, 3));
    const clientClosed = new Promise((resolve) => client.once('close', resolve));
    const serverClosed = once(server, 'close');
    await server.close();
    await serverClosed;
    const received = await frames;
    expect(received.slice(0, 100).map(String)).toEqual(Array.from({ length: 100 }, (_, i) => `frame ${String(i)}`));
    expect(received[100]!.length).toBe(200_000);
    await clientClosed;
    expect(server.connections.size).toBe(0);
    expect(server.listening).toBe(false);
    expect(() => server.address()).toThrow(NotConnectedError);
    await expect(connect({ host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('close({ timeoutMs }) destroys connections that do not close in time', async () => {
    const server = resources.server(createServer());
    const accepted = once(server, 'connection');
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    // A raw half-open client never ends its side, so the server's end() alone cannot finish.
    const stubborn = resources.socket(net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }));
    stubborn.on('error', () => {});
    stubborn.resume();
    const [socket] = (await accepted) as [FramedSocket];
    const closedEarly = await Promise.race([
      server.close({ timeoutMs: 50 }).then(() => 'closed'),
      once(stubborn, 'end').then(() => 'ended'),
    ]);
    expect(closedEarly).toBe('ended'); // the server half-closed first, then waited
    await server.close();
    expect(socket.closed).toBe(true);
    expect(server.connections.size).toBe(0);
  });

  it('close() on a server that never listened resolves', async () => {
    const server = createServer();
    await expect(server.close()).resolves.toBeUndefined();
    await expect(server.listen({ host: '127.0.0.1', port: 0 })).rejects.toBeInstanceOf(InvalidArgError);
  });

  it('validates listen options', async () => {
    const server = resources.server(createServer());
    await expect(server.listen({ port: -1 })).rejects.toBeInstanceOf(InvalidArgError);
    await expect(server.listen({ host: '127.0.0.1', port: 0, retries: -1 })).rejects.toBeInstanceOf(InvalidArgError);
    await expect(server.listen({ path: '' })).rejects.toBeInstanceOf(InvalidArgError);
  });

  it('releases sockets, servers and timers after close', async () => {
    const count = (kinds: readonly string[]): number =>
      process.getActiveResourcesInfo().filter((r) => kinds.includes(r)).length;
    const sockets = ['TCPSocketWrap', 'TCPServerWrap'];
    // Handles of earlier tests finish closing in a later loop phase; start from none.
    await vi.waitFor(() => expect(count(sockets)).toBe(0));
    const timers = count(['Timeout']);
    const { server, port } = await echoServer({ idleTimeoutMs: 5000 });
    const client = await connect({ host: '127.0.0.1', port, idleTimeoutMs: 5000, connectTimeoutMs: 5000 });
    const reply = collectFrames(client, 1);
    client.send('x');
    await reply;
    expect(count(sockets)).toBe(3);
    const clientClosed = new Promise((resolve) => client.once('close', resolve));
    await server.close();
    await clientClosed;
    await vi.waitFor(() => expect(count(sockets)).toBe(0));
    expect(count(['Timeout'])).toBeLessThanOrEqual(timers);
    expect(client.stream.listenerCount('data')).toBe(0);
  });
});
