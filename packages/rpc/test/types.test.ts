import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineContract, RpcClient, RpcServer, type RequestContext } from '../src/index.js';

// Compile-time checks (tsc runs over tests); the runtime part only constructs objects.
describe('public types', () => {
  it('untyped servers take annotated handlers and any method name', () => {
    const server = new RpcServer({ password: 'x' });
    server.handle('math::add', ({ a, b }: { a: number; b: number }) => a + b);
    server.handle('spec::style', ({ a, b }) => a + b); // the SPEC's quick start compiles as is
    server.handle(['math', 'neg'], (n: number) => -n);
    server.handle('anything', (params, ctx) => {
      expectTypeOf(params).toEqualTypeOf<unknown>();
      expectTypeOf(ctx).toEqualTypeOf<RequestContext>();
    });
    const client = new RpcClient({ port: 1, password: 'x' });
    expectTypeOf(() => client.request('math::add', { a: 1, b: 2 })).returns.toEqualTypeOf<Promise<unknown>>();
    expectTypeOf(() => client.request('nothing')).returns.toEqualTypeOf<Promise<unknown>>();
    client.handle('ui::ask', (question: string) => question.length);
  });

  it('contracts type handle and request', () => {
    const api = defineContract({
      'math::add': { params: z.object({ a: z.number(), b: z.number() }), result: z.number() },
      'time::now': { params: z.undefined(), result: z.string() },
    });
    const server = new RpcServer({ password: 'x', contract: api });
    server.handle('math::add', ({ a, b }) => a + b);
    // @ts-expect-error the result must be a number
    server.handle('math::add', () => 'three');
    // @ts-expect-error not in the contract
    server.handle('math::sub', () => 0);
    const client = new RpcClient({ port: 1, password: 'x', contract: api });
    expectTypeOf(() => client.request('math::add', { a: 1, b: 2 })).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(() => client.request('time::now')).returns.toEqualTypeOf<Promise<string>>();
    // @ts-expect-error params are required and typed
    const bad = () => client.request('math::add', { a: 1 });
    void bad;
    // Without client methods in the contract, server.request stays untyped.
    expectTypeOf(() => server.request('peer-1', 'ui::anything', 1)).returns.toEqualTypeOf<Promise<unknown>>();
    client.handle('ui::ask', (question: string) => question.length);
  });

  it('client methods of a contract type server.request and client.handle', () => {
    const api = defineContract(
      { 'math::add': { params: z.object({ a: z.number(), b: z.number() }), result: z.number() } },
      { client: { 'ui::confirm': { params: z.string(), result: z.boolean() }, 'ui::ping': { params: z.undefined(), result: z.literal('pong') } } },
    );
    const server = new RpcServer({ password: 'x', contract: api });
    expectTypeOf(() => server.request('peer-1', 'ui::confirm', 'deploy?')).returns.toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(() => server.request('peer-1', 'ui::ping')).returns.toEqualTypeOf<Promise<'pong'>>();
    // @ts-expect-error params are typed
    const badParams = () => server.request('peer-1', 'ui::confirm', 42);
    // @ts-expect-error a server method, not a client one
    const wrongSide = () => server.request('peer-1', 'math::add', { a: 1, b: 2 });
    void badParams;
    void wrongSide;
    expectTypeOf(() => server.request('peer-1', ['ui', 'confirm'], 'x')).returns.toEqualTypeOf<Promise<unknown>>();
    const client = new RpcClient({ port: 1, password: 'x', contract: api });
    client.handle('ui::confirm', (question) => {
      expectTypeOf(question).toEqualTypeOf<string>();
      return question.length > 0;
    });
    // @ts-expect-error the result must be a boolean
    client.handle('ui::confirm', () => 'yes');
    // @ts-expect-error not a client method
    client.handle('ui::other', () => true);
    expectTypeOf(() => client.request('math::add', { a: 1, b: 2 })).returns.toEqualTypeOf<Promise<number>>();
  });
});
