// A producer that keeps sending while the connection under it is cut, again and again: with
// `resume` on both ends every message arrives exactly once, in order, and the server keeps one
// socket for the client the whole time. Everything runs in this process: a consumer (the ns
// server), a small TCP proxy between them that we cut, and the producer.
//   npx tsx --conditions=@proto/source examples/ns-resume/resume.ts
import * as net from 'node:net';
import { connect, createServer, type NsSocket } from '@proto/ns';

const TOTAL = 20_000;
const CUT_EVERY = 2_000; // messages between two cuts

// The consumer: checks the sequence numbers as they come.
let expected = 0;
let serverSockets = 0;
let done!: () => void;
const allArrived = new Promise<void>((resolve) => (done = resolve));
const server = createServer({ resume: { ttlMs: 10_000 } }, (socket: NsSocket) => {
  serverSockets++;
  socket.on('resumed', () => console.log(`  server: same socket resumed (received ${expected} so far)`));
  socket.data(['reading', '*'], (data: unknown) => {
    const { seq } = data as { seq: number };
    if (seq !== expected) throw new Error(`expected reading ${expected}, got ${seq}`);
    expected++;
    if (expected === TOTAL) done();
  });
});
const { port: serverPort } = await server.listen({ host: '127.0.0.1', port: 0 });

// The proxy we cut: forwards bytes both ways; cut() destroys every connection through it.
const piped = new Set<net.Socket>();
const proxy = net.createServer((downstream) => {
  const upstream = net.connect(serverPort, '127.0.0.1');
  for (const [from, to] of [[downstream, upstream], [upstream, downstream]] as const) {
    piped.add(from);
    from.pipe(to);
    from.on('error', () => to.destroy());
    from.on('close', () => {
      piped.delete(from);
      to.destroy();
    });
  }
});
await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
const proxyPort = (proxy.address() as net.AddressInfo).port;
function cut(): void {
  for (const socket of piped) socket.resetAndDestroy();
}

// The producer: sends through the proxy, backs off when told to, never checks whether it is connected.
const producer = await connect({ host: '127.0.0.1', port: proxyPort, resume: true, reconnect: { initialDelayMs: 5, maxDelayMs: 50 } });
let cuts = 0;
producer.on('disconnect', () => console.log(`  producer: link lost (cut ${cuts}), keeps sending into its window`));
producer.on('resumed', (info: { resent: number }) => console.log(`  producer: resumed, resent ${info.resent} unacknowledged messages`));
producer.on('sessionLost', () => {
  throw new Error('the session should never be lost here');
});
producer.on('error', () => {}); // each cut is reported as an error of that link too

const started = performance.now();
for (let seq = 0; seq < TOTAL; seq++) {
  if (seq > 0 && seq % CUT_EVERY === 0) {
    cuts++;
    cut();
  }
  if (!producer.send(['reading', 'temperature'], { seq, celsius: 20 + Math.sin(seq / 100) })) await producer.drained();
}
await allArrived;
const ms = Math.round(performance.now() - started);
console.log(`${TOTAL} readings sent across ${cuts} cuts, ${expected} received exactly once and in order in ${ms} ms`);
console.log(`the server saw ${serverSockets} socket for the producer; it stays open across the cuts: ${server.sockets.size === 1}`);

await producer.end();
await server.close();
proxy.close();
if (serverSockets !== 1 || expected !== TOTAL) process.exit(1);
