import { setImmediate as flush } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ClusterHost, type ClusterMember, PeerNotFoundError, type RequestOptions, RpcErrorCode } from '@proto/rpc';
import { createMemoryCluster } from '../src/index.js';
import { decodeMessage, encodeBatch, encodeMessage, isBatch, splitBatch } from '../src/envelope.js';
import { rejection } from './helpers.js';

// The caller's side of routed requests: deadlines on one shared timer, no abort machinery unless
// the caller passed a signal, and requests of one tick published as one batch.

interface Seen {
  readonly options: RequestOptions;
  resolve(value: unknown): void;
}

/** A holder whose peer's requests wait until the test answers them. */
function holderHost(seen: Seen[]): ClusterHost {
  return {
    broadcastLocal: () => 0,
    sendLocal: (peerId) => {
      throw new PeerNotFoundError('no', peerId);
    },
    requestLocal: (_peerId, _method, _params, options) =>
      new Promise((resolve) => {
        seen.push({ options, resolve });
      }),
    requestTimeoutMs: 1000,
    reportError: () => {},
  };
}

function callerHost(): ClusterHost {
  return { ...holderHost([]), requestLocal: () => Promise.reject(new Error('not here')) };
}

const members: ClusterMember[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const member of members.splice(0)) await member.leave();
});

/** Messages in flight through the memory cluster arrive (it delivers in microtasks). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await flush();
}

async function pair(seen: Seen[]): Promise<{ caller: ClusterMember; peerId: string; stats: () => { messagesOut: number } }> {
  const cluster = createMemoryCluster();
  const caller = cluster.join(callerHost());
  const holder = cluster.join(holderHost(seen));
  members.push(caller, holder);
  await settle();
  return { caller, peerId: holder.nextPeerId(), stats: () => cluster.stats };
}

describe('routed requests', () => {
  it('time out on one shared timer (fake timers), and the timer does not outlive them', async () => {
    const seen: Seen[] = [];
    const { caller, peerId } = await pair(seen);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const outcomes: string[] = [];
    const calls = Array.from({ length: 50 }, (_, i) =>
      caller.request(peerId, 'slow', i, { timeoutMs: 1000 }).then(
        (value) => outcomes.push(`answer ${String(value)}`),
        (error: Error & { code?: string }) => outcomes.push(error.code ?? 'no code'),
      ),
    );
    expect(vi.getTimerCount()).toBe(1); // fifty deadlines, one timer
    await settle();
    expect(seen).toHaveLength(50);
    // The holder runs each under the caller's timeout, without an AbortController of its own.
    expect(seen[0]!.options).toEqual({ timeoutMs: 1000 });
    seen[0]!.resolve('in time');
    await vi.advanceTimersByTimeAsync(999);
    await settle();
    expect(outcomes).toEqual(['answer in time']);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all(calls);
    expect(outcomes).toEqual(['answer in time', ...Array.from({ length: 49 }, () => RpcErrorCode.REQUEST_TIMEOUT)]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a caller signal reaches the holder: it aborts the peer request there', async () => {
    const seen: Seen[] = [];
    const { caller, peerId } = await pair(seen);
    const controller = new AbortController();
    const call = rejection(caller.request(peerId, 'slow', null, { timeoutMs: 5000, signal: controller.signal }));
    await settle();
    const signal = seen[0]!.options.signal;
    expect(signal?.aborted).toBe(false);
    controller.abort();
    expect((await call).code).toBe(RpcErrorCode.ABORTED);
    await settle();
    expect(signal?.aborted).toBe(true);
  });

  it('answers every request of a burst (one tick: one batch per node)', async () => {
    const seen: Seen[] = [];
    const { caller, peerId, stats } = await pair(seen);
    const before = stats().messagesOut;
    const calls = Array.from({ length: 10 }, (_, i) => caller.request(peerId, 'add', i, { timeoutMs: 0 }));
    await settle();
    expect(seen).toHaveLength(10);
    for (const [i, s] of seen.entries()) s.resolve(i * 2);
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 10 }, (_, i) => i * 2));
    expect(stats().messagesOut - before).toBe(20); // counted per message, whatever the batching
  });

  it('batches split back into their messages; a cut batch is refused', () => {
    const one = encodeMessage('p', 'n', 'k', { t: 'hb' });
    const two = encodeMessage('p', 'n', 'k', { t: 'b', e: 'x', v: Buffer.from([1, 2, 3]) });
    expect(encodeBatch([one])).toBe(one);
    const batch = encodeBatch([one, two]);
    expect(isBatch(batch)).toBe(true);
    expect(isBatch(one)).toBe(false);
    const parts = splitBatch(batch)!;
    expect(parts.map((part) => decodeMessage('p', part))).toEqual([decodeMessage('p', one), decodeMessage('p', two)]);
    expect(splitBatch(batch.subarray(0, batch.length - 1))).toBeUndefined();
    expect(splitBatch(batch.subarray(0, 3))).toBeUndefined();
  });
});
