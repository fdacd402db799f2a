import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createServer, type NsServer, NsSocket, type NsSocketOptions, type NsServerOptions } from '@proto/ns';
import { Cleanup } from '../../../testing/cleanup.js';
import { FaultProxy } from '../../../testing/fault-proxy.js';
import { failOnUncaught } from '../../../testing/uncaught.js';

const cleanup = new Cleanup();
failOnUncaught(cleanup);

const RECONNECT = { initialDelayMs: 1, maxDelayMs: 5 } as const;

interface Rig {
  server: NsServer;
  proxy: FaultProxy;
  /** Server-side sockets in `connection` order. */
  accepted: NsSocket[];
  nextAccepted(): Promise<NsSocket>;
}

async function rig(serverOptions: NsServerOptions = { resume: true }): Promise<Rig> {
  const accepted: NsSocket[] = [];
  const waiters: ((socket: NsSocket) => void)[] = [];
  const server = createServer(serverOptions, (socket) => {
    socket.on('error', () => {});
    accepted.push(socket);
    waiters.shift()?.(socket);
  });
  server.on('clientError', () => {});
  cleanup.add(server, (s) => s.close({ timeoutMs: 500 }));
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const proxy = cleanup.add(await FaultProxy.start({ target: { port } }), (p) => p.close());
  return { server, proxy, accepted, nextAccepted: () => new Promise((resolve) => waiters.push(resolve)) };
}

