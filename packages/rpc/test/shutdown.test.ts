import { afterEach, describe, expect, it } from 'vitest';
import { RpcErrorCode, type RpcPeer } from '../src/index.js';
import { deferred, next, Resources } from './helpers.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

describe('graceful shutdown', () => {
  it('server.close() lets in-flight handlers finish, refuses new work, then closes', async () => {
    const { server, client, port } = await resources.pair();
    const started = deferred();
    const release = deferred();
    server.handle('work', async () => {
      started.resolve();
      await release.promise;
      return 'finished';
    });
    server.handle('quick', () => 'quick');
    const inFlight = client.request('work');
    await started.promise;
    const peerClosed = next<[RpcPeer]>(server, 'close');
    const closing = server.close({ timeoutMs: 5000 });
    // New requests on the open connection are refused while shutting down.
    await expect(client.request('quick')).rejects.toMatchObject({ code: RpcErrorCode.CONNECTION_CLOSED });
    // New connections are refused.
    await expect(resources.client(port).connect()).rejects.toBeInstanceOf(Error);
    release.resolve();
    expect(await inFlight).toBe('finished');
    await closing;
    await peerClosed;
    expect(server.peers.size).toBe(0);
  });

  it('server.close() stops accepting TCP connections at the call, while requests are still in flight', async () => {
    const net = await import('node:net');
    const { server, client, port } = await resources.pair();
    const started = deferred();
    const release = deferred();
    server.handle('work', async () => {
      started.resolve();
      await release.promise;
      return 'finished';
    });
    const inFlight = client.request('work');
    await started.promise;
    const closing = server.close({ timeoutMs: 5000 });
    // Before: the listener stayed open until the requests finished, so this connect succeeded.
    const outcome = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve('accepted')));
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(outcome).toBe('ECONNREFUSED');
    release.resolve();
    expect(await inFlight).toBe('finished');
    await closing;
  });

  it('server.close() gives up waiting after timeoutMs', async () => {
    const { server, client } = await resources.pair();
    server.handle('forever', () => new Promise(() => {}));
    const pending = client.request('forever', undefined, { timeoutMs: 60_000 });
    await expect(Promise.all([server.close({ timeoutMs: 50 }), pending])).rejects.toMatchObject({
      code: RpcErrorCode.CONNECTION_CLOSED,
    });
  });

  it('client.close() waits for its own requests in flight', async () => {
    const { server, client } = await resources.pair();
    const release = deferred();
    const started = deferred();
    server.handle('work', async () => {
      started.resolve();
      await release.promise;
      return 42;
    });
    const inFlight = client.request('work');
    await started.promise;
    const closing = client.close();
    await expect(client.request('work')).rejects.toMatchObject({ code: RpcErrorCode.NOT_CONNECTED });
    release.resolve();
    expect(await inFlight).toBe(42);
    await closing;
    expect(client.connected).toBe(false);
  });
});
