import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, type FramedSocket, type TlsServerOptions } from '@proto/framing';
import { Cleanup } from '../../../testing/cleanup.js';
import { deepCode, selfSignedTls, serverTls, tlsFixture, tlsFixturePath, UNVERIFIED_CERT_CODES } from '../../../testing/tls-fixtures.js';

const cleanup = new Cleanup();

afterEach(async () => {
  await cleanup.run();
});

async function tlsServer(tls: TlsServerOptions): Promise<number> {
  const server = createServer({ tls }, (socket) => {
    socket.on('error', () => {});
    socket.on('frame', (frame) => socket.send(frame));
  });
  server.on('clientError', () => {});
  cleanup.add(server, (s) => s.close({ timeoutMs: 200 }));
  return (await server.listen({ host: '127.0.0.1', port: 0 })).port;
}

async function echoOnce(socket: FramedSocket): Promise<string> {
  const reply = new Promise<Buffer>((resolve) => socket.once('frame', resolve));
  socket.send('hello over tls');
  return (await reply).toString();
}

describe('security: TLS verification is on unless explicitly turned off', () => {
  it('`tls: true` refuses a self-signed server', async () => {
    const port = await tlsServer(selfSignedTls());
    const error = await connect({ host: '127.0.0.1', port, tls: true }).then(
      (socket) => {
        socket.destroy();
        return undefined;
      },
      (err: unknown) => err,
    );
    expect(error).toBeDefined();
    expect(UNVERIFIED_CERT_CODES).toContain(deepCode(error));
  });

  it('`tls: {}` (options without ca) refuses a server whose CA it does not know', async () => {
    const port = await tlsServer(serverTls());
    const error = await connect({ host: '127.0.0.1', port, tls: {} }).then(
      (socket) => {
        socket.destroy();
        return undefined;
      },
      (err: unknown) => err,
    );
    expect(UNVERIFIED_CERT_CODES).toContain(deepCode(error));
  });

  it('with the CA (as a path or as PEM bytes) the same server is accepted', async () => {
    const port = await tlsServer(serverTls());
    for (const ca of [tlsFixturePath('ca.pem'), tlsFixture('ca.pem')]) {
      const socket = cleanup.add(await connect({ host: '127.0.0.1', port, tls: { ca } }), (s) => s.destroy());
      expect(await echoOnce(socket)).toBe('hello over tls');
    }
  });

  it('the server identity is checked: a certificate for another name is refused even from a trusted CA', async () => {
    const port = await tlsServer({ key: tlsFixture('dns-only.key'), cert: tlsFixture('dns-only.pem') });
    const error = await connect({ host: '127.0.0.1', port, tls: { ca: tlsFixture('ca.pem') } }).then(
      (socket) => {
        socket.destroy();
        return undefined;
      },
      (err: unknown) => err,
    );
    expect(deepCode(error)).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    // Asking for the name the certificate carries is fine.
    const socket = cleanup.add(await connect({ host: '127.0.0.1', port, tls: { ca: tlsFixture('ca.pem'), servername: 'localhost' } }), (s) =>
      s.destroy(),
    );
    expect(await echoOnce(socket)).toBe('hello over tls');
  });

  it('only an explicit rejectUnauthorized: false accepts an unverified server', async () => {
    const port = await tlsServer(selfSignedTls());
    const socket = cleanup.add(await connect({ host: '127.0.0.1', port, tls: { rejectUnauthorized: false } }), (s) => s.destroy());
    expect(await echoOnce(socket)).toBe('hello over tls');
  });

  it('requestCert: a client without a certificate is refused (the server verifies by default)', async () => {
    const port = await tlsServer({ ...serverTls(), ca: tlsFixture('ca.pem'), requestCert: true });
    const anonymous = await connect({ host: '127.0.0.1', port, tls: { ca: tlsFixture('ca.pem') } }).then(
      async (socket) => {
        cleanup.add(socket, (s) => s.destroy());
        socket.on('error', () => {});
        // TLS 1.3 reports the refusal after the handshake: the connection closes without an answer.
        const closed = new Promise<boolean>((resolve) => socket.once('close', () => resolve(true)));
        socket.send('anyone there?');
        const answered = new Promise<boolean>((resolve) => socket.once('frame', () => resolve(false)));
        return Promise.race([closed, answered]);
      },
      () => true,
    );
    expect(anonymous).toBe(true);
    const withCert = cleanup.add(
      await connect({ host: '127.0.0.1', port, tls: { ca: tlsFixture('ca.pem'), key: tlsFixture('client.key'), cert: tlsFixture('client.pem') } }),
      (s) => s.destroy(),
    );
    expect(await echoOnce(withCert)).toBe('hello over tls');
  });
});
