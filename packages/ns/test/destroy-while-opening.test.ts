// destroy() (and end()) while a client waits for the server's hello closes the TCP connection:
// the server sees it close, and connect() rejects.
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NsSocket } from '@proto/ns';

const servers: net.Server[] = [];
const accepted: net.Socket[] = [];
afterEach(async () => {
  for (const socket of accepted.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

/** A TCP server that accepts and never says anything; resolves with its port and the next connection. */
async function silentServer(): Promise<{ port: number; connection: Promise<net.Socket> }> {
  let resolveConnection!: (socket: net.Socket) => void;
  const connection = new Promise<net.Socket>((resolve) => (resolveConnection = resolve));
  const server = net.createServer((socket) => {
    accepted.push(socket);
    socket.on('error', () => {});
    resolveConnection(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, connection };
}

describe('closing a client while it waits for the server hello', () => {
  for (const how of ['destroy', 'end'] as const) {
    it(`${how}() closes the TCP connection (the server sees it close) and rejects connect()`, async () => {
      const { port, connection } = await silentServer();
      const client = new NsSocket({ host: '127.0.0.1', port });
      const pending = client.connect().then(
        () => undefined,
        (error: unknown) => error,
      );
      const peer = await connection;
      const peerClosed = new Promise<void>((resolve) => peer.once('close', () => resolve()));
      peer.resume(); // read the client's hello, so its end arrives
      if (how === 'destroy') client.destroy();
      else void client.end();
      expect(await pending).toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
      await peerClosed; // times out if the client leaves the connection open
      expect(client.state).toBe('closed');
    });
  }

  it('destroy() during a TLS handshake the server never answers closes the TCP connection too', async () => {
    const { port, connection } = await silentServer();
    const client = new NsSocket({ host: '127.0.0.1', port, tls: { rejectUnauthorized: false } });
    const pending = client.connect().then(
      () => undefined,
      (error: unknown) => error,
    );
    const peer = await connection;
    const peerClosed = new Promise<void>((resolve) => peer.once('close', () => resolve()));
    peer.resume();
    client.destroy();
    expect(await pending).toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
    await peerClosed;
    expect(client.state).toBe('closed');
  });
});
