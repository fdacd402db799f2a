import * as net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { connect, createServer, type NsReconnectingInfo, NsSocket } from '@proto/ns';
import { frame, hello, next, openSocket, ready, Resources } from './helpers.js';

const resources = new Resources();
afterEach(async () => {
  vi.useRealTimers();
  await resources.closeAll();
});

const fast = { initialDelayMs: 1, maxDelayMs: 5 };

/** A free port nobody listens on. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A raw TCP server that resets every connection it accepts, counting them. */
async function resettingServer(): Promise<{ port: number; accepted: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server = net.createServer((socket) => {
    count++;
    socket.on('error', () => {});
    socket.resetAndDestroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => count,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('reconnect', () => {
  it('survives a server that is stopped and restarted on the same port', async () => {
    const { server, port } = await resources.server();
    const client = resources.track(await connect({ host: '127.0.0.1', port, reconnect: fast }));
    const events: string[] = [];
    client.on('connect', () => events.push('connect'));
    client.on('disconnect', () => events.push('disconnect'));
    client.on('reconnecting', () => events.push('reconnecting'));

    const lost = next(client, 'disconnect');
    await server.close();
    await lost;
    expect(client.connected).toBe(false);
    await next(client, 'reconnecting'); // at least one attempt failed against the closed port

    const again = createServer((socket) => socket.data('hello', (data) => socket.send('echo', data)));
    resources.servers.push(again);
    const reconnected = next(client, 'connect');
    await again.listen({ host: '127.0.0.1', port });
    await reconnected;
    const echo = next<[unknown]>(client, 'data::echo');
    client.send('hello', 'again');
    expect((await echo)[0]).toBe('again');
    expect(events[0]).toBe('disconnect');
    expect(events.at(-1)).toBe('connect');
    // Successful reconnects only (however many attempts failed against the closed port).
    expect(client.stats.reconnects).toBe(1);
  });

  it('exactly one attempt per failed connection attempt', async () => {
    const resetting = await resettingServer();
    try {
      const client = resources.track(new NsSocket({ host: '127.0.0.1', port: resetting.port, reconnect: { ...fast, maxAttempts: 4 } }));
      const attempts: NsReconnectingInfo[] = [];
      client.on('reconnecting', (info) => attempts.push(info));
      const closed = next<[Error | undefined]>(client, 'close');
      await expect(client.connect()).rejects.toThrow();
      const [error] = await closed;
      expect(error).toBeInstanceOf(Error);
      expect(attempts.map((info) => info.attempt)).toEqual([1, 2, 3, 4]);
      expect(resetting.accepted()).toBe(5); // the first try plus 4 reconnects
      expect(client.state).toBe('closed');
    } finally {
      await resetting.close();
    }
  });

  it('exactly one attempt per lost link, though it fails with both error and close', async () => {
    // A peer that says hello, then sends an unknown message type: the client fails the link with
    // ERR_PROTOCOL (error, then close) and must schedule one reconnect, not two.
    let accepted = 0;
    const server = net.createServer((socket) => {
      accepted++;
      socket.on('error', () => {});
      socket.write(Buffer.concat([hello(), ready(), frame([0x20])]));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const client = new NsSocket({ host: '127.0.0.1', port, reconnect: fast });
      const errors: unknown[] = [];
      const attempts: number[] = [];
      let connects = 0;
      let disconnects = 0;
      client.on('error', (error) => errors.push(error));
      client.on('connect', () => connects++);
      client.on('disconnect', () => disconnects++);
      const closed = next<[Error | undefined]>(client, 'close');
      client.on('reconnecting', (info) => {
        attempts.push(info.attempt);
        if (attempts.length === 3) void client.end();
      });
      await client.connect();
      const [error] = await closed;
      expect(error).toBeUndefined(); // ended by us
      // Each open link resets the counter (a successful connection), so every attempt is attempt 1.
      expect(attempts).toEqual([1, 1, 1]);
      expect(accepted).toBe(3);
      expect(connects).toBe(3);
      expect(disconnects).toBe(3);
      expect(errors).toHaveLength(3);
      expect(errors.every((e) => (e as { code?: string }).code === 'ERR_PROTOCOL')).toBe(true);
    } finally {
      server.close();
    }
  });

  it('retries the first connect and resolves once the server is up', async () => {
    const port = await freePort();
    const client = resources.track(new NsSocket({ host: '127.0.0.1', port, reconnect: fast }));
    const firstRetry = next<[NsReconnectingInfo]>(client, 'reconnecting');
    const connected = client.connect();
    const [info] = await firstRetry;
    expect(info.attempt).toBe(1);
    expect((info.error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    const server = createServer();
    resources.servers.push(server);
    await server.listen({ host: '127.0.0.1', port });
    await expect(connected).resolves.toBe(client);
    expect(client.connected).toBe(true);
  });

  it('without reconnect, connect() rejects on the first failure', async () => {
    const port = await freePort();
    const client = new NsSocket({ host: '127.0.0.1', port });
    let reconnecting = 0;
    client.on('reconnecting', () => reconnecting++);
    await expect(client.connect()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(reconnecting).toBe(0);
    expect(client.state).toBe('closed');
  });

  it('rejects connect() when attempts are used up, then emits close', async () => {
    const port = await freePort();
    const client = new NsSocket({ host: '127.0.0.1', port, reconnect: { ...fast, maxAttempts: 2 } });
    const closed = next(client, 'close');
    await expect(client.connect()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await closed;
    expect(client.stats.reconnects).toBe(0); // two retries, no link ever opened
  });

  it('the attempt counter starts over after a successful connection', async () => {
    const { server, port } = await resources.server();
    const client = resources.track(await connect({ host: '127.0.0.1', port, reconnect: fast }));
    const peer = await openSocket(server);
    let retry = next<[NsReconnectingInfo]>(client, 'reconnecting');
    peer.destroy();
    expect((await retry)[0].attempt).toBe(1);
    await next(client, 'connect');
    const peer2 = await openSocket(server);
    expect(peer2).not.toBe(peer);
    retry = next<[NsReconnectingInfo]>(client, 'reconnecting');
    peer2.destroy();
    expect((await retry)[0].attempt).toBe(1);
    await next(client, 'connect');
  });

  it('end() during backoff cancels the timer: no further attempt, ever', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const resetting = await resettingServer();
    try {
      const client = new NsSocket({ host: '127.0.0.1', port: resetting.port, reconnect: { initialDelayMs: 60_000, jitter: false } });
      let reconnecting = 0;
      client.on('reconnecting', () => reconnecting++);
      const retry = next(client, 'reconnecting');
      const connecting = client.connect();
      await retry;
      expect(resetting.accepted()).toBe(1);
      expect(vi.getTimerCount()).toBe(1);
      await client.end();
      await expect(connecting).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(3_600_000);
      expect(resetting.accepted()).toBe(1);
      expect(reconnecting).toBe(1);
      expect(client.state).toBe('closed');
    } finally {
      await resetting.close();
    }
  });

  it('destroy() during backoff cancels too, and close carries the error', async () => {
    const port = await freePort();
    const client = new NsSocket({ host: '127.0.0.1', port, reconnect: { initialDelayMs: 60_000, jitter: false } });
    const retry = next(client, 'reconnecting');
    const connecting = client.connect();
    await retry;
    const closed = next<[Error | undefined]>(client, 'close');
    const reason = new Error('shutting down');
    client.destroy(reason);
    expect((await closed)[0]).toBe(reason);
    await expect(connecting).rejects.toBe(reason);
  });

  it('an accepted socket never reconnects', async () => {
    const { client, peer } = await resources.pair();
    const closed = next(peer, 'close');
    await client.end();
    await closed;
    expect(peer.state).toBe('closed');
    await expect(peer.connect()).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
  });
});
