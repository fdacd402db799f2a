// Mutual TLS: the server proves itself to clients with a certificate, and clients prove themselves
// with theirs; an allow-list (isClientAllowed) then picks which verified clients may talk.
//   bash examples/mtls/make-certs.sh      # once: throwaway certificates into examples/mtls/certs/
//   npx tsx --conditions=@proto/source examples/mtls/mtls.ts
//
// Key, certificate and CA options take file paths, PEM text or Buffers.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connect, createServer, type NsSocket } from '@proto/ns';

const cert = (name: string): string => fileURLToPath(new URL(`./certs/${name}`, import.meta.url));
if (!existsSync(cert('rogue.pem'))) {
  console.error('No certificates yet: run `bash examples/mtls/make-certs.sh` first.');
  process.exit(1);
}

const started = performance.now();
function log(text: string): void {
  console.log(`${String(Math.round(performance.now() - started)).padStart(4)} ms  ${text}`);
}

const ALLOWED = new Set(['alice']);
const server = createServer(
  {
    tls: {
      key: cert('server.key'),
      cert: cert('server.pem'),
      ca: cert('ca.pem'), // only clients whose certificate this CA signed get through the handshake
      // Called after the handshake with the verified certificate; implies requestCert: true.
      isClientAllowed: (peer) => ALLOWED.has(String(peer.subject?.CN)),
    },
  },
  (socket) => {
    socket.data(['whoami'], () => socket.send(['you-are'], { ok: true }));
  },
);
// Refused clients never reach the connection handler; they are reported here. OpenSSL's own
// wording is terse, so the common cases get a plain explanation next to the code.
const EXPLAINED: Record<string, string> = {
  ERR_CLIENT_REJECTED: 'a valid certificate, but isClientAllowed said no',
  // Node reports a client certificate that fails verification (unknown CA) as a hang-up: OpenSSL
  // aborts the handshake with an alert and the socket closes before any TLS error reaches JS.
  ECONNRESET: 'the TLS handshake was aborted (here: the client certificate is not signed by our CA)',
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: 'the client sent no certificate, and this server requires one',
};
function onClientError(error: Error): void {
  const code = (error as { code?: string }).code ?? 'TLS';
  const firstLine = error.message.split('\n')[0] ?? '';
  log(`   server refused a client: ${code}: ${EXPLAINED[code] ?? firstLine}`);
}
server.on('clientError', onClientError);
const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
log(`TLS server on 127.0.0.1:${port}, allow-list: ${[...ALLOWED].join(', ')}`);

/** Connects with the given client certificate (or none); resolves with what happened. */
async function tryClient(label: string, identity: { key: string; cert: string } | undefined, ca = cert('ca.pem')): Promise<boolean> {
  let socket: NsSocket | undefined;
  try {
    socket = await connect({
      host: '127.0.0.1',
      port,
      connectTimeoutMs: 3000,
      tls: { ca, servername: 'localhost', ...(identity ?? {}) },
    });
    const answer = new Promise<boolean>((resolve) => {
      socket!.dataOnce(['you-are'], () => resolve(true));
      socket!.once('close', () => resolve(false));
    });
    socket.send(['whoami']);
    const ok = await answer;
    log(`${label}: ${ok ? 'ACCEPTED, request answered' : 'connection closed by the server'}`);
    return ok;
  } catch (error) {
    log(`${label}: refused (${(error as { code?: string }).code ?? (error as Error).message})`);
    return false;
  } finally {
    await socket?.end();
  }
}

const results = [
  await tryClient('alice   (CA-signed, on the allow-list)', { key: cert('alice.key'), cert: cert('alice.pem') }),
  await tryClient('mallory (CA-signed, NOT on the allow-list)', { key: cert('mallory.key'), cert: cert('mallory.pem') }),
  await tryClient('rogue   (says CN=alice, signed by an unknown CA)', { key: cert('rogue.key'), cert: cert('rogue.pem') }),
  await tryClient('anonymous (no client certificate)', undefined),
  // And the other direction: a client that trusts a different CA refuses our server.
  await tryClient("alice, but trusting rogue-ca instead of the server's CA", { key: cert('alice.key'), cert: cert('alice.pem') }, cert('rogue-ca.pem')),
];

server.off('clientError', onClientError);
// timeoutMs: a client that hung up mid-handshake (the last one) can leave a half-open socket
// behind on the server (reported to @proto/framing); don't wait for it forever.
await server.close({ timeoutMs: 500 });
const expected = [true, false, false, false, false];
const ok = results.every((result, i) => result === expected[i]);
log(ok ? 'only alice got through, as intended' : `UNEXPECTED results ${JSON.stringify(results)}`);
process.exitCode = ok ? 0 : 1;