async function client(proxy: FaultProxy, options: NsSocketOptions = {}): Promise<NsSocket> {
  const socket = new NsSocket({ host: '127.0.0.1', port: proxy.port, reconnect: RECONNECT, resume: true, ...options });
  socket.on('error', () => {});
  cleanup.add(socket, (s) => s.destroy());
  await socket.connect();
  return socket;
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function next<T = void>(socket: NsSocket, event: string): Promise<T> {
  return new Promise((resolve) => socket.once(event, (value: T) => resolve(value)));
}

/** Collects `n` values of event `name` on `socket`. */
function collect(socket: NsSocket, name: string, count: number): { values: unknown[]; done: Promise<unknown[]> } {
  const values: unknown[] = [];
  let resolve!: (v: unknown[]) => void;
  const done = new Promise<unknown[]>((r) => (resolve = r));
  socket.data(name, (data: unknown) => {
    values.push(data);
    if (values.length === count) resolve(values);
  });
  return { values, done };
}

describe('resumable sessions (ns)', () => {
  it('a reset link resumes: both sides emit resumed, the server keeps the same socket in sockets without close, nothing is lost', async () => {
    const { server, proxy, accepted } = await rig();
    const socket = await client(proxy);
    expect(accepted).toHaveLength(1);
    const peer = accepted[0]!;
    expect(socket.inSession).toBe(true);
    let peerClosed = false;
    peer.on('close', () => (peerClosed = true));
    const toServer = collect(peer, 'n', 10);
    const toClient = collect(socket, 'n', 10);
    for (let i = 0; i < 5; i++) {
      socket.send('n', i);
      peer.send('n', i);
    }
    const resumedClient = next<{ resent: number }>(socket, 'resumed');
    const resumedServer = next<{ resent: number }>(peer, 'resumed');
    const serverDown = next(peer, 'disconnect');
    proxy.resetAll();
    await serverDown;
    expect(peer.state).toBe('reconnecting');
    expect(server.sockets.has(peer)).toBe(true);
    // Sent while the link is down: into the window, no offline queue, no ERR_NOT_CONNECTED.
    for (let i = 5; i < 10; i++) expect(peer.send('n', i)).toBe(true);
    for (let i = 5; i < 10; i++) socket.send('n', i);
    await Promise.all([resumedClient, resumedServer]);
    expect(await toServer.done).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await toClient.done).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(accepted).toHaveLength(1);
    expect(server.sockets.size).toBe(1);
    expect(peerClosed).toBe(false);
    expect(peer.connected).toBe(true);
  });

  it('works as without resume when only the client enables it', async () => {
    const { proxy, accepted } = await rig({});
    const socket = await client(proxy);
    expect(socket.inSession).toBe(false);
    const got = collect(accepted[0]!, 'x', 1);
    socket.send('x', 1);
    expect(await got.done).toEqual([1]);
    const down = next(socket, 'disconnect');
    proxy.resetAll();
    await down;
    expect(() => socket.send('x', 2)).toThrow(expect.objectContaining({ code: 'ERR_NOT_CONNECTED' }));
  });

  it('works as without resume when only the server enables it', async () => {
    const { proxy, accepted } = await rig();
    const socket = await client(proxy, { resume: false });
    const peer = accepted[0]!;
    expect(peer.inSession).toBe(false);
    const got = collect(peer, 'x', 1);
    socket.send('x', 1);
    expect(await got.done).toEqual([1]);
    const closed = next(peer, 'close');
    proxy.resetAll();
    await closed;
  });

  it('end() ends the session at once: the server socket closes without waiting for ttlMs', async () => {
    const { server, accepted } = await rig({ resume: { ttlMs: 60_000 } });
    const socket = new NsSocket({ host: '127.0.0.1', port: server.address().port, resume: true });
    cleanup.add(socket, (s) => s.destroy());
    await socket.connect();
    const peer = accepted[0]!;
    const closed = next(peer, 'close');
    await socket.end();
    await closed;
    expect(server.sockets.size).toBe(0);
    expect(server.sessions?.size).toBe(0);
  });

  it('ttl expiry: the server closes the old socket, the client gets sessionLost and a fresh session on the same socket', async () => {
    const { server, proxy, accepted, nextAccepted } = await rig({ resume: { ttlMs: 0 } });
    const socket = await client(proxy);
    const peer = accepted[0]!;
    const oldClosed = next(peer, 'close');
    const lost = next<{ reason: string; unsent: number }>(socket, 'sessionLost');
    const fresh = nextAccepted();
    // The client must come back only after the server saw the old link die (ttl 0 ends the session
    // then); a reconnect that overtook the reset would simply resume. Until then the proxy forwards
    // new links to a closed port, so reconnect attempts fail.
    const target = proxy.options.target;
    proxy.options = { ...proxy.options, target: { port: await closedPort() } };
    // Messages the server will never acknowledge: the link is cut before they leave.
    proxy.resetAll();
    socket.send('x', 1);
    socket.send('x', 2);
    await oldClosed;
    proxy.options = { ...proxy.options, target };
    expect(await lost).toEqual({ reason: 'expired', unsent: 2 });
    const peer2 = await fresh;
    expect(peer2).not.toBe(peer);
    expect(socket.inSession).toBe(true);
    const got = collect(peer2, 'x', 1);
    socket.send('x', 3);
    expect(await got.done).toEqual([3]);
    expect(server.sockets.size).toBe(1);
  });

  it('a server that restarted (forgot the session) gives sessionLost unknown, and a new session', async () => {
    const first = await rig();
    const socket = await client(first.proxy);
    const second = await rig();
    const lost = next<{ reason: string; unsent: number }>(socket, 'sessionLost');
    const fresh = second.nextAccepted();
    first.proxy.options = { ...first.proxy.options, target: { port: second.server.address().port } };
    first.proxy.resetAll();
    expect(await lost).toEqual({ reason: 'unknown', unsent: 0 });
    const peer = await fresh;
    const got = collect(peer, 'x', 1);
    socket.send('x', 'after restart');
    expect(await got.done).toEqual(['after restart']);
  });

  it('the window bound: ERR_BUFFER_OVERFLOW past maxMessages while down, nothing partial; drained() waits for room', async () => {
    const { proxy } = await rig();
    const socket = await client(proxy, { resume: { maxMessages: 4 } });
    const down = next(socket, 'disconnect');
    proxy.resetAll();
    await down;
    expect(socket.send('x', 1)).toBe(true);
    expect(socket.send('x', 2)).toBe(true);
    expect(socket.send('x', 3)).toBe(true);
    expect(socket.send('x', 4)).toBe(false);
    expect(() => socket.send('x', 5)).toThrow(expect.objectContaining({ code: 'ERR_BUFFER_OVERFLOW' }));
    let drained = false;
    const waiting = socket.drained().then(() => (drained = true));
    await Promise.resolve();
    expect(drained).toBe(false);
    await next(socket, 'resumed');
    await waiting;
    expect(drained).toBe(true);
  });

  it('a replayed capture of a client\'s resuming opening resumes nothing (new nonce): the replayer gets a new session', async () => {
    const { server, accepted } = await rig();
    // A recording proxy: keeps what each connection sent toward the server.
    const captures: Buffer[][] = [];
    const links = new Set<net.Socket>();
    const recorder = net.createServer((down) => {
      const chunks: Buffer[] = [];
      captures.push(chunks);
      const up = net.connect(server.address().port, '127.0.0.1');
      down.on('data', (chunk) => {
        chunks.push(chunk);
        up.write(chunk);
      });
      up.on('data', (chunk) => down.write(chunk));
      for (const [a, b] of [[down, up], [up, down]] as const) {
        links.add(a);
        a.on('error', () => b.destroy());
        a.on('close', () => b.destroy());
      }
    });
    cleanup.add(recorder, (r) => new Promise<void>((resolve) => r.close(() => resolve())));
    cleanup.defer(() => {
      for (const socket of links) socket.destroy();
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    const socket = new NsSocket({ host: '127.0.0.1', port: (recorder.address() as net.AddressInfo).port, resume: true, reconnect: RECONNECT });
    socket.on('error', () => {});
    cleanup.add(socket, (s) => s.destroy());
    await socket.connect();
    const peer = accepted[0]!;
    let peerResumes = 0;
    peer.on('resumed', () => peerResumes++);
    const resumed = next(socket, 'resumed');
    for (const link of links) link.destroy();
    await resumed;
    expect(peerResumes).toBe(1);
    // The second connection's bytes: HELLO, SESSION_OPEN with a valid proof for that link's nonce, READY...
    const capture = Buffer.concat(captures[1]!);
    expect(capture[9 + 4]).toBe(0x05); // the frame after the 9-byte HELLO frame is SESSION_OPEN
    const replay = net.connect(server.address().port, '127.0.0.1');
    cleanup.add(replay, (r) => r.destroy());
    const answer = new Promise<number>((resolve) => {
      let buffered = Buffer.alloc(0);
      replay.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        // Frames: [u32 length][payload]; find the SESSION_ACCEPT (type 0x06) and report its result byte.
        for (let at = 0; at + 4 <= buffered.length; ) {
          const length = buffered.readUInt32BE(at);
          if (at + 4 + length > buffered.length) break;
          if (buffered[at + 4] === 0x06) resolve(buffered[at + 5]!);
          at += 4 + length;
        }
      });
    });
    replay.write(capture);
    expect(await answer).toBe(2);
    expect(peerResumes).toBe(1);
    expect(peer.connected).toBe(true);
    const got = collect(peer, 'after', 1);
    socket.send('after', 'still mine');
    expect(await got.done).toEqual(['still mine']);
  });

  it('no timers or listeners leak across 1,000 resumes', async () => {
    const { proxy, accepted } = await rig();
    const socket = await client(proxy, { reconnect: { initialDelayMs: 0, maxDelayMs: 0 } });
    const peer = accepted[0]!;
    const got = collect(peer, 'n', 1000);
    const timers = (): number => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    const listeners = (target: NsSocket): number => target.eventNames().reduce((n, name) => n + target.listenerCount(name as string), 0);
    // Warm up one resume so lazily created state exists before the baseline.
    let resumed = next(socket, 'resumed');
    proxy.resetAll();
    await resumed;
    const baseline = { timers: timers(), client: listeners(socket), server: listeners(peer) };
    for (let i = 0; i < 1000; i++) {
      resumed = next(socket, 'resumed');
      socket.send('n', i);
      proxy.resetAll();
      await resumed;
    }
    expect(await got.done).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(timers()).toBeLessThanOrEqual(baseline.timers);
    expect(listeners(socket)).toBe(baseline.client);
    expect(listeners(peer)).toBe(baseline.server);
    expect(accepted).toHaveLength(1);
  }, 60_000);
});
