import { afterEach, describe, expect, it } from 'vitest';
import { RpcErrorCode } from '../src/index.js';
import { collect, failure, Resources } from './helpers.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

// JSON.stringify would drop these silently ({ f: () => 1 } becomes {}): streams refuse them as requests do.
describe('stream values JSON cannot carry as they are', () => {
  it('params with a function or a symbol: ERR_INVALID_ARG, the handler never runs', async () => {
    const { server, client } = await resources.pair();
    let ran = 0;
    server.handleStream('s::n', function* () {
      ran++;
      yield 1;
    });
    for (const params of [{ f: () => 1, n: 1 }, { nested: [{ s: Symbol('x') }] }]) {
      const { items, error } = await failure(client.stream('s::n', params));
      expect(items).toEqual([]);
      expect(error.code).toBe(RpcErrorCode.INVALID_ARG);
      expect(error.message).toMatch(/params of stream s::n cannot be sent as JSON: a (function|symbol) at params\./);
    }
    expect(await collect(client.stream('s::n', { n: 1 }))).toEqual([1]);
    expect(ran).toBe(1);
  });

  it('an item with a function: the caller gets the items before it, then INTERNAL; the server reports ERR_INVALID_ARG', async () => {
    const { server, client } = await resources.pair();
    const errors: Error[] = [];
    server.on('error', (error) => errors.push(error));
    let closed = false;
    server.handleStream('s::bad', async function* () {
      try {
        yield { a: 1 };
        yield { f: () => 1, a: 2 };
        yield { a: 3 };
      } finally {
        closed = true;
      }
    });
    const { items, error } = await failure(client.stream('s::bad'));
    expect(items).toEqual([{ a: 1 }]);
    expect(error.code).toBe(RpcErrorCode.REMOTE);
    expect(error.remoteCode).toBe('INTERNAL');
    expect(closed).toBe(true);
    expect(errors.map((e) => (e as Error & { code?: string }).code)).toContain(RpcErrorCode.INVALID_ARG);
  });

  it('an input item with a symbol fails the caller with ERR_INVALID_ARG; the handler saw only the items before it', async () => {
    const { server, client } = await resources.pair();
    const seen: unknown[] = [];
    server.handleStream('s::sum', async function* (_params, ctx) {
      for await (const item of ctx.input) seen.push(item);
      yield seen.length;
    });
    const { error } = await failure(client.stream('s::sum', undefined, { input: [{ a: 1 }, { s: Symbol('x'), a: 2 }] }));
    expect(error.code).toBe(RpcErrorCode.INVALID_ARG);
    expect(error.message).toMatch(/an input item of stream s::sum cannot be sent as JSON: a symbol at item\.s/);
    expect(seen).not.toContainEqual({ a: 2 });
  });
});
