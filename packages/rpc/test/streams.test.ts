import { afterEach, describe, expect, it } from 'vitest';
import { type RpcPeer, RpcError, RpcErrorCode, type StreamContext } from '../src/index.js';
import { collect, deferred, failure, next, Resources } from './helpers.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

/** A round trip to the server: anything it sent or processed before is settled by then. */
async function roundTrip(client: { request(method: string): Promise<unknown> }): Promise<void> {
  await client.request('ping');
}

describe('server streaming', () => {
  it('delivers every item in order, then ends the loop', async () => {
    const { server, client } = await resources.pair();
    server.handleStream('count::up', async function* ({ n }: { n: number }) {
      for (let i = 1; i <= n; i++) yield i;
    });
    expect(await collect(client.stream('count::up', { n: 50 }))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    // Plain iterables, raw bytes and undefined items too.
    server.handleStream('mixed', () => [null, { a: [1] }, Buffer.from([1, 2]), 'x']);
    const mixed = await collect(client.stream(['mixed']));
    expect(mixed).toEqual([null, { a: [1] }, Buffer.from([1, 2]), 'x']);
    expect(client.peer!.stats.openStreams).toBe(0);
  });

  it('holds a generator at its yield while the consumer does not read (produced - consumed <= highWaterMark)', async () => {
    const { server, client } = await resources.pair();
    server.handle('ping', () => 'pong');
    const highWaterMark = 4;
    let produced = 0;
    let consumed = 0;
    let worstLead = 0;
    const reachedWindow = deferred();
    server.handleStream('ticks', async function* () {
      for (;;) {
        produced++;
        worstLead = Math.max(worstLead, produced - consumed);
        if (produced === highWaterMark) reachedWindow.resolve();
        yield produced;
      }
    });
    const ticks = client.stream<number>('ticks', undefined, { highWaterMark });
    await reachedWindow.promise;
    // Nothing consumed: several round trips later the generator still waits at its 4th yield.
    for (let i = 0; i < 5; i++) await roundTrip(client);
    expect(produced).toBe(highWaterMark);
    for await (const tick of ticks) {
      consumed++;
      expect(tick).toBe(consumed);
      if (consumed === 200) break;
      if (consumed % 50 === 0) await roundTrip(client); // a slow moment
    }
    expect(worstLead).toBeLessThanOrEqual(highWaterMark);
    expect(produced).toBeLessThanOrEqual(consumed + highWaterMark);
    await roundTrip(client);
    expect(server.peers.values().next().value!.stats.openStreams).toBe(0);
  });

  it('delivers the items sent before a handler error, then the error shapes of requests', async () => {
    const { server, client } = await resources.pair();
    const errors: Error[] = [];
    server.on('error', (error) => errors.push(error));
    server.handleStream('fails', async function* () {
      yield 1;
      yield 2;
      throw new RpcError('E_TEAPOT', 'short and stout', { spout: true });
    });
    server.handleStream('crashes', async function* () {
      yield 'a';
      throw new Error('secret detail /etc/passwd');
    });
    server.handle('plain', () => 1);
    const fails = await failure(client.stream('fails'));
    expect(fails.items).toEqual([1, 2]);
    expect(fails.error).toMatchObject({ code: RpcErrorCode.REMOTE, remoteCode: 'E_TEAPOT', message: 'short and stout', data: { spout: true } });
    const crashes = await failure(client.stream('crashes'));
    expect(crashes.items).toEqual(['a']);
    expect(crashes.error).toMatchObject({ code: RpcErrorCode.REMOTE, remoteCode: 'INTERNAL' });
    expect(crashes.error.message).not.toContain('passwd');
    expect(errors.map((e) => e.message)).toEqual(['secret detail /etc/passwd']);
    // A request method is not a stream, and the other way round.
    expect((await failure(client.stream('plain'))).error.code).toBe(RpcErrorCode.METHOD_NOT_FOUND);
    expect((await failure(client.stream('nope'))).error).toMatchObject({ code: RpcErrorCode.METHOD_NOT_FOUND, method: 'nope' });
    await expect(client.request('fails')).rejects.toMatchObject({ code: RpcErrorCode.METHOD_NOT_FOUND });
    // A handler that returns no iterable.
    server.handleStream('broken', (() => 42) as never);
    expect((await failure(client.stream('broken'))).error).toMatchObject({ remoteCode: 'INTERNAL' });
  });

  it('break cancels on the wire: ctx.signal aborts and the generator finally runs; nothing after break', async () => {
    const { server, client } = await resources.pair();
    const finallyRan = deferred();
    let ctxSeen: StreamContext | undefined;
    server.handleStream('forever', async function* (_params, ctx) {
      ctxSeen = ctx;
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        finallyRan.resolve();
      }
    });
    const stream = client.stream<number>('forever');
    const seen: number[] = [];
    for await (const item of stream) {
      seen.push(item);
      if (item === 2) break;
    }
    expect(seen).toEqual([0, 1, 2]);
    await finallyRan.promise;
    expect(ctxSeen!.signal.aborted).toBe(true);
    expect(ctxSeen!.signal.reason).toMatchObject({ code: RpcErrorCode.ABORTED });
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('a signal cancels with ERR_ABORTED; an aborted signal sends nothing', async () => {
    const { server, client } = await resources.pair();
    const finallyRan = deferred();
    let calls = 0;
    server.handleStream('slow', async function* (_params, ctx) {
      calls++;
      try {
        yield 'first';
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
      } finally {
        finallyRan.resolve();
      }
    });
    const controller = new AbortController();
    const stream = client.stream('slow', undefined, { signal: controller.signal });
    expect(await stream.next()).toEqual({ value: 'first', done: false });
    const pending = stream.next();
    controller.abort(new Error('user gave up'));
    await expect(pending).rejects.toMatchObject({ code: RpcErrorCode.ABORTED });
    await finallyRan.promise;
    expect((await failure(client.stream('slow', undefined, { signal: AbortSignal.abort() }))).error.code).toBe(RpcErrorCode.ABORTED);
    await roundTrip((server.handle('ping', () => 1), client));
    expect(calls).toBe(1);
  });

  it('ERR_NOT_CONNECTED without a link, and ERR_PEER_NOT_FOUND from server.stream for an unknown peer', async () => {
    const { server, port } = await resources.server();
    const client = resources.client(port);
    expect((await failure(client.stream('x'))).error.code).toBe(RpcErrorCode.NOT_CONNECTED);
    expect((await failure(server.stream('peer-none', 'x'))).error.code).toBe(RpcErrorCode.PEER_NOT_FOUND);
  });

  it('refuses streams past maxConcurrentStreams with ERR_OVERLOADED', async () => {
    const { server, client } = await resources.pair({ maxConcurrentStreams: 2 });
    server.handleStream('hold', async function* () {
      yield 'open';
      await new Promise(() => {});
    });
    const first = client.stream('hold');
    const second = client.stream('hold');
    expect((await first.next()).value).toBe('open');
    expect((await second.next()).value).toBe('open');
    expect((await failure(client.stream('hold'))).error.code).toBe(RpcErrorCode.OVERLOADED);
    await first.return!();
    await roundTrip((server.handle('ping', () => 1), client));
    const third = client.stream('hold');
    expect((await third.next()).value).toBe('open');
  });

  it('ends the stream on both sides with ERR_CONNECTION_CLOSED when the link is lost', async () => {
    const { server, client, peer } = await resources.pair();
    const finallyRan = deferred();
    let reason: unknown;
    server.handleStream('hold', async function* (_params, ctx) {
      try {
        yield 1;
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        reason = ctx.signal.reason;
      } finally {
        finallyRan.resolve();
      }
    });
    const stream = client.stream('hold');
    expect((await stream.next()).value).toBe(1);
    const pending = stream.next();
    peer.destroy();
    await expect(pending).rejects.toMatchObject({ code: RpcErrorCode.CONNECTION_CLOSED });
    await finallyRan.promise;
    expect(reason).toMatchObject({ code: RpcErrorCode.CONNECTION_CLOSED });
  });
});

describe('client and bidirectional streaming', () => {
  it('client streaming: ctx.input yields what the caller sends, then ends', async () => {
    const { server, client } = await resources.pair();
    server.handleStream('sum', async function* (_params, ctx: StreamContext<number>) {
      let total = 0;
      for await (const n of ctx.input) total += n;
      yield total;
    });
    expect(await collect(client.stream('sum', undefined, { input: [1, 2, 3, 4] }))).toEqual([10]);
    async function* numbers(): AsyncGenerator<number> {
      for (let i = 0; i < 100; i++) yield i;
    }
    expect(await collect(client.stream('sum', undefined, { input: numbers() }))).toEqual([4950]);
    // Without input, ctx.input is empty.
    expect(await collect(client.stream('sum'))).toEqual([0]);
  });

  it('bidirectional: items flow both ways at once', async () => {
    const { server, client } = await resources.pair();
    server.handleStream('double', async function* (_params, ctx: StreamContext<number>) {
      for await (const n of ctx.input) yield n * 2;
    });
    async function* input(): AsyncGenerator<number> {
      for (let i = 0; i < 200; i++) yield i;
    }
    const out = await collect(client.stream<number>('double', undefined, { input: input(), highWaterMark: 3 }));
    expect(out).toEqual(Array.from({ length: 200 }, (_, i) => i * 2));
  });

  it("never pulls the caller's input beyond the handler's credit (16)", async () => {
    const { server, client } = await resources.pair();
    server.handle('ping', () => 1);
    let pulled = 0;
    const inputClosed = deferred();
    async function* input(): AsyncGenerator<number> {
      try {
        for (;;) yield ++pulled;
      } finally {
        inputClosed.resolve();
      }
    }
    const handlerStarted = deferred();
    const release = deferred();
    server.handleStream('ignores-input', async function* () {
      handlerStarted.resolve();
      await release.promise;
      yield 'done';
    });
    const stream = client.stream('ignores-input', undefined, { input: input() });
    const first = stream.next();
    await handlerStarted.promise;
    for (let i = 0; i < 5; i++) await roundTrip(client);
    expect(pulled).toBe(16);
    release.resolve();
    expect((await first).value).toBe('done');
    expect((await stream.next()).done).toBe(true);
    await inputClosed.promise;
    expect(pulled).toBe(16);
  });

  it('a failing input fails the stream with its error and cancels the handler', async () => {
    const { server, client } = await resources.pair();
    const finallyRan = deferred();
    server.handleStream('reads', async function* (_params, ctx) {
      try {
        for await (const item of ctx.input) yield item;
      } finally {
        finallyRan.resolve();
      }
    });
    async function* input(): AsyncGenerator<number> {
      yield 1;
      throw new Error('input broke');
    }
    const { error } = await failure(client.stream('reads', undefined, { input: input() }));
    expect(error.message).toBe('input broke');
    await finallyRan.promise;
  });

  it("the server breaking out of server.stream cancels the client's generator (its finally runs)", async () => {
    const { server, client, peer } = await resources.pair();
    const finallyRan = deferred();
    let aborted = false;
    client.handleStream('ui::ticks', async function* (_params, ctx) {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        aborted = ctx.signal.aborted;
        finallyRan.resolve();
      }
    });
    for await (const tick of server.stream<number>(peer.id, 'ui::ticks')) if (tick === 3) break;
    await finallyRan.promise;
    expect(aborted).toBe(true);
    await expect.poll(() => peer.stats.openStreams).toBe(0);
  });

  it('server.stream(peerId) reaches client.handleStream, with input', async () => {
    const { server, client, peer } = await resources.pair();
    client.handleStream('ui::echo', async function* (prefix: string, ctx: StreamContext<string>) {
      for await (const line of ctx.input) yield `${prefix}${line}`;
    });
    expect(await collect(server.stream(peer.id, 'ui::echo', '> ', { input: ['a', 'b'] }))).toEqual(['> a', '> b']);
    expect(await collect(peer.stream('ui::echo', '# ', { input: ['c'] }))).toEqual(['# c']);
  });
});

describe('stream limits and observability', () => {
  it('an item over the frame limit fails the stream with ERR_RESULT_TOO_LARGE (ERROR kind 5), like an oversize result, both ways', async () => {
    const { server, client } = await resources.pair({ maxFrameBytes: 64 * 1024 }, { maxFrameBytes: 64 * 1024 });
    const errors: Error[] = [];
    server.on('error', (error) => errors.push(error));
    const finallyRan = deferred();
    server.handleStream('big', async function* () {
      try {
        yield 'small';
        yield Buffer.alloc(100 * 1024);
        yield 'never';
      } finally {
        finallyRan.resolve();
      }
    });
    const { items, error } = await failure(client.stream('big'));
    expect(items).toEqual(['small']);
    expect(error).toMatchObject({ code: RpcErrorCode.RESULT_TOO_LARGE, message: expect.stringMatching(/item of stream big .*frame limit/) });
    // The side that tried to send it reports it too, with framing's error as the cause.
    expect(errors[0]).toMatchObject({ code: RpcErrorCode.RESULT_TOO_LARGE, cause: { code: RpcErrorCode.FRAME_TOO_LARGE } });
    await finallyRan.promise;
    // JSON items too, batched or not.
    server.handleStream('bigJson', async function* () {
      yield 1;
      yield 'x'.repeat(70 * 1024);
    });
    const json = await failure(client.stream('bigJson'));
    expect(json.items).toEqual([1]);
    expect(json.error.code).toBe(RpcErrorCode.RESULT_TOO_LARGE);
    // The caller's own input item too large: its loop rejects with the same code, and the handler is cancelled.
    const handlerAborted = deferred();
    server.handleStream('sink', async function* (_p, ctx) {
      ctx.signal.addEventListener('abort', () => handlerAborted.resolve());
      for await (const _item of ctx.input) yield 'got one';
    });
    const input = await failure(client.stream('sink', undefined, { input: ['fits', Buffer.alloc(100 * 1024)] }));
    expect(input.error).toMatchObject({ code: RpcErrorCode.RESULT_TOO_LARGE, message: expect.stringMatching(/input item of stream sink/) });
    expect(input.error.cause).toMatchObject({ code: RpcErrorCode.FRAME_TOO_LARGE });
    await handlerAborted.promise;
  });

  it('publishes stream:start / stream:end and counts streams and items in peer stats', async () => {
    const diagnostics = await import('node:diagnostics_channel');
    const { server, client, peer } = await resources.pair();
    const seen: { channel: string; message: Record<string, unknown> }[] = [];
    const onStart = (message: unknown): void => void seen.push({ channel: 'start', message: message as Record<string, unknown> });
    const onEnd = (message: unknown): void => void seen.push({ channel: 'end', message: message as Record<string, unknown> });
    diagnostics.subscribe('proto:rpc:stream:start', onStart);
    diagnostics.subscribe('proto:rpc:stream:end', onEnd);
    try {
      server.handleStream('three', () => [1, 2, 3]);
      expect(await collect(client.stream('three'))).toEqual([1, 2, 3]);
      await roundTrip((server.handle('ping', () => 1), client));
    } finally {
      diagnostics.unsubscribe('proto:rpc:stream:start', onStart);
      diagnostics.unsubscribe('proto:rpc:stream:end', onEnd);
    }
    const starts = seen.filter((s) => s.channel === 'start').map((s) => s.message);
    const ends = seen.filter((s) => s.channel === 'end').map((s) => s.message);
    expect(starts.map((s) => s['direction']).sort()).toEqual(['incoming', 'outgoing']);
    expect(ends.find((e) => e['direction'] === 'outgoing')).toMatchObject({ method: 'three', itemsIn: 3, itemsOut: 0 });
    expect(ends.find((e) => e['direction'] === 'incoming')).toMatchObject({ method: 'three', itemsOut: 3, peerId: peer.id });
    expect(client.peer!.stats).toMatchObject({ itemsIn: 3, itemsOut: 0, openStreams: 0 });
    expect(peer.stats).toMatchObject({ itemsIn: 0, itemsOut: 3, openStreams: 0 });
  });

  it('graceful close waits for a stream in progress to finish', async () => {
    const { server, client } = await resources.pair();
    const release = deferred();
    server.handleStream('finishing', async function* () {
      yield 1;
      await release.promise;
      yield 2;
    });
    const stream = client.stream('finishing');
    expect((await stream.next()).value).toBe(1);
    const closedAt = server.close();
    let closed = false;
    void closedAt.then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    release.resolve();
    expect((await stream.next()).value).toBe(2);
    expect((await stream.next()).done).toBe(true);
    await closedAt;
  });
});

export type { RpcPeer };
void next;
