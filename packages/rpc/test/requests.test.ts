import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type RequestContext, RpcError, RpcErrorCode, type RpcPeer } from '../src/index.js';
import { deferred, next, Resources } from './helpers.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

describe('requests', () => {
  it('round-trips client → server with string and array method names', async () => {
    const { server, client } = await resources.pair();
    server.handle('math::add', (params) => {
      const { a, b } = params as { a: number; b: number };
      return a + b;
    });
    server.handle(['math', 'neg'], async (n) => -(n as number));
    expect(await client.request('math::add', { a: 1, b: 2 }, { timeoutMs: 1000 })).toBe(3);
    expect(await client.request(['math', 'neg'], 5)).toBe(-5);
  });

  it('round-trips server → client by peer id, and the handler sees its peer', async () => {
    const { server, client, peer } = await resources.pair();
    let seen: RequestContext | undefined;
    client.handle('ui::confirm', (question, ctx) => {
      seen = ctx;
      return `yes to ${String(question)}`;
    });
    expect(await server.request(peer.id, 'ui::confirm', 'deploy')).toBe('yes to deploy');
    expect(await peer.request('ui::confirm', 'again')).toBe('yes to again');
    expect(seen?.method).toBe('ui::confirm');
    expect(seen?.peer).toBe(client.peer);
    // An unknown peer id fails at once with its own code (round 1 said ERR_NOT_CONNECTED).
    await expect(server.request('peer-unknown', 'ui::confirm')).rejects.toMatchObject({
      code: RpcErrorCode.PEER_NOT_FOUND,
      peerId: 'peer-unknown',
    });
  });

  it('carries undefined, null, nested JSON and raw bytes both ways', async () => {
    const { server, client } = await resources.pair();
    server.handle('echo', (value) => value);
    server.handle('nothing', () => undefined);
    expect(await client.request('echo')).toBeUndefined();
    expect(await client.request('echo', null)).toBeNull();
    expect(await client.request('echo', { deep: [1, { x: 'ü' }] })).toEqual({ deep: [1, { x: 'ü' }] });
    const bytes = Buffer.from([0, 1, 2, 255]);
    const back = await client.request('echo', bytes);
    expect(Buffer.isBuffer(back)).toBe(true);
    expect(back).toEqual(bytes);
    expect(await client.request('nothing', 1)).toBeUndefined();
  });

  it('serves 1,000 concurrent requests, each with its own answer', async () => {
    const { server, client } = await resources.pair();
    server.handle('math::add', async (params) => {
      const { a, b } = params as { a: number; b: number };
      await Promise.resolve();
      return a + b;
    });
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => client.request('math::add', { a: i, b: 1 })));
    expect(results).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(client.peer?.stats.inFlight).toBe(0);
  });

  it('a timeout rejects with ERR_REQUEST_TIMEOUT and aborts the handler signal', async () => {
    const { server, client } = await resources.pair();
    const aborted = deferred<unknown>();
    server.handle('slow', (_params, ctx) => {
      ctx.signal.addEventListener('abort', () => aborted.resolve(ctx.signal.reason));
      return new Promise(() => {});
    });
    await expect(client.request('slow', undefined, { timeoutMs: 50 })).rejects.toMatchObject({
      code: RpcErrorCode.REQUEST_TIMEOUT,
    });
    expect(await aborted.promise).toMatchObject({ code: RpcErrorCode.ABORTED });
  });

  it('an abort rejects with ERR_ABORTED and aborts the handler signal', async () => {
    const { server, client } = await resources.pair();
    const started = deferred();
    const aborted = deferred();
    server.handle('slow', (_params, ctx) => {
      ctx.signal.addEventListener('abort', () => aborted.resolve());
      started.resolve();
      return new Promise(() => {});
    });
    const controller = new AbortController();
    const pending = client.request('slow', 1, { signal: controller.signal });
    await started.promise;
    controller.abort(new Error('user gave up'));
    await expect(pending).rejects.toMatchObject({ code: RpcErrorCode.ABORTED });
    await aborted.promise;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('an already aborted signal rejects at once and sends nothing', async () => {
    const { server, client, peer } = await resources.pair();
    const handler = vi.fn();
    server.handle('m', handler);
    const before = client.peer!.stats;
    const controller = new AbortController();
    controller.abort();
    await expect(client.request('m', 1, { signal: controller.signal })).rejects.toMatchObject({ code: RpcErrorCode.ABORTED });
    const after = client.peer!.stats;
    expect(after.requestsOut).toBe(before.requestsOut);
    expect(after.bytesOut).toBe(before.bytesOut);
    // A later request goes through, and is the first the server sees.
    server.handle('n', () => 'ok');
    expect(await client.request('n')).toBe('ok');
    expect(peer.stats.requestsIn).toBe(1);
    expect(handler).not.toHaveBeenCalled();
  });

  it('unknown methods reject with ERR_METHOD_NOT_FOUND', async () => {
    const { client } = await resources.pair();
    await expect(client.request('no::such')).rejects.toMatchObject({ code: RpcErrorCode.METHOD_NOT_FOUND, method: 'no::such' });
  });

  it('RpcError arrives as ERR_REMOTE with remoteCode, message and data', async () => {
    const { server, client } = await resources.pair();
    server.handle('users::get', (id) => {
      throw new RpcError('NOT_FOUND', `no user ${String(id)}`, { id });
    });
    const error = await client.request('users::get', 7).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_REMOTE', remoteCode: 'NOT_FOUND', message: 'no user 7', data: { id: 7 } });
  });

  it('any other throw arrives as INTERNAL without details; the server sees the original', async () => {
    const { server, client, peer } = await resources.pair();
    const original = new Error('db password is hunter2 at /srv/app/db.ts:42');
    server.handle('boom', async () => {
      throw original;
    });
    const reported = next<[Error, RpcPeer]>(server, 'error');
    const error = (await client.request('boom').catch((e: unknown) => e)) as Record<string, unknown>;
    expect(error).toMatchObject({ code: 'ERR_REMOTE', remoteCode: 'INTERNAL', message: 'Internal error' });
    expect(error.data).toBeUndefined();
    expect(JSON.stringify(error)).not.toContain('hunter2');
    expect(String(error.stack)).not.toContain('db.ts');
    const [seen, seenPeer] = await reported;
    expect(seen).toBe(original);
    expect(seenPeer).toBe(peer);
  });

  it('refuses past maxConcurrentRequests with ERR_OVERLOADED', async () => {
    const { server, client } = await resources.pair({ maxConcurrentRequests: 2 });
    const release = deferred();
    server.handle('hold', () => release.promise.then(() => 'done'));
    const held = [client.request('hold'), client.request('hold')];
    await expect(client.request('hold')).rejects.toMatchObject({ code: RpcErrorCode.OVERLOADED });
    release.resolve();
    expect(await Promise.all(held)).toEqual(['done', 'done']);
    expect(await client.request('hold')).toBe('done');
  });

  it('rejects everything in flight with ERR_CONNECTION_CLOSED when the server goes away', async () => {
    const { server, client, peer } = await resources.pair();
    const started = deferred();
    let count = 0;
    server.handle('hang', () => {
      if (++count === 100) started.resolve();
      return new Promise(() => {});
    });
    const pending = Array.from({ length: 100 }, () => client.request('hang', undefined, { timeoutMs: 60_000 }).catch((e: unknown) => e));
    await started.promise;
    peer.destroy();
    const errors = await Promise.all(pending);
    for (const error of errors) expect(error).toMatchObject({ code: RpcErrorCode.CONNECTION_CLOSED });
    await expect(client.request('hang')).rejects.toMatchObject({ code: RpcErrorCode.NOT_CONNECTED });
  });

  it('shares one timer among the requests in flight, released when the last settles and when the link drops', async () => {
    const { server, client, peer } = await resources.pair({ keepAlive: false }, { keepAlive: false });
    let release = deferred();
    let arrived = 0;
    let allArrived = deferred();
    server.handle('wait', async () => {
      if (++arrived === 100) allArrived.resolve();
      await release.promise;
      return 'done';
    });
    const before = activeTimers();
    const pending = Array.from({ length: 100 }, () => client.request('wait', undefined, { timeoutMs: 60_000 }));
    await allArrived.promise;
    expect(activeTimers() - before).toBeLessThanOrEqual(1); // not one per request
    release.resolve();
    expect(await Promise.all(pending)).toEqual(Array.from({ length: 100 }, () => 'done'));
    expect(activeTimers()).toBeLessThanOrEqual(before);

    release = deferred();
    arrived = 0;
    allArrived = deferred();
    const failures = Array.from({ length: 100 }, () => client.request('wait', undefined, { timeoutMs: 60_000 }).catch((e: unknown) => e));
    await allArrived.promise;
    expect(activeTimers() - before).toBeLessThanOrEqual(1);
    peer.destroy();
    for (const error of await Promise.all(failures)) expect(error).toMatchObject({ code: RpcErrorCode.CONNECTION_CLOSED });
    expect(activeTimers()).toBeLessThanOrEqual(before);
    release.resolve();
  });

  it('server → client requests reject with ERR_CONNECTION_CLOSED when the client goes away', async () => {
    const { server, client, peer } = await resources.pair();
    client.handle('hang', () => new Promise(() => {}));
    const pending = server.request(peer.id, 'hang');
    const closedPeer = next<[RpcPeer]>(server, 'close');
    client.destroy();
    await expect(pending).rejects.toMatchObject({ code: RpcErrorCode.CONNECTION_CLOSED });
    expect((await closedPeer)[0]).toBe(peer);
    expect(server.peers.size).toBe(0);
  });

  it('returns to baseline (pending maps, listeners, timers) after tens of thousands of requests', async () => {
    const { server, client, peer } = await resources.pair({ keepAlive: false }, { keepAlive: false });
    server.handle('ok', (n) => n);
    server.handle('fail', () => {
      throw new RpcError('NOPE', 'no');
    });
    // Hangs until cancelled: a cancelled call keeps its slot until its handler settles (issue 10.3),
    // so this handler honours its signal, as handlers should.
    server.handle('hang', (_params, ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))));
    const signal = new AbortController().signal; // never aborted, shared by all requests
    const timersBefore = activeTimers();
    for (let round = 0; round < 20; round++) {
      const batch: Promise<unknown>[] = [];
      for (let i = 0; i < 1000; i++) {
        batch.push(client.request(i % 2 === 0 ? 'ok' : 'fail', i, { signal }).catch(() => undefined));
      }
      for (let i = 0; i < 20; i++) {
        const controller = new AbortController();
        batch.push(client.request('hang', i, { signal: controller.signal }).catch(() => undefined));
        controller.abort();
      }
      expect(getEventListeners(signal, 'abort')).toHaveLength(1); // one listener for 1000 requests
      await Promise.all(batch);
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    }
    await Promise.all(Array.from({ length: 50 }, () => client.request('hang', 0, { timeoutMs: 1 }).catch(() => undefined)));
    expect(client.peer!.stats.inFlight).toBe(0);
    // the cancels have reached the server once a later round trip has
    expect(await client.request('ok', 'last')).toBe('last');
    expect(peer.stats.handling).toBe(0);
    expect(peer.stats.inFlight).toBe(0);
    expect(activeTimers()).toBeLessThanOrEqual(timersBefore); // a timer of setup may expire meanwhile; ours must not remain
    expect(client.peer!.stats.requestsOut).toBe(20 * 1020 + 51);
  });

  it('refuses invalid arguments with ERR_INVALID_ARG and sends nothing', async () => {
    const { client } = await resources.pair();
    const before = client.peer!.stats.requestsOut;
    await expect(client.request('m', 1, { timeoutMs: -5 })).rejects.toMatchObject({ code: RpcErrorCode.INVALID_ARG });
    await expect(client.request('')).rejects.toMatchObject({ code: RpcErrorCode.INVALID_ARG });
    await expect(client.request('x'.repeat(256))).rejects.toMatchObject({ code: RpcErrorCode.INVALID_ARG });
    await expect(client.request('m', 10n)).rejects.toMatchObject({ code: RpcErrorCode.INVALID_ARG });
    expect(client.peer!.stats.requestsOut).toBe(before);
  });

  it('refuses requests while not connected with ERR_NOT_CONNECTED', async () => {
    const { port } = await resources.server();
    const client = resources.client(port);
    await expect(client.request('x')).rejects.toMatchObject({ code: RpcErrorCode.NOT_CONNECTED });
  });
});

