import { describe, expect, it } from 'vitest';
import { RpcClient, type RpcClientOptions, RpcServer, type RpcServerOptions } from '@proto/rpc';
import { Cleanup } from '../../../testing/cleanup.js';
import { FaultProxy, type FaultProxyOptions, type ProxyLink } from '../../../testing/fault-proxy.js';
import { checkedPayload, verifyPayload } from '../../../testing/checked-payload.js';
import { SeededRandom } from '../../../testing/random.js';
import { failOnUncaught } from '../../../testing/uncaught.js';

const PASSWORD = 'proxy-secret';
const cleanup = new Cleanup();
failOnUncaught(cleanup);

interface Rig {
  server: RpcServer;
  proxy: FaultProxy;
  /** Requests each handler saw, verified intact. */
  seen: number[];
  client(options?: Partial<RpcClientOptions>): Promise<{ client: RpcClient; link: ProxyLink }>;
}

/** An RpcServer whose `check` handler verifies a checked payload, behind a fault proxy. */
async function rig(proxyOptions: Omit<FaultProxyOptions, 'target'>, serverOptions: Partial<RpcServerOptions> = {}): Promise<Rig> {
  const seen: number[] = [];
  const server = new RpcServer({ password: PASSWORD, keepAlive: false, ...serverOptions });
  server.on('error', () => {});
  server.handle('check', (params) => {
    // A torn or corrupted request would throw here and come back as INTERNAL.
    const seq = verifyPayload(params as Buffer);
    seen.push(seq);
    return params;
  });
  server.handle('echo', (params) => params);
  cleanup.add(server, (s) => s.close({ timeoutMs: 200 }));
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const proxy = cleanup.add(await FaultProxy.start({ ...proxyOptions, target: { port } }), (p) => p.close());
  return {
    server,
    proxy,
    seen,
    async client(options = {}) {
      const nextLink = proxy.nextLink();
      const client = new RpcClient({ host: '127.0.0.1', port: proxy.port, password: PASSWORD, keepAlive: false, ...options });
      client.on('error', () => {});
      cleanup.add(client, (c) => c.destroy());
      await client.connect();
      return { client, link: await nextLink };
    },
  };
}

describe('fault injection: rpc through a fault proxy', () => {
  it('with 1-byte chunks, the handshake and every request and answer get through intact', async () => {
    const { client, proxy } = await rig({ chunkBytes: 1 }).then(async (r) => ({ ...(await r.client()), proxy: r.proxy }));
    const random = new SeededRandom(21);
    const payloads = Array.from({ length: 20 }, (_, seq) => checkedPayload(seq, random.bytes(random.int(0, 80))));
    const answers = await Promise.all(payloads.map((p) => client.request('check', p)));
    answers.forEach((answer, i) => expect(Buffer.from(answer as Buffer).equals(payloads[i]!)).toBe(true));
    expect(await client.request('echo', { deep: { list: [1, 'two', null] } })).toEqual({ deep: { list: [1, 'two', null] } });
    expect(proxy.stats.pieces).toBe(proxy.stats.bytesToServer + proxy.stats.bytesToClient);
  });

  it('with random chunking and delays, 500 concurrent requests are each answered with their own result', async () => {
    const r = await rig({ chunkBytes: { min: 1, max: 1500 }, delayMs: { min: 0, max: 2 }, seed: 3 });
    const { client } = await r.client();
    const random = new SeededRandom(22);
    const payloads = Array.from({ length: 500 }, (_, seq) => checkedPayload(seq, random.bytes(random.int(0, 3000))));
    const answers = await Promise.all(payloads.map((p) => client.request('check', p)));
    answers.forEach((answer, i) => expect(verifyPayload(answer as Buffer)).toBe(i));
    expect(r.seen.slice().sort((a, b) => a - b)).toEqual(payloads.map((_, i) => i));
    expect(r.proxy.stats.delayed).toBeGreaterThan(0);
  });

  it('a reset in the middle of a request frame: pending requests reject with ERR_CONNECTION_CLOSED, no torn request reaches a handler, the client reconnects', async () => {
    const r = await rig({});
    const { client, link } = await r.client({ reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
    const random = new SeededRandom(23);
    const payloads = Array.from({ length: 40 }, (_, seq) => checkedPayload(seq, random.bytes(200)));
    // Each request frame is a little over 200 bytes: cut inside the 10th or so.
    link.resetAfter('toServer', 2100);
    const reauthenticated = new Promise<void>((resolve) => client.once('disconnect', () => client.once('authenticated', () => resolve())));
    const outcomes = await Promise.allSettled(payloads.map((p) => client.request('check', p)));
    const failed = outcomes.filter((o) => o.status === 'rejected');
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) expect((f.reason as { code?: string }).code).toBe('ERR_CONNECTION_CLOSED');
    // Whatever the handler saw arrived whole: verifyPayload would have thrown on a torn one.
    for (const [i, o] of outcomes.entries()) if (o.status === 'fulfilled') expect(r.seen).toContain(i);
    await reauthenticated;
    expect(await client.request('echo', 'after the reset')).toBe('after the reset');
  });

  it('a frozen network (both directions stalled) is detected by keepalive on both sides; the client reconnects', async () => {
    const keepAlive = { intervalMs: 200, timeoutMs: 300 };
    const r = await rig({}, { keepAlive });
    const serverTimeout = new Promise<void>((resolve) => r.server.once('timeout', () => resolve()));
    const serverClose = new Promise<void>((resolve) => r.server.once('close', () => resolve()));
    const { client, link } = await r.client({ keepAlive, reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
    const clientTimeout = new Promise<void>((resolve) => client.once('timeout', resolve));
    const inFlight = client.request('echo', 'lost in the freeze', { timeoutMs: 0 });
    inFlight.catch(() => {});
    link.stall();
    const reauthenticated = new Promise<void>((resolve) => client.once('disconnect', () => client.once('authenticated', () => resolve())));
    await Promise.all([serverTimeout, clientTimeout, serverClose]);
    await expect(inFlight).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
    await reauthenticated;
    expect(await client.request('echo', 'thawed')).toBe('thawed');
    expect(r.server.peers.size).toBe(1);
  });

  it('a half-open connection (client gone, its FIN swallowed) is closed by server keepalive and leaves peers', async () => {
    const keepAlive = { intervalMs: 200, timeoutMs: 300 };
    const r = await rig({ forwardEnd: false }, { keepAlive });
    const { client, link } = await r.client({ keepAlive: false });
    expect(r.server.peers.size).toBe(1);
    const serverClose = new Promise<void>((resolve) => r.server.once('close', () => resolve()));
    // The client vanishes without the server hearing about it (its FIN is swallowed, nothing follows).
    const gone = new Promise<void>((resolve) => link.client.once('end', () => resolve()));
    client.destroy();
    await gone;
    expect(r.server.peers.size).toBe(1);
    await serverClose;
    expect(r.server.peers.size).toBe(0);
  });
});
