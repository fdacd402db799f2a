import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RpcClient, RpcServer } from '../src/index.js';
import type { AuthFailedInfo, Handler, RpcClientOptions, RpcServerOptions } from '../src/index.js';
import { fixture, next, PASSWORD, Resources } from './helpers.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

describe('handle() checks what it registers', () => {
  const server = new RpcServer({ password: PASSWORD });
  const client = new RpcClient({ port: 1, password: PASSWORD });
  const sides = [(m: string, h: Handler): unknown => server.handle(m, h), (m: string, h: Handler): unknown => client.handle(m, h)];

  it.each([
    ['a number', 42],
    ['a string', 'x'],
    ['undefined', undefined],
    ['an object', {}],
  ])('refuses %s as handler with ERR_INVALID_ARG', (_what, handler) => {
    for (const handle of sides) {
      expect(() => handle('x', handler as unknown as Handler)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    }
  });

  it.each([
    ['', 'empty'],
    ['a::', 'empty segment'],
    ['::a', 'empty segment'],
    ['a::::b', 'empty segment'],
    ['a::*', 'wildcard'],
    ['**', 'wildcard'],
    ['x'.repeat(256), '255 bytes'],
    ['a\uD800', 'surrogate'],
  ])('refuses the method name %j (%s)', (method, why) => {
    for (const handle of sides) {
      expect(() => handle(method, () => 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', message: expect.stringContaining(why) }));
    }
  });

  it('accepts valid names, strings and arrays', () => {
    expect(() => server.handle('a::b', () => 1)).not.toThrow();
    expect(() => server.handle(['a', 'b', 'c'], () => 1)).not.toThrow();
    expect(() => server.handle('é'.repeat(127), () => 1)).not.toThrow();
    expect(() => server.handle(['a', ''], () => 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
  });

  it('a refused registration leaves no handler behind', async () => {
    const { server: live, client: caller } = await resources.pair();
    expect(() => live.handle('x', 42 as unknown as Handler)).toThrow();
    await expect(caller.request('x')).rejects.toMatchObject({ code: 'ERR_METHOD_NOT_FOUND' });
  });
});

describe('a client refused at the TLS layer is visible on the server', () => {
  const tlsServer = { key: readFileSync(fixture('server.key')), cert: readFileSync(fixture('server.pem')) };
  const ca = readFileSync(fixture('ca.pem'));
  const clientCert = { ca, key: readFileSync(fixture('client.key')), cert: readFileSync(fixture('client.pem')) };

  it('isClientAllowed refusing gives authFailed tls-rejected with ERR_CLIENT_REJECTED', async () => {
    const { server, port } = await resources.server({
      tls: { ...tlsServer, ca, requestCert: true, rejectUnauthorized: true, isClientAllowed: () => false },
    });
    const failed = next<[AuthFailedInfo]>(server, 'authFailed');
    const client = resources.client(port, { tls: clientCert });
    await expect(client.connect()).rejects.toBeInstanceOf(Error);
    const [info] = await failed;
    expect(info).toMatchObject({ reason: 'tls-rejected', address: undefined, error: expect.objectContaining({ code: 'ERR_CLIENT_REJECTED' }) });
  });

  it('a client without a certificate gives authFailed tls-rejected', async () => {
    const { server, port } = await resources.server({ tls: { ...tlsServer, ca, requestCert: true, rejectUnauthorized: true } });
    const failed = next<[AuthFailedInfo]>(server, 'authFailed');
    const client = resources.client(port, { tls: { ca } });
    await expect(client.connect()).rejects.toBeInstanceOf(Error);
    const [info] = await failed;
    expect(info.reason).toBe('tls-rejected');
    expect(info.error).toBeInstanceOf(Error);
  });
});

describe('options say what is wanted', () => {
  const invalid = (make: () => unknown, message: string): void => {
    expect(make).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', message: expect.stringContaining(message) }));
  };

  it('a missing, numeric or empty password', () => {
    invalid(() => new RpcClient({ port: 1 } as unknown as RpcClientOptions), 'password is required');
    invalid(() => new RpcClient({ port: 1, password: 42 } as unknown as RpcClientOptions), 'password must be the shared secret: a non-empty string, or a non-empty Uint8Array / Buffer, got a number');
    invalid(() => new RpcServer({ password: 42 } as unknown as RpcServerOptions), 'got a number');
    invalid(() => new RpcClient({ port: 1, password: '' }), 'password must not be empty');
    invalid(() => new RpcServer({ password: Buffer.alloc(0) }), 'password must not be empty');
  });

  it('accepts keepAlive: true as the defaults', async () => {
    expect(() => new RpcClient({ port: 1, password: PASSWORD, keepAlive: true })).not.toThrow();
    const { peer } = await resources.pair({ keepAlive: true }, { keepAlive: true });
    expect(peer.connected).toBe(true);
  });

  it('refuses unknown keys by name, with a suggestion when one is close', () => {
    invalid(() => new RpcClient({ port: 1, password: PASSWORD, timeoutMs: 5 } as RpcClientOptions), 'unknown option "timeoutMs" (did you mean "requestTimeoutMs"?)');
    invalid(() => new RpcServer({ password: PASSWORD, maxConcurrent: 5 } as RpcServerOptions), 'unknown option "maxConcurrent"');
    invalid(() => new RpcServer({ password: PASSWORD, host: 'x' } as RpcServerOptions), 'unknown option "host"');
  });

  it('still passes every ns and framing option down', () => {
    expect(
      () =>
        new RpcClient({
          host: '127.0.0.1',
          port: 1,
          password: PASSWORD,
          connectTimeoutMs: 100,
          reconnect: true,
          offlineQueue: true,
          noDelay: true,
          highWaterMark: 1024,
          lowWaterMark: 512,
          maxBufferedBytes: 4096,
          idleTimeoutMs: 0,
          maxFrameBytes: 65536,
          lengthPrefix: 'uint32be',
        }),
    ).not.toThrow();
    expect(() => new RpcServer({ password: PASSWORD, noDelay: true, maxFrameBytes: 65536, highWaterMark: 1024 })).not.toThrow();
  });
});

describe('one vocabulary: end() and connect({ signal })', () => {
  it('end() closes gracefully like close(), waiting for requests in flight', async () => {
    const { server, client } = await resources.pair();
    let finish!: () => void;
    server.handle('slow', () => new Promise<string>((resolve) => (finish = () => resolve('done'))));
    const answer = client.request('slow');
    await vi.waitFor(() => expect(finish).toBeDefined());
    const closed = next(client, 'close');
    const ended = client.end();
    finish();
    await expect(answer).resolves.toBe('done');
    await ended;
    await closed;
    expect(client.connected).toBe(false);
  });

  it('an aborted signal rejects connect() with ERR_ABORTED and dials nothing', async () => {
    const { server, port } = await resources.server();
    let accepted = 0;
    server.on('authenticated', () => accepted++);
    const client = resources.client(port);
    const controller = new AbortController();
    controller.abort(new Error('changed my mind'));
    await expect(client.connect({ signal: controller.signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(server.pendingAuth).toBe(0);
    expect(accepted).toBe(0);
  });

  it('aborting while connecting rejects with ERR_ABORTED and closes the client', async () => {
    // A TCP server that accepts and says nothing: the client waits for the ns hello.
    const net = await import('node:net');
    const accepted: import('node:net').Socket[] = [];
    const silent = net.createServer((socket) => {
      accepted.push(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const client = resources.client((silent.address() as { port: number }).port);
      const controller = new AbortController();
      const connecting = client.connect({ signal: controller.signal });
      const closed = next(client, 'close');
      setImmediate(() => controller.abort());
      await expect(connecting).rejects.toMatchObject({ code: 'ERR_ABORTED' });
      await closed;
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('ids', () => {
  it("client.peer.id is named apart from the server's id for the same link", async () => {
    const { client, peer } = await resources.pair();
    expect(peer.id).toMatch(/^peer-\d+$/);
    expect(client.peer?.id).toMatch(/^server-\d+$/);
    expect(client.peer?.id).not.toBe(peer.id);
  });
});

describe('stats', () => {
  it('messagesIn and messagesOut count user events only, not requests, answers or the handshake', async () => {
    const { server, client, peer } = await resources.pair();
    server.handle('echo', (value: unknown) => value);
    const before = { in: peer.stats.messagesIn, clientIn: client.peer!.stats.messagesIn };
    expect(before).toEqual({ in: 0, clientIn: 0 });
    for (let i = 0; i < 3; i++) expect(await client.request('echo', i)).toBe(i);
    expect(peer.stats.messagesIn).toBe(0);
    expect(client.peer!.stats.messagesIn).toBe(0);
    const arrived = new Promise<void>((resolve) => server.data('note', () => resolve()));
    client.send('note', 1);
    await arrived;
    expect(peer.stats.messagesIn).toBe(1);
    expect(client.peer!.stats.messagesOut).toBe(1);
    expect(peer.stats.requestsIn).toBe(3);
  });

  it('peer.stats is live, and a spread of it is a snapshot with every counter', async () => {
    const { server, client, peer } = await resources.pair();
    server.handle('echo', (value: unknown) => value);
    const live = peer.stats;
    const before = { ...peer.stats };
    await client.request('echo', 1);
    expect(peer.stats).toBe(live);
    expect(Object.keys(before).sort()).toEqual(
      ['bufferedBytes', 'bytesIn', 'bytesOut', 'connectedAt', 'handling', 'inFlight', 'itemsIn', 'itemsOut', 'messagesIn', 'messagesOut', 'openStreams', 'readingPaused', 'requestsIn', 'requestsOut', 'rttMs'],
    );
    expect(before.requestsIn).toBe(0);
    expect(live.requestsIn).toBe(1);
    expect(live.bytesIn).toBeGreaterThan(before.bytesIn);
    expect(JSON.parse(JSON.stringify(live))).toMatchObject({ requestsIn: 1, connectedAt: peer.connectedAt });
  });
});

describe('answers the caller can act on', () => {
  it('a result over the frame limit gives the caller ERR_RESULT_TOO_LARGE and the server an error event', async () => {
    const { server, client } = await resources.pair({ maxFrameBytes: 8192 });
    server.handle('big', () => 'x'.repeat(20_000));
    server.handle('small', () => 'ok');
    const errors = next<[Error]>(server, 'error');
    await expect(client.request('big')).rejects.toMatchObject({ code: 'ERR_RESULT_TOO_LARGE', name: 'ResultTooLargeError' });
    const [error] = await errors;
    expect(error).toMatchObject({ code: 'ERR_RESULT_TOO_LARGE' });
    expect(await client.request('small')).toBe('ok');
  });

  it.each([
    ['a function', () => 1, 'a function at params'],
    ['a symbol', Symbol('s'), 'a symbol at params'],
    ['a nested function', { a: { b: [1, () => 2] } }, 'a function at params.a.b[1]'],
    ['a nested symbol', { s: Symbol('s') }, 'a symbol at params.s'],
  ])('params holding %s throw ERR_INVALID_ARG and send nothing', async (_what, params, where) => {
    const { server, client, peer } = await resources.pair();
    let calls = 0;
    server.handle('x', () => ++calls);
    await expect(client.request('x', params)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringContaining(where) });
    expect(await client.request('x', { fine: [1, null, undefined, 'a'], date: new Date(0) })).toBe(1);
    expect(peer.stats.requestsIn).toBe(1);
    expect(client.peer?.stats.requestsOut).toBe(1);
  });

  it('a result JSON cannot carry is INTERNAL for the caller and an error on the server', async () => {
    const { server, client } = await resources.pair();
    server.handle('fn', () => ({ callback: () => 1 }));
    const errors = next<[Error]>(server, 'error');
    await expect(client.request('fn')).rejects.toMatchObject({ code: 'ERR_REMOTE', remoteCode: 'INTERNAL' });
    const [error] = await errors;
    expect(error.message).toContain('a function at result.callback');
  });
});

describe('issue 10.3: a cancelled call keeps its concurrency slot until its handler settles', () => {
  it('REQUEST + CANCEL cannot start more than maxConcurrentRequests handlers; close() waits for them', async () => {
    const { server, client } = await resources.pair({ maxConcurrentRequests: 2 });
    let running = 0;
    let started = 0;
    const releases: (() => void)[] = [];
    // A handler that ignores its signal (the attack: it keeps running after the cancel).
    server.handle('stubborn', () => {
      running++;
      started++;
      return new Promise<void>((resolve) => releases.push(() => (running--, resolve())));
    });
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 10; i++) {
      const controller = new AbortController();
      const request = client.request('stubborn', undefined, { signal: controller.signal }).then(
        () => 'resolved',
        (error: Error & { code?: string }) => error.code,
      );
      if (i < 2) {
        await vi.waitFor(() => expect(started).toBe(i + 1));
        controller.abort();
      }
      codes.push(await request);
    }
    // Before: every cancel freed the slot, so every request started a handler that kept running.
    expect(codes).toEqual(['ERR_ABORTED', 'ERR_ABORTED', ...new Array(8).fill('ERR_OVERLOADED')]);
    expect(started).toBe(2);
    expect(running).toBe(2);
    let closed = false;
    const closing = server.close({ timeoutMs: 10_000 }).then(() => (closed = true));
    // A round trip through the server while it waits: refused (shutting down), and still not closed.
    await expect(client.request('stubborn')).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
    expect(closed).toBe(false);
    for (const release of releases.splice(0)) release();
    await closing;
    expect(running).toBe(0);
  });
});