describe('events', () => {
  it('client.send reaches server.data with wildcards and the sending peer', async () => {
    const { server, client, peer } = await resources.pair();
    const got = new Promise<[unknown, string[], RpcPeer]>((resolve) => server.data(['chat', '*'], (...args) => resolve(args)));
    client.send(['chat', 'message'], { text: 'hello' });
    const [data, segments, from] = await got;
    expect(data).toEqual({ text: 'hello' });
    expect(segments).toEqual(['chat', 'message']);
    expect(from).toBe(peer);
  });

  it('server.data registered before and after a client connects both work, and offData removes it', async () => {
    const { server, port } = await resources.server();
    const early = vi.fn();
    server.data('a::**', early);
    const client = resources.client(port);
    await client.connect();
    const late = deferred<unknown>();
    server.data('a::b', (data) => late.resolve(data));
    client.send('a::b', 1);
    expect(await late.promise).toBe(1);
    expect(early).toHaveBeenCalledTimes(1);
    server.offData('a::**', early);
    const again = deferred<unknown>();
    server.data('a::c', (data) => again.resolve(data));
    client.send('a::c', 2);
    await again.promise;
    expect(early).toHaveBeenCalledTimes(1);
  });

  it('server.send and broadcast reach client.data', async () => {
    const { server, client, peer } = await resources.pair();
    const direct = new Promise<unknown>((resolve) => client.data('news::direct', (data) => resolve(data)));
    server.send(peer.id, 'news::direct', 'just you');
    expect(await direct).toBe('just you');
    const second = resources.client(client.peer ? (server.address().port) : 0);
    await second.connect();
    const a = new Promise<unknown>((resolve) => client.data('news::*', (data) => resolve(data)));
    const b = new Promise<unknown>((resolve) => second.data('news::*', (data) => resolve(data)));
    expect(server.broadcast('news::all', { n: 1 })).toBe(2);
    expect(await Promise.all([a, b])).toEqual([{ n: 1 }, { n: 1 }]);
    expect(() => server.send('peer-unknown', 'x')).toThrow(expect.objectContaining({ code: RpcErrorCode.PEER_NOT_FOUND }));
    // Without a cluster, clusterPeers() lists this server's peers.
    const ids = [...server.peers.keys()];
    expect(ids).toHaveLength(2);
    expect(await server.clusterPeers()).toEqual(ids.map((id) => expect.objectContaining({ id, nodeId: '', username: '' })));
  });

  it('exposes peers with address and stats', async () => {
    const { server, client, peer } = await resources.pair();
    server.handle('x', () => 1);
    await client.request('x');
    expect(server.peers.get(peer.id)).toBe(peer);
    expect(peer.address).toBe('127.0.0.1');
    expect(peer.connected).toBe(true);
    const stats = peer.stats;
    expect(stats.bytesIn).toBeGreaterThan(0);
    expect(stats.bytesOut).toBeGreaterThan(0);
    expect(stats.requestsIn).toBe(1);
    expect(stats.inFlight).toBe(0);
  });
});
