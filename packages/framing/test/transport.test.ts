import { getEventListeners, once } from 'node:events';
import * as net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AbortedError,
  ConnectTimeoutError,
  connect,
  FramedSocket,
  InvalidArgError,
  type ProtoError,
} from '../src/index.js';
import { collectFrames, listenLocal, Resources } from './fixtures/helpers.js';

const resources = new Resources();

afterEach(async () => {
  vi.restoreAllMocks();
  await resources.closeAll();
});

/** A TCP server that accepts connections and never says anything (a TLS handshake never completes). */
async function silentServer(): Promise<number> {
  const server = resources.server(net.createServer((socket) => resources.socket(socket)));
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return (server.address() as net.AddressInfo).port;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('connect()', () => {
  it('resolves with a FramedSocket over TCP with Nagle off by default', async () => {
    const noDelay = vi.spyOn(net.Socket.prototype, 'setNoDelay');
    const { port, accepted } = await listenLocal(resources);
    const client = resources.socket(await connect({ host: '127.0.0.1', port }));
    expect(client).toBeInstanceOf(FramedSocket);
    expect(noDelay.mock.contexts).toContain(client.stream);
    expect(noDelay.mock.calls.every(([value]) => value === true)).toBe(true);
    const peer = await accepted;
    const frames = collectFrames(peer, 1);
    client.send('over tcp');
    expect(String((await frames)[0])).toBe('over tcp');
  });

  it('leaves Nagle on with noDelay: false and passes socket options through', async () => {
    const noDelay = vi.spyOn(net.Socket.prototype, 'setNoDelay');
    const { port } = await listenLocal(resources);
    const client = resources.socket(
      await connect({ host: '127.0.0.1', port, noDelay: false, maxFrameBytes: 77, highWaterMark: 1000 }),
    );
    expect(noDelay.mock.calls.filter((_, i) => noDelay.mock.contexts[i] === client.stream)).toEqual([[false]]);
    expect(client.maxFrameBytes).toBe(77);
  });

  it('rejects with the OS error when nothing listens', async () => {
    const port = await closedPort();
    const error = await connect({ host: '127.0.0.1', port }).catch((e: unknown) => e);
    expect((error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('rejects with ERR_CONNECT_TIMEOUT when the handshake does not finish in time', async () => {
    const port = await silentServer();
    const started = Date.now();
    const error = await connect({ host: '127.0.0.1', port, tls: true, connectTimeoutMs: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectTimeoutError);
    expect((error as ProtoError).code).toBe('ERR_CONNECT_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('rejects with ERR_ABORTED when the signal aborts, removing its abort listener', async () => {
    const port = await silentServer();
    const controller = new AbortController();
    const attempt = connect({ host: '127.0.0.1', port, tls: true, signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort(new Error('user gave up'));
    const error = await attempt.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as ProtoError).code).toBe('ERR_ABORTED');
    expect((error as Error).cause).toEqual(new Error('user gave up'));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects at once for an already aborted signal', async () => {
    const connecting = vi.spyOn(net.Socket.prototype, 'connect');
    await expect(connect({ host: '127.0.0.1', port: 1, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      AbortedError,
    );
    expect(connecting).not.toHaveBeenCalled();
  });

  it('removes its abort listener and timer after a successful connect', async () => {
    const { port } = await listenLocal(resources);
    const controller = new AbortController();
    const client = resources.socket(await connect({ host: '127.0.0.1', port, signal: controller.signal }));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    controller.abort(); // no effect once connected
    expect(client.closed).toBe(false);
    expect(client.stream.listenerCount('connect')).toBe(0);
  });

  it('validates its options before connecting', async () => {
    await expect(connect({ host: '127.0.0.1', port: 0 })).rejects.toBeInstanceOf(InvalidArgError);
    await expect(connect({ host: '127.0.0.1', port: 70_000 })).rejects.toBeInstanceOf(InvalidArgError);
    await expect(connect({ host: '127.0.0.1', port: 1, connectTimeoutMs: -5 })).rejects.toBeInstanceOf(InvalidArgError);
    await expect(connect({ host: '127.0.0.1', port: 1, highWaterMark: 0 })).rejects.toBeInstanceOf(InvalidArgError);
    await expect(connect({ host: '127.0.0.1', port: 1, tls: { ca: '/no/such/ca.pem' } })).rejects.toBeInstanceOf(
      InvalidArgError,
    );
    await expect(connect(null as never)).rejects.toBeInstanceOf(InvalidArgError);
  });

  it('client sockets report errors on their own error event', async () => {
    const { port, accepted } = await listenLocal(resources);
    const client = resources.socket(await connect({ host: '127.0.0.1', port }));
    const peer = await accepted;
    const failed = once(client, 'error');
    // The peer speaks a frame larger than the client accepts.
    client.maxFrameBytes = 4;
    peer.send('too long for the client');
    const [error] = (await failed) as [ProtoError];
    expect(error.code).toBe('ERR_FRAME_TOO_LARGE');
  });
});
