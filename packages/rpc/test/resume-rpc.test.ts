import { describe, expect, it } from 'vitest';
import { RpcClient, type RpcClientOptions, RpcServer, type RpcServerOptions, type StreamContext } from '@proto/rpc';
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
  /** Runs of the stream handlers, per method. */
  streamRuns: Map<string, number>;
  /** Items the `count` stream handler yielded. */
  yielded: number[];
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
  const streamRuns = new Map<string, number>();
  const yielded: number[] = [];
  server.handleStream('count', async function* (params) {
    streamRuns.set('count', (streamRuns.get('count') ?? 0) + 1);
    const { n } = params as { n: number };
    for (let i = 0; i < n; i++) {
      yielded.push(i);
      yield i;
    }
  });
  server.handleStream('collect', async function* (_params, ctx: StreamContext<number>) {
    streamRuns.set('collect', (streamRuns.get('collect') ?? 0) + 1);
    const got: number[] = [];
    for await (const item of ctx.input) got.push(item);
    yield got;
  });
  cleanup.add(server, (s) => s.close({ timeoutMs: 200 }));
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const proxy = cleanup.add(await FaultProxy.start({ target: { port } }), (p) => p.close());
  return { server, proxy, runs, gates, streamRuns, yielded };
}

async function client(proxy: FaultProxy, options: Partial<RpcClientOptions> = {}): Promise<RpcClient> {
  const c = new RpcClient({ host: '127.0.0.1', port: proxy.port, password: PASSWORD, keepAlive: false, reconnect: RECONNECT, resume: true, ...options });
  c.on('error', () => {});
  cleanup.add(c, (x) => x.destroy());
  await c.connect();
  return c;
}

const turn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

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

// Streams over a resumable session (issue 13: "Streams resume the same way (credit state included)"):
// a stream in progress when the link drops goes on after the resume, every item exactly once and in
// order, in both directions, and the handler runs once.
describe('rpc streams over resumable sessions', () => {
  it('a server stream cut in the middle goes on after the resume: every item once, in order, the handler ran once, credit intact', async () => {
    const { server, proxy, streamRuns: runs, yielded } = await rig();
    const c = await client(proxy);
    const items: number[] = [];
    const stream = c.stream('count', { n: 200 }, { highWaterMark: 4 });
    for await (const item of stream) {
      items.push(item as number);
      if (item === 20) {
        // The handler is at most highWaterMark items ahead of the loop when the link drops.
        expect(yielded.length).toBeLessThanOrEqual(21 + 4 + 1);
        const resumed = Promise.all([once(c, 'resumed'), once(server, 'resumed')]);
        proxy.resetAll();
        await resumed;
      }
    }
    expect(items).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(yielded).toEqual(items);
    expect(runs.get('count')).toBe(1);
  });

  it('a client-input stream cut in the middle goes on after the resume: the handler gets every input item once, in order', async () => {
    const { server, proxy, streamRuns: runs } = await rig();
    const c = await client(proxy);
    const pulled: number[] = [];
    async function* input(): AsyncGenerator<number> {
      for (let i = 0; i < 300; i++) {
        pulled.push(i);
        if (i === 50) {
          const resumed = Promise.all([once(c, 'resumed'), once(server, 'resumed')]);
          proxy.resetAll();
          await resumed;
        }
        yield i;
      }
    }
    const results: unknown[] = [];
    for await (const result of c.stream('collect', undefined, { input: input() })) results.push(result);
    expect(results).toEqual([Array.from({ length: 300 }, (_, i) => i)]);
    expect(pulled).toHaveLength(300);
    expect(runs.get('collect')).toBe(1);
  });

  it('server and client-input streams across many seeded resets both ways: exactly once, in order, nothing stalls', async () => {
    const { proxy, streamRuns: runs } = await rig();
    const random = new SeededRandom(1307);
    let cuts = 0;
    proxy.on('link', (link) => {
      if (cuts++ < 20) link.resetAfter(random.next() < 0.5 ? 'toServer' : 'toClient', random.int(400, 8000));
    });
    const c = await client(proxy);
    const N = 3000;
    const down = (async () => {
      const items: number[] = [];
      for await (const item of c.stream('count', { n: N }, { highWaterMark: 8, timeoutMs: 60_000 })) {
        items.push(item as number);
        if (items.length % 50 === 0) await turn();
      }
      return items;
    })();
    async function* input(): AsyncGenerator<number> {
      for (let i = 0; i < N; i++) {
        if (i % 50 === 0) await turn();
        yield i;
      }
    }
    const up = (async () => {
      const results: unknown[] = [];
      for await (const result of c.stream('collect', undefined, { input: input(), timeoutMs: 60_000 })) results.push(result);
      return results;
    })();
    const expected = Array.from({ length: N }, (_, i) => i);
    expect(await down).toEqual(expected);
    expect(await up).toEqual([expected]);
    expect(runs.get('count')).toBe(1);
    expect(runs.get('collect')).toBe(1);
    expect(cuts).toBeGreaterThan(2);
  }, 60_000);
});
