import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineContract, RpcClient, RpcErrorCode, RpcServer, type StreamContext } from '../src/index.js';
import { deferred, Resources } from './helpers.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

const api = defineContract(
  {
    'logs::tail': { params: z.object({ lines: z.number().int().positive() }), item: z.object({ line: z.string() }), stream: true },
    'math::sum': { params: z.undefined(), item: z.number(), input: z.number(), stream: true },
    'math::add': { params: z.object({ a: z.number(), b: z.number() }), result: z.number() },
  },
  { client: { 'ui::progress': { params: z.string(), item: z.number().min(0).max(100), stream: true } } },
);

describe('stream contracts', () => {
  it('type handleStream and stream: the item type flows into the for-await variable', () => {
    const server = new RpcServer({ password: 'x', contract: api });
    server.handleStream('logs::tail', async function* ({ lines }, ctx) {
      expectTypeOf(lines).toEqualTypeOf<number>();
      expectTypeOf(ctx).toEqualTypeOf<StreamContext<unknown>>();
      yield { line: 'a' };
    });
    server.handleStream('math::sum', async function* (_params, ctx) {
      expectTypeOf(ctx.input).toEqualTypeOf<AsyncIterableIterator<number>>();
      yield 1;
    });
    // @ts-expect-error items must match the contract
    server.handleStream('logs::tail', async function* () {
      yield 42;
    });
    // @ts-expect-error not a stream of the contract
    server.handleStream('math::add', async function* () {});
    const client = new RpcClient({ port: 1, password: 'x', contract: api });
    const consume = async (): Promise<void> => {
      for await (const item of client.stream('logs::tail', { lines: 3 })) expectTypeOf(item).toEqualTypeOf<{ line: string }>();
      for await (const total of client.stream('math::sum', undefined, { input: [1, 2] })) expectTypeOf(total).toEqualTypeOf<number>();
      // @ts-expect-error params are required and typed
      client.stream('logs::tail', { lines: 'many' });
      // @ts-expect-error input items are typed
      client.stream('math::sum', undefined, { input: ['x'] });
    };
    void consume;
    client.handleStream('ui::progress', async function* (label) {
      expectTypeOf(label).toEqualTypeOf<string>();
      yield 50;
    });
    expectTypeOf(server.stream('peer-1', 'ui::progress', 'x')).toEqualTypeOf<AsyncIterableIterator<number>>();
    // Untyped sides take an item type argument.
    const untyped = new RpcClient({ port: 1, password: 'x' });
    expectTypeOf(untyped.stream<string>('anything')).toEqualTypeOf<AsyncIterableIterator<string>>();
  });

  it('validates params before the handler runs (ERR_INVALID_PARAMS with the issues)', async () => {
    const { server, client } = await resources.pair({ contract: api }, { contract: api });
    let calls = 0;
    server.handleStream('logs::tail', async function* () {
      calls++;
      yield { line: 'x' };
    });
    const stream = client.stream('logs::tail', { lines: -1 });
    await expect(stream.next()).rejects.toMatchObject({ code: RpcErrorCode.INVALID_PARAMS, data: [expect.objectContaining({ path: ['lines'] })] });
    expect(calls).toBe(0);
  });

  it('a bad item ends the stream with ERR_INVALID_PARAMS on the receiving side and cancels the producer', async () => {
    const { server, client } = await resources.pair({ contract: api }, { contract: api });
    const finallyRan = deferred();
    server.handleStream('logs::tail', async function* () {
      try {
        yield { line: 'good' };
        yield { line: 42 } as unknown as { line: string };
        for (;;) yield { line: 'more' };
      } finally {
        finallyRan.resolve();
      }
    });
    const stream = client.stream('logs::tail', { lines: 1 });
    expect(await stream.next()).toEqual({ value: { line: 'good' }, done: false });
    await expect(stream.next()).rejects.toMatchObject({ code: RpcErrorCode.INVALID_PARAMS });
    await finallyRan.promise;
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('a bad input item fails the stream with ERR_INVALID_PARAMS on the handler side, and the caller hears it', async () => {
    const { server, client } = await resources.pair({ contract: api }, { contract: api });
    const handlerSaw = deferred<unknown>();
    const inputClosed = deferred();
    server.handleStream('math::sum', async function* (_params, ctx) {
      let total = 0;
      try {
        for await (const n of ctx.input) total += n;
      } catch (error) {
        handlerSaw.resolve(error);
        throw error;
      }
      yield total;
    });
    async function* input(): AsyncGenerator<number> {
      try {
        yield 1;
        yield 'two' as unknown as number;
        for (;;) yield 3;
      } finally {
        inputClosed.resolve();
      }
    }
    const stream = client.stream('math::sum', undefined, { input: input() });
    await expect(stream.next()).rejects.toMatchObject({ code: RpcErrorCode.INVALID_PARAMS });
    expect(await handlerSaw.promise).toMatchObject({ code: RpcErrorCode.INVALID_PARAMS });
    await inputClosed.promise;
  });

  it('client streams are validated on the client', async () => {
    const { server, client, peer } = await resources.pair({ contract: api }, { contract: api });
    client.handleStream('ui::progress', async function* () {
      yield 10;
      yield 500;
    });
    const stream = server.stream(peer.id, 'ui::progress', 'upload');
    expect((await stream.next()).value).toBe(10);
    await expect(stream.next()).rejects.toMatchObject({ code: RpcErrorCode.INVALID_PARAMS });
  });

  it('defineContract refuses a stream entry without item schema', () => {
    expect(() => defineContract({ bad: { params: z.number(), stream: true } as never })).toThrow(/item/);
  });
});
