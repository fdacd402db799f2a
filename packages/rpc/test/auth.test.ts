import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AuthFailedInfo, RpcErrorCode } from '../src/index.js';
import { closed, fixture, frame, next, nsEvent, nsHello, nsReady, PASSWORD, Resources } from './helpers.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

describe('authentication', () => {
  it('connect() resolves only after authentication, then requests work', async () => {
    const { server, port } = await resources.server();
    server.handle('whoami', (_p, ctx) => ctx.peer.username);
    const client = resources.client(port, { username: 'alice' });
    const authenticated = next(client, 'authenticated');
    await client.connect();
    expect(client.connected).toBe(true);
    await authenticated;
    expect(await client.request('whoami')).toBe('alice');
  });

  it('a wrong password rejects connect() with ERR_AUTH_FAILED, emits authFailed, and is not retried', async () => {
    const { server, port } = await resources.server();
    const failed = next<[AuthFailedInfo]>(server, 'authFailed');
    const client = resources.client(port, { password: 'wrong', reconnect: { initialDelayMs: 10, maxAttempts: 5 } });
    const reconnecting = vi.fn();
    client.on('reconnecting', reconnecting);
    const error = await client.connect().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: RpcErrorCode.AUTH_FAILED, fatal: true });
    expect((await failed)[0]).toEqual({ address: '127.0.0.1', reason: 'wrong-password' });
    expect(reconnecting).not.toHaveBeenCalled();
    expect(server.peers.size).toBe(0);
  });

  it('the password never crosses the wire (recording proxy)', async () => {
    const { server, port } = await resources.server();
    server.handle('echo', (value) => value);
    const proxy = await resources.proxy(port);
    const client = resources.client(proxy.port);
    await client.connect();
    expect(await client.request('echo', 'some traffic')).toBe('some traffic');
    // A failed attempt must not leak it either.
    const wrong = resources.client(proxy.port, { password: `${PASSWORD}!` });
    await expect(wrong.connect()).rejects.toMatchObject({ code: RpcErrorCode.AUTH_FAILED });
    const bytes = proxy.bytes();
    expect(bytes.length).toBeGreaterThan(200);
    expect(bytes.includes(Buffer.from('some traffic'))).toBe(true); // the recording works
    expect(bytes.includes(Buffer.from(PASSWORD, 'utf8'))).toBe(false);
    expect(bytes.includes(Buffer.from(PASSWORD, 'utf16le'))).toBe(false);
    expect(bytes.toString('latin1')).not.toContain(Buffer.from(PASSWORD).toString('base64'));
  });

  it('refuses a server that cannot prove it knows the password', async () => {
    // The "server" knows another password; even if it accepted anything, the client checks its proof.
    const { server, port } = await resources.server({ authenticate: () => 'another password' });
    const failed = next<[AuthFailedInfo]>(server, 'authFailed');
    const client = resources.client(port);
    await expect(client.connect()).rejects.toMatchObject({ code: RpcErrorCode.AUTH_FAILED });
    expect((await failed)[0].reason).toBe('wrong-password');
  });

  it('authenticate looks up a password per username; undefined refuses', async () => {
    const passwords: Record<string, string> = { alice: 'alice-pw', bob: 'bob-pw' };
    const lookups: string[] = [];
    const { server, port } = await resources.server({
      password: undefined,
      authenticate: async ({ username, address }) => {
        lookups.push(`${username}@${String(address)}`);
        return passwords[username];
      },
    });
    server.handle('whoami', (_p, ctx) => ctx.peer.username);
    const alice = resources.client(port, { username: 'alice', password: 'alice-pw' });
    await alice.connect();
    expect(await alice.request('whoami')).toBe('alice');
    await expect(resources.client(port, { username: 'bob', password: 'alice-pw' }).connect()).rejects.toMatchObject({
      code: RpcErrorCode.AUTH_FAILED,
    });
    const failed = next<[AuthFailedInfo]>(server, 'authFailed');
    await expect(resources.client(port, { username: 'mallory', password: 'x' }).connect()).rejects.toMatchObject({
      code: RpcErrorCode.AUTH_FAILED,
    });
    expect((await failed)[0].reason).toBe('unknown-user');
    expect(lookups).toEqual(['alice@127.0.0.1', 'bob@127.0.0.1', 'mallory@127.0.0.1']);
  });

  it('an authenticate that throws refuses the client and reports the error', async () => {
    const { server, port } = await resources.server({
      password: undefined,
      authenticate: () => {
        throw new Error('user database down');
      },
    });
    const reported = next<[Error]>(server, 'error');
    const failed = next<[AuthFailedInfo]>(server, 'authFailed');
    await expect(resources.client(port).connect()).rejects.toMatchObject({ code: RpcErrorCode.AUTH_FAILED });
    expect((await reported)[0].message).toBe('user database down');
    expect((await failed)[0].reason).toBe('unknown-user');
  });

  it('requires a password or authenticate', async () => {
    await expect(resources.server({ password: undefined })).rejects.toMatchObject({ code: RpcErrorCode.INVALID_ARG });
  });

  it('slows down repeated failures from one address', async () => {
    const { server, port } = await resources.server({ authThrottle: { baseDelayMs: 80, maxDelayMs: 1000 } });
    const reasons: string[] = [];
    server.on('authFailed', (info) => reasons.push(info.reason));
    const durations: number[] = [];
    for (let i = 0; i < 3; i++) {
      const client = resources.client(port, { password: 'guess' });
      const started = performance.now();
      await expect(client.connect()).rejects.toMatchObject({ code: RpcErrorCode.AUTH_FAILED });
      durations.push(performance.now() - started);
    }
    // 80, 160, 320 ms of delay before each refusal (lower bounds only: never flaky)
    expect(durations[0]).toBeGreaterThanOrEqual(75);
    expect(durations[1]).toBeGreaterThanOrEqual(155);
    expect(durations[2]).toBeGreaterThanOrEqual(315);
    expect(reasons).toEqual(['wrong-password', 'wrong-password', 'wrong-password']);
  });
});

