import { describe, expect, it } from 'vitest';
import { RpcClient, type RpcPeer, RpcServer } from '@proto/rpc';
import { Cleanup } from '../../../testing/cleanup.js';
import { FaultProxy } from '../../../testing/fault-proxy.js';
import { failOnUncaught } from '../../../testing/uncaught.js';

// A keepalive timeout declares a link dead, which is exactly what a resumable session outlives
// (SPEC "Resumable sessions"): the server drops the link and keeps the session for ttlMs.

const PASSWORD = 'resume-keepalive';
const cleanup = new Cleanup();
failOnUncaught(cleanup);

function once<T = void>(emitter: { once(event: string, fn: (value: T) => void): unknown }, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, resolve));
}

describe('keepalive timeout with a resumable session', () => {
  it('the server declaring the client dead drops the link, keeps the session: the client resumes, the request in flight is answered once', async () => {
    const server = new RpcServer({ password: PASSWORD, keepAlive: { intervalMs: 100, timeoutMs: 100 }, resume: true });
    server.on('error', () => {});
    let runs = 0;
    let release: (() => void) | undefined;
    const started = new Promise<void>((resolve) => {
      server.handle('work', () => {
        runs++;
        resolve();
        return new Promise<string>((answer) => (release = () => answer('done')));
      });
    });
    cleanup.add(server, (s) => s.close({ timeoutMs: 200 }));
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const proxy = cleanup.add(await FaultProxy.start({ target: { port } }), (p) => p.close());
    const client = new RpcClient({
      host: '127.0.0.1',
      port: proxy.port,
      password: PASSWORD,
      // The client's own keepalive is slower: the server is the one to declare the link dead.
      keepAlive: { intervalMs: 1000, timeoutMs: 1000 },
      reconnect: { initialDelayMs: 1, maxDelayMs: 5 },
      resume: true,
    });
    client.on('error', () => {});
    cleanup.add(client, (c) => c.destroy());
    const firstLink = proxy.nextLink();
    await client.connect();
    const link = await firstLink;
    const peer = [...server.peers.values()][0]!;
    const closes: RpcPeer[] = [];
    server.on('close', (p) => closes.push(p));
    const lost: unknown[] = [];
    client.on('sessionLost', (info) => lost.push(info));
    const answer = client.request('work', undefined, { timeoutMs: 30_000 });
    await started;
    const timedOut = once<RpcPeer>(server, 'timeout');
    const resumed = Promise.all([once(client, 'resumed'), once(server, 'resumed')]);
    link.stall();
    expect(await timedOut).toBe(peer);
    // The dead link is gone, the session (and its peer) is not.
    expect(server.peers.get(peer.id)).toBe(peer);
    await resumed;
    release!();
    expect(await answer).toBe('done');
    expect(runs).toBe(1);
    expect(closes).toEqual([]);
    expect(lost).toEqual([]);
    expect([...server.peers.keys()]).toEqual([peer.id]);
  });

  it('without a session the server still closes a dead client: timeout, then close', async () => {
    const server = new RpcServer({ password: PASSWORD, keepAlive: { intervalMs: 100, timeoutMs: 100 } });
    server.on('error', () => {});
    cleanup.add(server, (s) => s.close({ timeoutMs: 200 }));
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const proxy = cleanup.add(await FaultProxy.start({ target: { port } }), (p) => p.close());
    const client = new RpcClient({ host: '127.0.0.1', port: proxy.port, password: PASSWORD, keepAlive: false });
    client.on('error', () => {});
    cleanup.add(client, (c) => c.destroy());
    const firstLink = proxy.nextLink();
    await client.connect();
    const link = await firstLink;
    const peer = [...server.peers.values()][0]!;
    const closed = once<RpcPeer>(server, 'close');
    const timedOut = once<RpcPeer>(server, 'timeout');
    link.stall();
    expect(await timedOut).toBe(peer);
    expect(await closed).toBe(peer);
    expect(server.peers.size).toBe(0);
  });
});
