import { afterEach, describe, expect, it, vi } from 'vitest';
import { connect, NsSocket } from '@proto/ns';
import { next, openSocket, Resources } from './helpers.js';

const resources = new Resources();
afterEach(async () => {
  vi.useRealTimers();
  await resources.closeAll();
});

describe('cleanup', () => {
  it('timers are released: none pending after reconnects and end()', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const { server, port } = await resources.server();
    const client = new NsSocket({ host: '127.0.0.1', port, reconnect: { initialDelayMs: 1000, jitter: false } });
    await client.connect();
    let peer = await openSocket(server);
    expect(vi.getTimerCount()).toBe(0); // the connect timeout and the server's hello timeout were cleared
    for (let i = 0; i < 3; i++) {
      const retry = next(client, 'reconnecting');
      peer.destroy();
      await retry;
      expect(vi.getTimerCount()).toBe(1);
      const back = next(client, 'connect');
      await vi.advanceTimersByTimeAsync(1000);
      await back;
      peer = await openSocket(server);
      expect(vi.getTimerCount()).toBe(0);
    }
    await client.end();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('no listener piles up on the socket or the server across many links', async () => {
    const { server, port } = await resources.server();
    const client = resources.track(await connect({ host: '127.0.0.1', port, reconnect: { initialDelayMs: 0, maxDelayMs: 0 } }));
    const onData = (): void => {};
    client.data('x', onData);
    const names = (): unknown[] => client.eventNames().map(String).sort();
    const before = names();
    const serverListeners = server.eventNames().map((name) => server.listenerCount(name));
    for (let i = 0; i < 20; i++) {
      const back = next(client, 'connect');
      (await openSocket(server)).destroy();
      await back;
    }
    await openSocket(server);
    expect(names()).toEqual(before);
    expect(client.listenerCount('data::x')).toBe(1);
    expect(server.eventNames().map((name) => server.listenerCount(name))).toEqual(serverListeners);
    expect(server.sockets.size).toBe(1);
  });

  it('close listeners run once and end() twice is fine', async () => {
    const { client } = await resources.pair();
    let closes = 0;
    client.on('close', () => closes++);
    await Promise.all([client.end(), client.end()]);
    await client.end();
    client.destroy();
    expect(closes).toBe(1);
  });

  it('end() of a socket that never connected closes it', async () => {
    const client = new NsSocket({ port: 1 });
    const closed = next(client, 'close');
    await client.end();
    await closed;
    expect(client.state).toBe('closed');
  });
});