describe('unauthenticated peers', () => {
  async function guardedServer() {
    const handler = vi.fn(() => 'ran');
    const dataListener = vi.fn();
    const { server, port } = await resources.server({ authTimeoutMs: 300, authThrottle: false });
    server.handle('m', handler);
    server.data('**', dataListener);
    const failures: AuthFailedInfo[] = [];
    server.on('authFailed', (info) => failures.push(info));
    return { server, port, handler, dataListener, failures };
  }

  it('closes a silent peer after authTimeoutMs', async () => {
    const { port, failures } = await guardedServer();
    const socket = await resources.rawSocket(port);
    socket.write(nsHello());
    const started = performance.now();
    await closed(socket);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(failures).toEqual([{ address: '127.0.0.1', reason: 'timeout' }]);
  });

  it('an RpcClient facing a server that never answers gets ERR_AUTH_TIMEOUT', async () => {
    // A plain ns peer that never sends a challenge: a raw server speaking only the ns hello.
    const net = await import('node:net');
    const silent = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.write(nsHello());
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const client = resources.client((silent.address() as { port: number }).port, { authTimeoutMs: 200 });
      await expect(client.connect()).rejects.toMatchObject({ code: RpcErrorCode.AUTH_TIMEOUT });
    } finally {
      silent.close();
      for (const c of resources.clients) c.destroy();
    }
  });

  it('closes a peer sending garbage; no handler runs', async () => {
    const { port, handler, failures } = await guardedServer();
    const socket = await resources.rawSocket(port);
    socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await closed(socket);
    expect(handler).not.toHaveBeenCalled();
    // Refused by ns (a 1.2 GB frame header, over authMaxFrameBytes) before rpc sees a message, but
    // still a failed authentication of this address: reported, and counted by the throttle.
    expect(failures.map((f) => f.reason)).toEqual(['protocol-error']);
  });

  it('closes a peer sending user events before authenticating', async () => {
    const { port, dataListener, failures } = await guardedServer();
    const socket = await resources.rawSocket(port);
    socket.write(Buffer.concat([nsHello(), nsReady(), nsEvent('a::b', '{"x":1}')]));
    await closed(socket);
    expect(dataListener).not.toHaveBeenCalled();
    // ns holds (does not deliver) events of a peer claiming to be ready while this side is still
    // opening, and stops reading; the auth timeout then closes it.
    expect(failures).toEqual([{ address: '127.0.0.1', reason: 'timeout' }]);
  });

  it('closes a peer sending a request before authenticating; the handler never runs', async () => {
    const { port, handler, failures } = await guardedServer();
    const socket = await resources.rawSocket(port);
    // REQUEST 0x48: id 0, JSON, method "m", params 1
    socket.write(Buffer.concat([nsHello(), frame([0x48, 0, 0, 0, 0, 0, 1], 'm', '1')]));
    await closed(socket);
    expect(handler).not.toHaveBeenCalled();
    expect(failures).toEqual([{ address: '127.0.0.1', reason: 'protocol-error' }]);
  });

  it('closes a peer announcing a big frame before authenticating, before buffering it', async () => {
    const { port, handler } = await guardedServer();
    const socket = await resources.rawSocket(port);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(64 * 1024);
    socket.write(Buffer.concat([nsHello(), header, Buffer.alloc(100, 0x41)]));
    await closed(socket);
    expect(handler).not.toHaveBeenCalled();
  });

  it('closes a peer sending a malformed proof', async () => {
    const { port, failures } = await guardedServer();
    const socket = await resources.rawSocket(port);
    socket.write(Buffer.concat([nsHello(), frame([0x41, 1, 2, 3])]));
    await closed(socket);
    expect(failures).toEqual([{ address: '127.0.0.1', reason: 'protocol-error' }]);
  });

  it('refuses new connections at once past maxPendingAuth', async () => {
    const { server, port } = await resources.server({ maxPendingAuth: 2, authTimeoutMs: 10_000 });
    const first = await resources.rawSocket(port);
    const second = await resources.rawSocket(port);
    await vi.waitUntil(() => server.pendingAuth === 2);
    const failed = next<[AuthFailedInfo]>(server, 'authFailed');
    const third = await resources.rawSocket(port);
    await closed(third);
    expect((await failed)[0].reason).toBe('too-many-pending');
    const client = resources.client(port);
    await expect(client.connect()).rejects.toMatchObject({ code: RpcErrorCode.OVERLOADED });
    first.destroy();
    second.destroy();
    await Promise.all([closed(first), closed(second)]);
    // Slots free again once the pending ones go away.
    await vi.waitUntil(() => server.pendingAuth === 0);
    await resources.client(port).connect();
  });
});

