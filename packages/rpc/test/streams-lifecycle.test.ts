import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RpcErrorCode } from '../src/index.js';
import { deferred, Resources } from './helpers.js';

const resources = new Resources();
afterEach(async () => {
  vi.useRealTimers();
  await resources.closeAll();
});

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

describe('stream deadlines (fake timers)', () => {
  it('timeoutMs is a deadline for the whole stream: ERR_REQUEST_TIMEOUT, and the handler is cancelled', async () => {
    const { server, client } = await resources.pair({ keepAlive: false }, { keepAlive: false });
    const finallyRan = deferred();
    const firstSent = deferred();
    let reason: unknown;
    server.handleStream('drip', async function* (_params, ctx) {
      try {
        yield 1;
        firstSent.resolve();
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        reason = ctx.signal.reason;
      } finally {
        finallyRan.resolve();
      }
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const stream = client.stream('drip', undefined, { timeoutMs: 5_000 });
    expect(await stream.next()).toEqual({ value: 1, done: false });
    await firstSent.promise;
    const pending = stream.next();
    let settled = false;
    void pending.then(
      () => (settled = true),
      () => (settled = true),
    );
    await vi.advanceTimersByTimeAsync(4_999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(pending).rejects.toMatchObject({ code: RpcErrorCode.REQUEST_TIMEOUT });
    vi.useRealTimers();
    await finallyRan.promise;
    expect(reason).toMatchObject({ code: RpcErrorCode.ABORTED });
  });

  it('no deadline by default: requestTimeoutMs does not apply to streams', async () => {
    const { server, client } = await resources.pair({ keepAlive: false }, { keepAlive: false, requestTimeoutMs: 100 });
    const release = deferred();
    server.handleStream('late', async function* () {
      await release.promise;
      yield 'late';
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const stream = client.stream('late');
    const first = stream.next();
    await vi.advanceTimersByTimeAsync(60_000);
    vi.useRealTimers();
    release.resolve();
    expect(await first).toEqual({ value: 'late', done: false });
    expect((await stream.next()).done).toBe(true);
  });
});

describe('no leak after many streams', () => {
  it('releases ids, timers and abort listeners on every path (end, break, abort, timeout, error)', async () => {
    const { server, client, peer } = await resources.pair();
    server.handle('ping', () => 1);
    server.handleStream('three', () => [1, 2, 3]);
    server.handleStream('endless', async function* () {
      for (let i = 0; ; i++) yield i;
    });
    server.handleStream('fails', async function* () {
      yield 0;
      throw new Error('boom');
    });
    server.on('error', () => {});
    const timersBefore = activeTimers();
    const shared = new AbortController();
    for (let round = 0; round < 100; round++) {
      const work: Promise<unknown>[] = [];
      for (let i = 0; i < 5; i++) {
        work.push(
          (async () => {
            const items: unknown[] = [];
            for await (const item of client.stream('three', undefined, { signal: shared.signal, timeoutMs: 60_000 })) items.push(item);
            expect(items).toEqual([1, 2, 3]);
          })(),
        );
      }
      work.push(
        (async () => {
          for await (const item of client.stream<number>('endless', undefined, { signal: shared.signal })) if (item === 5) break;
        })(),
      );
      work.push(
        (async () => {
          const controller = new AbortController();
          const stream = client.stream('endless', undefined, { signal: controller.signal, timeoutMs: 60_000 });
          await stream.next();
          controller.abort();
          await expect(stream.next()).rejects.toMatchObject({ code: RpcErrorCode.ABORTED });
        })(),
      );
      work.push(
        (async () => {
          const stream = client.stream('fails');
          expect(await stream.next()).toEqual({ value: 0, done: false });
          await expect(stream.next()).rejects.toMatchObject({ code: RpcErrorCode.REMOTE, remoteCode: 'INTERNAL' });
        })(),
      );
      await Promise.all(work);
    }
    // Cancelled streams stay taken until the handler side confirms the end: one round trip.
    await client.request('ping');
    await expect.poll(() => client.peer!.stats.openStreams).toBe(0);
    await expect.poll(() => peer.stats.openStreams).toBe(0);
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
    expect(activeTimers()).toBeLessThanOrEqual(timersBefore);
    expect(client.peer!.stats.itemsIn).toBeGreaterThanOrEqual(100 * 5 * 3);
  });
});
