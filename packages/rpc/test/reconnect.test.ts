import { afterEach, describe, expect, it } from 'vitest';
import { RpcErrorCode, type RpcPeer } from '../src/index.js';
import { deferred, next, Resources } from './helpers.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

describe('reconnect', () => {
  it('re-authenticates with a restarted server before flushing queued messages', async () => {
    const { server: first, port } = await resources.server();
    first.handle('hang', () => new Promise(() => {}));
    const client = resources.client(port, {
      reconnect: { initialDelayMs: 20, maxDelayMs: 100, jitter: 0 },
      offlineQueue: true,
    });
    await client.connect();
    const pending = client.request('hang', undefined, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    const disconnected = next(client, 'disconnect');
    await first.close({ timeoutMs: 0 });
    await disconnected;
    // Rejected at the drop, never replayed.
    expect(await pending).toMatchObject({ code: RpcErrorCode.CONNECTION_CLOSED });
    await expect(client.request('hang')).rejects.toMatchObject({ code: RpcErrorCode.NOT_CONNECTED });
    client.send('log::line', { n: 1 });
    client.send('log::line', { n: 2 });

    // Same port, same password: a new server (new salt, so a fresh key derivation on the client).
    const { server: second } = await resources.server({}, port);
    const order: string[] = [];
    const lines: unknown[] = [];
    const both = deferred();
    second.on('authenticated', () => order.push('authenticated'));
    second.data('log::*', (data) => {
      order.push('data');
      lines.push(data);
      if (lines.length === 2) both.resolve();
    });
    second.handle('hello', (_p, ctx) => `hi ${ctx.peer.id}`);
    const [peer] = await next<[RpcPeer]>(client, 'authenticated');
    await both.promise;
    expect(order).toEqual(['authenticated', 'data', 'data']);
    expect(lines).toEqual([{ n: 1 }, { n: 2 }]);
    expect(peer.connected).toBe(true);
    expect(await client.request('hello')).toMatch(/^hi peer-/);
  });

  it('close() stops reconnecting for good', async () => {
    const { server, port } = await resources.server();
    const client = resources.client(port, { reconnect: { initialDelayMs: 10 } });
    await client.connect();
    const closed = next<[Error | undefined]>(client, 'close');
    await client.close();
    expect((await closed)[0]).toBeUndefined();
    expect(client.connected).toBe(false);
    expect(server.peers.size).toBe(0);
  });
});
