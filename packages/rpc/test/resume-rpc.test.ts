import { describe, expect, it } from 'vitest';
import { RpcClient, type RpcClientOptions, RpcServer, type RpcServerOptions } from '@proto/rpc';
import { Cleanup } from '../../../testing/cleanup.js';
import { FaultProxy } from '../../../testing/fault-proxy.js';
import { SeededRandom } from '../../../testing/random.js';
import { failOnUncaught } from '../../../testing/uncaught.js';

const PASSWORD = 'resume-secret';
const RECONNECT = { initialDelayMs: 1, maxDelayMs: 5 } as const;
const cleanup = new Cleanup();
failOnUncaught(cleanup);

interface Rig {
  server: RpcServer;
  proxy: FaultProxy;
  /** How many times each request id ran on the server. */
  runs: Map<number, number>;
  gates: Map<number, () => void>;
}

async function rig(options: Partial<RpcServerOptions> = {}): Promise<Rig> {
  const runs = new Map<number, number>();
  const gates = new Map<number, () => void>();
  const server = new RpcServer({ password: PASSWORD, keepAlive: false, resume: true, ...options });
  server.on('error', () => {});
  server.handle('work', (params) => {
    const { n, gated } = params as { n: number; gated?: boolean };
    runs.set(n, (runs.get(n) ?? 0) + 1);
    if (gated !== true) return n * 2;
    return new Promise<number>((resolve) => gates.set(n, () => resolve(n * 2)));
  });
  cleanup.add(server, (s) => s.close({ timeoutMs: 200 }));
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const proxy = cleanup.add(await FaultProxy.start({ target: { port } }), (p) => p.close());
  return { server, proxy, runs, gates };
}

async function client(proxy: FaultProxy, options: Partial<RpcClientOptions> = {}): Promise<RpcClient> {
  const c = new RpcClient({ host: '127.0.0.1', port: proxy.port, password: PASSWORD, keepAlive: false, reconnect: RECONNECT, resume: true, ...options });
  c.on('error', () => {});
  cleanup.add(c, (x) => x.destroy());
  await c.connect();
  return c;
}

function once<T = void>(emitter: { once(event: string, fn: (value: T) => void): unknown }, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, resolve));
}

describe('rpc over resumable sessions', () => {
  it('a request in flight across a cut is answered after the resume and runs once; the peer keeps its id', async () => {
    const { server, proxy, runs, gates } = await rig();
    const c = await client(proxy);
    const peer = [...server.peers.values()][0]!;
    const started = new Promise<void>((resolve) => {
      const check = (): void => (gates.has(1) ? resolve() : void setImmediate(check));
      check();
    });
    const answer = c.request('work', { n: 1, gated: true }, { timeoutMs: 10_000 });
    await started;
    const resumedClient = once(c, 'resumed');
    const resumedServer = once(server, 'resumed');
    proxy.resetAll();
    // Sent while the link is down: it waits in the window and runs after the resume.
    const later = c.request('work', { n: 2 });
    gates.get(1)!();
    await Promise.all([resumedClient, resumedServer]);
    expect(await answer).toBe(2);
    expect(await later).toBe(4);
    expect(runs.get(1)).toBe(1);
    expect(runs.get(2)).toBe(1);
    expect([...server.peers.keys()]).toEqual([peer.id]);
  });

  it("client.peer keeps its id (and its requests) across a resume; a new session names a new one", async () => {
    const { server, proxy } = await rig();
    const c = await client(proxy);
    const id = c.peer!.id;
    const resumed = once(c, 'resumed');
    proxy.resetAll();
    await resumed;
    expect(c.peer!.id).toBe(id);
    expect(await c.request('work', { n: 3 })).toBe(6);
    expect(server.peers.size).toBe(1);
    const other = await client(proxy);
    expect(other.peer!.id).not.toBe(id);
  });

  it('many requests across seeded resets: each answered with its own result, each run exactly once', async () => {
    const { proxy, runs } = await rig();
    const random = new SeededRandom(41);
    let cuts = 0;
    proxy.on('link', (link) => {
      if (cuts++ < 15) link.resetAfter(random.next() < 0.5 ? 'toServer' : 'toClient', random.int(300, 6000));
    });
    const c = await client(proxy);
    const pending: Promise<unknown>[] = [];
    for (let n = 0; n < 600; n++) {
      pending.push(c.request('work', { n }, { timeoutMs: 15_000 }));
      if (n % 20 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const answers = await Promise.all(pending);
    expect(answers).toEqual(Array.from({ length: 600 }, (_, n) => n * 2));
    for (let n = 0; n < 600; n++) expect(runs.get(n)).toBe(1);
    expect(cuts).toBeGreaterThan(1);
  });

  it('a lost session (server restarted) rejects what was in flight with ERR_CONNECTION_CLOSED and goes on', async () => {
    const first = await rig();
    const c = await client(first.proxy);
    const second = await rig();
    const started = new Promise<void>((resolve) => {
      const check = (): void => (first.gates.has(7) ? resolve() : void setImmediate(check));
      check();
    });
    const inFlight = c.request('work', { n: 7, gated: true }, { timeoutMs: 10_000 });
    await started;
    const lost = once<{ reason: string }>(c, 'sessionLost');
    first.proxy.options = { ...first.proxy.options, target: { port: second.server.address().port } };
    first.proxy.resetAll();
    expect((await lost).reason).toBe('unknown');
    await expect(inFlight).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
    expect(await c.request('work', { n: 8 })).toBe(16);
  });

  it('a wrong password cannot resume anything: re-authentication runs on every link', async () => {
    const { proxy, server } = await rig();
    const c = await client(proxy);
    let failures = 0;
    server.on('authFailed', () => failures++);
    const resumed = once(c, 'resumed');
    proxy.resetAll();
    await resumed;
    expect(await c.request('work', { n: 3 })).toBe(6);
    const intruder = new RpcClient({ host: '127.0.0.1', port: proxy.port, password: 'wrong', keepAlive: false, resume: true });
    intruder.on('error', () => {});
    cleanup.add(intruder, (x) => x.destroy());
    await expect(intruder.connect()).rejects.toMatchObject({ code: 'ERR_AUTH_FAILED' });
    expect(failures).toBe(1);
  });
});
