import { describe, expect, it } from 'vitest';
import { RpcClient, RpcServer, type RpcPeer } from '@proto/rpc';
import { Cleanup } from '../../../testing/cleanup.js';
import { FaultProxy } from '../../../testing/fault-proxy.js';
import { failOnUncaught } from '../../../testing/uncaught.js';

const PASSWORD = 'resume-leak-secret';
const cleanup = new Cleanup();
failOnUncaught(cleanup);

type Listening = { eventNames(): (string | symbol)[]; listenerCount(name: string | symbol): number };

const timers = (): number => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
const listeners = (target: Listening): number => target.eventNames().reduce((n, name) => n + target.listenerCount(name), 0);
const once = <T>(emitter: { once(event: string, fn: (value: T) => void): unknown }, event: string): Promise<T> =>
  new Promise((resolve) => emitter.once(event, resolve));

describe('rpc resumable sessions do not leak', () => {
  it('500 resumes of one session, each with a request across the cut: no timer, listener, peer or socket left behind', async () => {
    const server = new RpcServer({ password: PASSWORD, keepAlive: false, resume: true });
    server.on('error', () => {});
    server.handle('echo', (params) => params);
    cleanup.add(server, (s) => s.close({ timeoutMs: 200 }));
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const proxy = cleanup.add(await FaultProxy.start({ target: { port } }), (p) => p.close());
    const authenticated: RpcPeer[] = [];
    server.on('authenticated', (peer) => authenticated.push(peer));
    const resumedPeers: RpcPeer[] = [];
    server.on('resumed', (peer) => resumedPeers.push(peer));
    const client = new RpcClient({
      host: '127.0.0.1',
      port: proxy.port,
      password: PASSWORD,
      keepAlive: false,
      reconnect: { initialDelayMs: 0, maxDelayMs: 0 },
      resume: true,
    });
    client.on('error', () => {});
    cleanup.add(client, (c) => c.destroy());
    await client.connect();
    const peer = [...server.peers.values()][0]!;
    const clientPeerId = client.peer?.id;
    const lost: unknown[] = [];
    client.on('sessionLost', (info) => lost.push(info));

    // One resume first, so lazily created state exists before the baseline.
    let resumed = once(client, 'resumed');
    proxy.resetAll();
    await resumed;
    expect(await client.request('echo', -1)).toBe(-1);
    const baseline = { timers: timers(), client: listeners(client), server: listeners(server) };

    const answers: Promise<unknown>[] = [];
    for (let i = 0; i < 500; i++) {
      resumed = once(client, 'resumed');
      answers.push(client.request('echo', i, { timeoutMs: 30_000 }));
      proxy.resetAll();
      await resumed;
    }
    expect(await Promise.all(answers)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(lost).toEqual([]);
    expect(server.peers.size).toBe(1);
    expect([...server.peers.values()][0]).toBe(peer);
    expect(client.peer?.id).toBe(clientPeerId);
    expect(timers()).toBeLessThanOrEqual(baseline.timers);
    expect(listeners(client)).toBe(baseline.client);
    expect(listeners(server)).toBe(baseline.server);
    // One authentication opened the session; every cut was a resume of it on the same peer.
    expect(authenticated).toEqual([peer]);
    expect(resumedPeers).toHaveLength(501);
    expect(resumedPeers.every((p) => p === peer)).toBe(true);
    expect(proxy.stats.links).toBeGreaterThanOrEqual(501);
  }, 120_000);
});
