import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer } from '@proto/ns';
import { fixture, next, Resources } from './helpers.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

describe('transports', () => {
  it('works over TLS (cert files as paths, CA as PEM text), with keying material for channel binding', async () => {
    const server = createServer({ tls: { key: fixture('server-key.pem'), cert: fixture('server-cert.pem') } }, (socket) =>
      socket.data('ping', (data) => socket.send('pong', data)),
    );
    resources.servers.push(server);
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const client = resources.track(
      await connect({ host: '127.0.0.1', port, tls: { ca: readFileSync(fixture('ca-cert.pem'), 'utf8'), servername: 'localhost' } }),
    );
    const pong = next<[unknown]>(client, 'data::pong');
    client.send('ping', { secure: true });
    expect((await pong)[0]).toEqual({ secure: true });
    const peer = [...server.sockets][0]!;
    const mine = client.exportKeyingMaterial(32, 'EXPORTER-proto-test');
    expect(mine).toBeInstanceOf(Buffer);
    expect(mine).toHaveLength(32);
    expect(peer.exportKeyingMaterial(32, 'EXPORTER-proto-test')).toEqual(mine);
  });

  it('refuses a server whose certificate the client does not trust', async () => {
    const server = createServer({ tls: { key: fixture('server-key.pem'), cert: fixture('server-cert.pem') } });
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    await expect(connect({ host: '127.0.0.1', port, tls: true })).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    // framing's close() waits for the half-open server side of the aborted handshake: bound it.
    await server.close({ timeoutMs: 50 });
  });

  it('works over a Unix socket', async () => {
    const path = join(resources.tempDir(), 'ns.sock');
    const server = createServer((socket) => socket.data('ping', (data) => socket.send('pong', data)));
    resources.servers.push(server);
    const address = await server.listen({ path });
    expect(address).toMatchObject({ family: 'unix', path });
    const client = resources.track(await connect({ path }));
    const pong = next<[unknown]>(client, 'data::pong');
    client.send('ping', Buffer.from('over unix'));
    expect((await pong)[0]).toEqual(Buffer.from('over unix'));
    expect(client.remoteAddress).toBeUndefined();
  });

  it('reconnects over a Unix socket when the server comes back', async () => {
    const path = join(resources.tempDir(), 'ns.sock');
    const first = createServer();
    await first.listen({ path });
    const client = resources.track(await connect({ path, reconnect: { initialDelayMs: 1, maxDelayMs: 5 } }));
    const lost = next(client, 'disconnect');
    await first.close();
    await lost;
    const second = createServer();
    resources.servers.push(second);
    const back = next(client, 'connect');
    await second.listen({ path });
    await back;
    expect(client.connected).toBe(true);
  });
});
