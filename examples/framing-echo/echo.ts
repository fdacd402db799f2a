// Framing echo: a server and a client in one process, printing every frame that passes.
//
//   npx tsx --conditions=@proto/source examples/framing-echo/echo.ts
//
// @proto/framing only cuts a byte stream into length-prefixed frames: it knows nothing of events,
// JSON or requests. Each frame arrives whole, however TCP split or merged the bytes.
import { once } from 'node:events';
import * as net from 'node:net';
import { connect, createServer, type FramedSocket, FrameTooLargeError } from '@proto/framing';

const started = performance.now();
function log(who: string, text: string): void {
  console.log(`${String(Math.round(performance.now() - started)).padStart(4)} ms  ${who.padEnd(6)} ${text}`);
}
function show(frame: Buffer): string {
  const text = frame.toString('utf8');
  return /^[\x20-\x7e]*$/.test(text) ? JSON.stringify(text) : `<${frame.length} bytes: ${frame.subarray(0, 8).toString('hex')}${frame.length > 8 ? '…' : ''}>`;
}

// Server: send every frame straight back. maxFrameBytes bounds what a peer may announce.
const server = createServer({ maxFrameBytes: 1024 * 1024 }, (socket: FramedSocket) => {
  log('server', `client connected from ${socket.remoteAddress ?? '?'}:${String(socket.remotePort)}`);
  socket.on('frame', (frame) => {
    log('server', `got ${show(frame)}, echoing it`);
    socket.send(frame);
  });
});
// One bad client is reported here and closed; it never takes the server down.
server.on('clientError', (error) => log('server', `client error ${(error as { code?: string }).code ?? ''}: ${error.message}`));
const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
log('server', `listening on 127.0.0.1:${port}`);

const client = await connect({ host: '127.0.0.1', port, maxFrameBytes: 1024 * 1024 });
client.on('error', (error) => log('client', `error: ${error.message}`));

// Collect the echoes so the run can check that everything came back, in order.
const expected: Buffer[] = [];
const echoes: Buffer[] = [];
let allBack: () => void;
const done = new Promise<void>((resolve) => (allBack = resolve));
client.on('frame', (frame) => {
  log('client', `echo ${show(frame)}`);
  echoes.push(frame);
  if (echoes.length === expected.length) allBack();
});

function send(payload: string | Buffer | readonly (string | Buffer)[], why: string): void {
  const parts = Array.isArray(payload) ? payload : [payload];
  expected.push(Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : part))));
  client.send(payload);
  log('client', `sent ${why}`);
}

// Frames sent in the same tick leave in one write; the receiver still sees three separate frames.
send('hello', 'a string (UTF-8)');
send('world', 'another one, same tick: both go out in one write');
send(Buffer.from([0, 1, 2, 0xff]), 'raw bytes: no JSON, no base64');
send(['head|', Buffer.from('body')], 'two parts as ONE frame (gather write, no concat)');
send(Buffer.alloc(200_000, 7), 'a 200 KB frame (TCP delivers it in several chunks)');

// Too large for the limit: refused locally, nothing is written, the connection stays usable.
try {
  client.send(Buffer.alloc(2 * 1024 * 1024));
} catch (error) {
  if (!(error instanceof FrameTooLargeError)) throw error;
  log('client', `a 2 MiB frame was refused before sending: ${error.code}`);
}

await done;
const same = echoes.length === expected.length && echoes.every((echo, i) => echo.equals(expected[i]!));
log('client', `${echoes.length} echoes, ${same ? 'all identical to what was sent' : 'MISMATCH'}; stats ${JSON.stringify(client.stats)}`);

// A misbehaving peer: a raw TCP socket whose header announces a 100 MB frame. The server refuses it
// from the 4 header bytes alone (nothing is allocated or buffered), closes that connection and
// reports it as clientError; everyone else carries on.
const rejected = once(server, 'clientError');
const rogue = net.connect({ host: '127.0.0.1', port }, () => rogue.write(Buffer.from([0x05, 0xf5, 0xe1, 0x00])));
rogue.on('error', () => {});
const [rogueError] = (await rejected) as [Error & { code?: string }];
rogue.destroy();
const stillWorks = new Promise<Buffer>((resolve) => client.once('frame', resolve));
client.send('still here');
log('client', `after the rogue peer, the echo still works: ${show(await stillWorks)}`);
const ok = same && rogueError.code === 'ERR_FRAME_TOO_LARGE';

// end() flushes and half-closes; server.close() ends its side of every connection.
await client.end();
await server.close();
log('both', 'closed');
if (!ok) process.exit(1);
