import { once } from 'node:events';
import type { PeerCertificate } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ClientRejectedError,
  connect,
  createServer,
  type FramedServer,
  FramedSocket,
  InvalidArgError,
  type ProtoError,
  type TlsServerOptions,
} from '../src/index.js';
import { resolveTlsClientOptions, resolveTlsServerOptions } from '../src/tls-options.js';
import { collectFrames, fixture, fixturePath, Resources } from './fixtures/helpers.js';

const resources = new Resources();

afterEach(async () => {
  await resources.closeAll();
});

// Each form of PemInput is used somewhere: a file path, PEM text, and a Buffer.
const serverTls: TlsServerOptions = {
  key: fixturePath('server.key'),
  cert: fixture('server.pem').toString('utf8'),
};
const ca = fixture('ca.pem');

async function tlsEchoServer(tls: TlsServerOptions): Promise<{ server: FramedServer; port: number; accepted: FramedSocket[] }> {
  const accepted: FramedSocket[] = [];
  const server = resources.server(
    createServer({ tls }, (socket) => {
      accepted.push(socket);
      socket.on('frame', (frame) => socket.send(['echo:', frame]));
    }),
  );
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  return { server, port, accepted };
}

/** Connects and waits until the link is proven up (one echo) or down (close, or connect() rejecting). */
async function tryTalk(options: Parameters<typeof connect>[0]): Promise<'talked' | 'closed' | Error> {
  let client: FramedSocket;
  try {
    client = resources.socket(await connect(options));
  } catch (error) {
    return error as Error;
  }
  client.on('error', () => {});
  const reply = collectFrames(client, 1).then(
    () => 'talked' as const,
    () => 'closed' as const,
  );
  try {
    client.send('hello');
  } catch {
    return 'closed';
  }
  return reply;
}