describe('TLS', () => {
  const tlsServer = { key: readFileSync(fixture('server.key')), cert: readFileSync(fixture('server.pem')) };
  const ca = readFileSync(fixture('ca.pem'));

  it('authenticates over TLS (proofs bound to the TLS channel)', async () => {
    const { server, client } = await resources.pair({ tls: tlsServer }, { tls: { ca } });
    server.handle('secure', () => 'yes');
    expect(await client.request('secure')).toBe('yes');
  });

  it('refuses a TLS session that does not reach the server (channel binding)', async () => {
    // A TLS-terminating relay: the client's TLS session ends at the relay, the server sees plain TCP.
    const tls = await import('node:tls');
    const net = await import('node:net');
    const { port } = await resources.server();
    const relay = tls.createServer(tlsServer, (secure) => {
      const plain = net.connect(port, '127.0.0.1');
      secure.pipe(plain).pipe(secure);
      secure.on('error', () => plain.destroy());
      plain.on('error', () => secure.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const client = resources.client((relay.address() as { port: number }).port, { tls: { ca } });
      await expect(client.connect()).rejects.toMatchObject({
        code: RpcErrorCode.AUTH_FAILED,
        message: expect.stringContaining('channel binding'),
      });
    } finally {
      for (const c of resources.clients) c.destroy();
      await new Promise((resolve) => relay.close(resolve));
    }
  });

  it('passes mutual TLS and the client allow-list through', async () => {
    const { server, port } = await resources.server({
      tls: {
        ...tlsServer,
        ca,
        requestCert: true,
        isClientAllowed: (certificate) => certificate.subject.CN === 'rpc-client',
      },
    });
    server.handle('who', (_p, ctx) => ctx.peer.address);
    const client = resources.client(port, {
      tls: { ca, key: readFileSync(fixture('client.key')), cert: readFileSync(fixture('client.pem')) },
    });
    await client.connect();
    expect(await client.request('who')).toBe('127.0.0.1');
    const anonymous = resources.client(port, { tls: { ca } });
    await expect(anonymous.connect()).rejects.toBeInstanceOf(Error);
  });
});
