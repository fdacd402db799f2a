import { describe, expect, it } from 'vitest';
import { createServer, type NsServer, NsSocket, type NsSocketOptions, type ProtoError } from '@proto/ns';
import { Cleanup } from '../../../testing/cleanup.js';
import { FaultProxy, type FaultProxyOptions } from '../../../testing/fault-proxy.js';
import { checkedPayload, verifyPayload } from '../../../testing/checked-payload.js';
import { FuzzCounter, fuzzRuns } from '../../../testing/fuzz.js';
import { SeededRandom } from '../../../testing/random.js';
import { failOnUncaught } from '../../../testing/uncaught.js';

const cleanup = new Cleanup();
failOnUncaught(cleanup);

/** What the server saw: every `msg` event's sequence number (verified intact), across all links. */
interface ServerLog {
  server: NsServer;
  proxy: FaultProxy;
  seqs: number[];
  /** Server-side sockets in accept order. */
  sockets: NsSocket[];
  clientErrors: Error[];
  /** Resolves once `seq` was received. */
  waitFor(seq: number): Promise<void>;
}

/** An NsServer that logs `msg` events and echoes `echo` events, behind a fault proxy. */
async function rig(proxyOptions: Omit<FaultProxyOptions, 'target'>): Promise<ServerLog> {
  const seqs: number[] = [];
  const sockets: NsSocket[] = [];
  const clientErrors: Error[] = [];
  const waiters = new Map<number, () => void>();
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.data('msg', (data: unknown) => {
      // A truncated or corrupted message would fail here, inside the listener, and close the link.
      const seq = verifyPayload(data as Buffer);
      seqs.push(seq);
      waiters.get(seq)?.();
    });
    socket.data(['echo', '*'], (data: unknown, segments: string[]) => socket.send(['echoed', segments[1]!], data));
  });
  server.on('clientError', (error) => clientErrors.push(error));
  cleanup.add(server, (s) => s.close({ timeoutMs: 500 }));
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const proxy = cleanup.add(await FaultProxy.start({ ...proxyOptions, target: { port } }), (p) => p.close());
  return {
    server,
    proxy,
    seqs,
    sockets,
    clientErrors,
    waitFor(seq) {
      if (seqs.includes(seq)) return Promise.resolve();
      return new Promise((resolve) => waiters.set(seq, resolve));
    },
  };
}

async function client(proxy: FaultProxy, options: NsSocketOptions = {}): Promise<NsSocket> {
  const socket = new NsSocket({ host: '127.0.0.1', port: proxy.port, ...options });
  socket.on('error', () => {});
  cleanup.add(socket, (s) => s.destroy());
  await socket.connect();
  return socket;
}

/** The next `event` of an ns socket (events.once would reject on the 'error' a lost link emits first). */
function nextEvent(socket: NsSocket, event: 'connect' | 'disconnect' | 'close'): Promise<void> {
  return new Promise((resolve) => socket.once(event, () => resolve()));
}

const RECONNECT = { initialDelayMs: 5, maxDelayMs: 20 } as const;

/** Wire bytes of a binary ns event named `msg` with this body: frame header, type, name length, name. */
const msgWireBytes = (body: Buffer): number => 4 + 3 + 3 + body.length;
/** Hello and READY frames a client sends first. */
const OPENING_BYTES = 4 + 5 + 4 + 1;