describe('TLS', () => {
  it('exchanges frames over TLS, verifying the server against the given CA (IP and name)', async () => {
    const { port } = await tlsEchoServer(serverTls);
    const client = resources.socket(await connect({ host: '127.0.0.1', port, tls: { ca } }));
    expect((client.stream as import('node:tls').TLSSocket).encrypted).toBe(true);
    const frames = collectFrames(client, 2);
    client.send('secret');
    client.send(Buffer.alloc(300_000, 9));
    const [small, large] = await frames;
    expect(String(small)).toBe('echo:secret');
    expect(large!.length).toBe(300_005);
    expect(await tryTalk({ host: 'localhost', port, tls: { ca: fixturePath('ca.pem') } })).toBe('talked');
  });

  it('refuses a server its CA list does not vouch for (rejectUnauthorized defaults to true)', async () => {
    const { port } = await tlsEchoServer(serverTls);
    const error = await connect({ host: '127.0.0.1', port, tls: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']).toContain(
      (error as NodeJS.ErrnoException).code,
    );
    const wrongName = await connect({ host: '127.0.0.1', port, tls: { ca, servername: 'example.com' } }).catch(
      (e: unknown) => e,
    );
    expect((wrongName as NodeJS.ErrnoException).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('reports a failed handshake as clientError without a socket, and keeps serving', async () => {
    const { server, port } = await tlsEchoServer(serverTls);
    const failed = once(server, 'clientError');
    // A plain-text client: the server's handshake fails on its bytes.
    const plain = resources.socket(await connect({ host: '127.0.0.1', port }));
    plain.on('error', () => {});
    plain.send('not a TLS hello at all, just some bytes');
    const [error, socket] = (await failed) as [Error, FramedSocket | undefined];
    expect(error).toBeInstanceOf(Error);
    expect(socket).toBeUndefined();
    expect(await tryTalk({ host: '127.0.0.1', port, tls: { ca } })).toBe('talked');
  });

  describe('mutual TLS with isClientAllowed', () => {
    const seen: string[] = [];
    const mutual: TlsServerOptions = {
      ...serverTls,
      ca: [ca],
      isClientAllowed: (certificate: PeerCertificate) => {
        seen.push(String(certificate.subject.CN));
        return certificate.subject.CN === 'client-allowed';
      },
    };

    it('accepts a client whose certificate is allowed', async () => {
      seen.length = 0;
      const { server, port, accepted } = await tlsEchoServer(mutual);
      const tls = { ca, key: fixturePath('client-allowed.key'), cert: fixture('client-allowed.pem') };
      expect(await tryTalk({ host: '127.0.0.1', port, tls })).toBe('talked');
      expect(seen).toEqual(['client-allowed']);
      expect(accepted).toHaveLength(1);
      expect(server.connections.size).toBe(1);
    });

    it('closes a client whose certificate is refused and reports ERR_CLIENT_REJECTED', async () => {
      seen.length = 0;
      const { server, port, accepted } = await tlsEchoServer(mutual);
      const rejected = once(server, 'clientError');
      const tls = { ca, key: fixturePath('client-denied.key'), cert: fixturePath('client-denied.pem') };
      const outcome = tryTalk({ host: '127.0.0.1', port, tls });
      const [error, socket] = (await rejected) as [Error, FramedSocket];
      expect(error).toBeInstanceOf(ClientRejectedError);
      expect((error as ProtoError).code).toBe('ERR_CLIENT_REJECTED');
      expect(socket).toBeInstanceOf(FramedSocket);
      expect(socket.remoteAddress).toBe('127.0.0.1');
      expect(await outcome).not.toBe('talked');
      expect(seen).toEqual(['client-denied']);
      expect(accepted).toHaveLength(0);
      expect(server.connections.size).toBe(0);
    });

    it('refuses a client without a certificate', async () => {
      const { server, port, accepted } = await tlsEchoServer(mutual);
      const failed = once(server, 'clientError');
      const outcome = await tryTalk({ host: '127.0.0.1', port, tls: { ca } });
      expect(outcome).not.toBe('talked');
      await failed;
      expect(accepted).toHaveLength(0);
    });

    it('refuses a client when isClientAllowed throws, keeping the cause', async () => {
      const boom = new Error('allow-list unavailable');
      const { server, port } = await tlsEchoServer({
        ...mutual,
        isClientAllowed: () => {
          throw boom;
        },
      });
      const rejected = once(server, 'clientError');
      const tls = { ca, key: fixture('client-allowed.key'), cert: fixture('client-allowed.pem') };
      void tryTalk({ host: '127.0.0.1', port, tls });
      const [error] = (await rejected) as [Error];
      expect(error).toBeInstanceOf(ClientRejectedError);
      expect(error.cause).toBe(boom);
    });
  });
});

describe('TLS options', () => {
  it('reads file paths, keeps PEM text and Buffers, and accepts arrays', () => {
    const pemText = fixture('ca.pem').toString('utf8');
    const resolved = resolveTlsClientOptions({
      ca: [fixturePath('ca.pem'), pemText, ca],
      key: fixturePath('client-allowed.key'),
      cert: fixture('client-allowed.pem'),
      servername: 'localhost',
    });
    expect(resolved.ca).toEqual([ca, pemText, ca]);
    expect(resolved.key).toEqual(fixture('client-allowed.key'));
    expect(resolved.cert).toEqual(fixture('client-allowed.pem'));
    expect(resolved.servername).toBe('localhost');
    expect(resolved.rejectUnauthorized).toBe(true);
  });

  it('defaults to verifying peers, and to asking for certificates when isClientAllowed is set', () => {
    expect(resolveTlsClientOptions(true)).toEqual({ rejectUnauthorized: true });
    expect(resolveTlsClientOptions({}).rejectUnauthorized).toBe(true);
    expect(resolveTlsClientOptions({ rejectUnauthorized: false }).rejectUnauthorized).toBe(false);
    const plain = resolveTlsServerOptions(serverTls);
    expect(plain.requestCert).toBe(false);
    expect(plain.rejectUnauthorized).toBe(true);
    const allowList = resolveTlsServerOptions({ ...serverTls, isClientAllowed: () => true });
    expect(allowList.requestCert).toBe(true);
    expect(allowList.rejectUnauthorized).toBe(true);
  });

  it('fails with ERR_INVALID_ARG for unreadable files or missing key/cert', () => {
    expect(() => resolveTlsClientOptions({ ca: '/no/such/file.pem' })).toThrow(InvalidArgError);
    expect(() => resolveTlsServerOptions({ key: fixturePath('server.key') } as TlsServerOptions)).toThrow(InvalidArgError);
    expect(() => createServer({ tls: { ...serverTls, cert: '/no/such/cert.pem' } })).toThrow(InvalidArgError);
  });
});

describe('TLS handshakes that never complete', () => {
  it('reports a peer that hangs up mid-handshake at once, one that stalls after handshakeTimeoutMs; close() does not wait for handshakes', async () => {
    const hangUp = await tlsEchoServer({ ...serverTls, handshakeTimeoutMs: 60_000 });
    const reported = once(hangUp.server, 'clientError');
    // No ca: the client refuses the server's certificate and hangs up mid-handshake. Reported
    // when it hangs up (a minute-long timeout would fail the test), not when the timeout passes.
    const refused = await tryTalk({ host: '127.0.0.1', port: hangUp.port, tls: true });
    expect(refused).toBeInstanceOf(Error);
    const [error, socket] = (await reported) as [NodeJS.ErrnoException, FramedSocket | undefined];
    expect(error.code).not.toBe('ERR_TLS_HANDSHAKE_TIMEOUT'); // ECONNRESET here
    expect(socket).toBeUndefined();
    expect(hangUp.server.connections.size).toBe(0);

    // A raw TCP client that never sends its hello: the timeout ends it.
    const { server, port } = await tlsEchoServer({ ...serverTls, handshakeTimeoutMs: 100 });
    const { connect: netConnect } = await import('node:net');
    const stalled = netConnect(port, '127.0.0.1');
    stalled.on('error', () => {});
    const timedOut = once(server, 'clientError');
    const [timeoutError] = (await timedOut) as [NodeJS.ErrnoException];
    expect(timeoutError.code).toBe('ERR_TLS_HANDSHAKE_TIMEOUT');

    // One that never starts the handshake is not a connection: close() finishes at once.
    const raw = netConnect(port, '127.0.0.1');
    raw.on('error', () => {});
    await once(raw, 'connect');
    const rawClosed = once(raw, 'close');
    await server.close();
    await rawClosed;
  });
});