describe('fault injection: ns through a fault proxy', () => {
  it('with 1-byte chunks, the handshake and every JSON and binary event arrive intact and in order, both ways', async () => {
    const { proxy, sockets } = await rig({ chunkBytes: 1 });
    const socket = await client(proxy);
    const random = new SeededRandom(11);
    const values = Array.from({ length: 40 }, (_, i) =>
      i % 2 === 0 ? { i, text: 'ünïcode ✓'.repeat(random.int(0, 3)), list: [i, null, true] } : random.bytes(random.int(0, 60)),
    );
    const echoed: unknown[] = [];
    const done = new Promise<void>((resolve) => {
      socket.data(['echoed', '*'], (data: unknown) => {
        echoed.push(data);
        if (echoed.length === values.length) resolve();
      });
    });
    for (const value of values) socket.send(['echo', 'x'], value);
    await done;
    expect(echoed).toEqual(values.map((v) => (v instanceof Uint8Array ? Buffer.from(v) : v)));
    expect(sockets).toHaveLength(1);
    expect(proxy.stats.pieces).toBe(proxy.stats.bytesToServer + proxy.stats.bytesToClient);
  });

  it('with random chunking and delays, 300 events each way keep order and content', async () => {
    const { proxy } = await rig({ chunkBytes: { min: 1, max: 700 }, delayMs: { min: 0, max: 2 }, seed: 7 });
    const socket = await client(proxy);
    const random = new SeededRandom(12);
    const values = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? random.bytes(random.int(0, 2000)) : { i, pad: 'x'.repeat(random.int(0, 200)) }));
    const echoed: unknown[] = [];
    const done = new Promise<void>((resolve) => {
      socket.data(['echoed', '*'], (data: unknown) => {
        echoed.push(data);
        if (echoed.length === values.length) resolve();
      });
    });
    for (const value of values) socket.send(['echo', 'y'], value);
    await done;
    expect(echoed).toEqual(values.map((v) => (v instanceof Uint8Array ? Buffer.from(v) : v)));
    expect(proxy.stats.delayed).toBeGreaterThan(0);
  });

  it('a reset in the middle of a message: only whole messages arrive, the client reconnects and flushes its offline queue in order', async () => {
    const log = await rig({});
    const nextLink = log.proxy.nextLink();
    const socket = await client(log.proxy, { reconnect: RECONNECT, offlineQueue: true });
    const link = await nextLink;
    const random = new SeededRandom(13);
    const messages = Array.from({ length: 20 }, (_, seq) => checkedPayload(seq, random.bytes(random.int(50, 150))));
    // Cut the client's stream half-way through message 5.
    const cutAt = OPENING_BYTES + messages.slice(0, 5).reduce((n, m) => n + msgWireBytes(m), 0) + Math.floor(msgWireBytes(messages[5]!) / 2);
    link.resetAfter('toServer', cutAt);
    const disconnected = nextEvent(socket, 'disconnect');
    for (const message of messages.slice(0, 10)) socket.send('msg', message);
    await disconnected;
    expect(socket.connected).toBe(false);
    // Sent while the link is down: queued, then flushed in order once the link is back.
    for (const message of messages.slice(10, 15)) expect(socket.send('msg', message)).toBe(true);
    await nextEvent(socket, 'connect');
    for (const message of messages.slice(15)) socket.send('msg', message);
    await log.waitFor(19);
    const beforeCut = log.seqs.filter((seq) => seq < 10);
    // Messages 0-4 were whole before the cut (an RST that beats unread bytes may drop some, never part of one).
    expect(beforeCut).toEqual([0, 1, 2, 3, 4].slice(0, beforeCut.length));
    expect(log.seqs.slice(beforeCut.length)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(log.sockets).toHaveLength(2);
    for (const error of log.clientErrors) expect(['ECONNRESET', 'ERR_UNEXPECTED_EOF']).toContain((error as ProtoError).code);
    expect(socket.stats.reconnects).toBe(1);
  });

  it('under repeated resets at random offsets, messages arrive whole, in order, at most once, and all after the last reconnect', async () => {
    const stats = new FuzzCounter('ns/fault/repeated-resets');
    const log = await rig({});
    const random = new SeededRandom(14);
    const cuts = fuzzRuns(8);
    let linksCut = 0;
    log.proxy.on('link', (link) => {
      if (linksCut < cuts) {
        linksCut++;
        link.resetAfter('toServer', random.int(1, 3000));
      }
    });
    const socket = await client(log.proxy, { reconnect: RECONNECT, offlineQueue: { maxMessages: 100_000, maxBytes: 64 * 1024 * 1024 } });
    let reconnects = 0;
    socket.on('connect', () => reconnects++);
    let seq = 0;
    while (reconnects < cuts) {
      socket.send('msg', checkedPayload(seq++, random.bytes(random.int(0, 200))));
      // Yield so sends spread over the link's life instead of all landing before the first cut.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const last = seq + 20;
    while (seq <= last) socket.send('msg', checkedPayload(seq++, random.bytes(random.int(0, 200))));
    await log.waitFor(last);
    // Strictly increasing: in order and never twice.
    for (let i = 1; i < log.seqs.length; i++) expect(log.seqs[i]!).toBeGreaterThan(log.seqs[i - 1]!);
    // Everything sent after the last reconnect arrived.
    expect(log.seqs.slice(-21)).toEqual(Array.from({ length: 21 }, (_, i) => last - 20 + i));
    expect(log.sockets.length).toBe(cuts + 1);
    stats.runs = cuts;
    stats.add('messagesSent', seq);
    stats.add('messagesDelivered', log.seqs.length);
    stats.add('resets', log.proxy.stats.resets);
    stats.report();
  });

  it('a FIN from the server side alone (half-close toward the client) is a lost link: the client reconnects and carries on', async () => {
    const log = await rig({});
    const nextLink = log.proxy.nextLink();
    const socket = await client(log.proxy, { reconnect: RECONNECT });
    const link = await nextLink;
    const disconnected = nextEvent(socket, 'disconnect');
    const reconnected = new Promise<void>((resolve) => socket.once('disconnect', () => socket.once('connect', resolve)));
    link.halfClose('toClient');
    await disconnected;
    await reconnected;
    const reply = new Promise<unknown>((resolve) => socket.dataOnce(['echoed', '*'], resolve));
    socket.send(['echo', 'z'], { after: 'half-close' });
    expect(await reply).toEqual({ after: 'half-close' });
    expect(log.sockets).toHaveLength(2);
  });
});
