import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineContract, DESCRIBE_METHOD, type DescribeResult, RpcClient, RpcServer, type RpcServerOptions } from '../src/index.js';
import { describeMethods } from '../src/describe.js';
import { PASSWORD } from './helpers.js';

const api = defineContract({
  'math::add': { params: z.object({ a: z.number(), b: z.number() }), result: z.number() },
  'text::trim': { params: z.string().transform((s) => s.trim()), result: z.string() },
});

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

async function start(options: Partial<RpcServerOptions<typeof api.methods>>): Promise<{ server: RpcServer<typeof api.methods>; client: RpcClient }> {
  const server = new RpcServer({ password: PASSWORD, keepAlive: false, ...options });
  open.push(server);
  const { port } = (await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number };
  const client = new RpcClient({ host: '127.0.0.1', port, password: PASSWORD, keepAlive: false });
  open.push(client);
  await client.connect();
  return { server, client };
}

describe('describe: true', () => {
  it('lists handled methods, sorted, with contract schemas as JSON Schema', async () => {
    const { server, client } = await start({ describe: true, contract: api });
    server.handle('math::add', ({ a, b }) => a + b);
    server.handle(['echo'], (params) => params); // not in the contract
    const answer = (await client.request(DESCRIBE_METHOD)) as DescribeResult;
    expect(answer.version).toBe(1);
    expect(answer.methods.map((m) => m.name)).toEqual(['echo', 'math::add']);
    const [echo, add] = answer.methods;
    expect(echo).toEqual({ name: 'echo', kind: 'request' });
    expect(add!.kind).toBe('request');
    expect(add!.schemas!.params).toMatchObject({
      type: 'object',
      properties: { a: { type: 'number' }, b: { type: 'number' } },
      required: ['a', 'b'],
    });
    expect(add!.schemas!.result).toMatchObject({ type: 'number' });
  });

  it('follows handlers registered and removed later', async () => {
    const { server, client } = await start({ describe: true });
    server.handle(['a', 'b'], () => 1);
    expect(((await client.request(DESCRIBE_METHOD)) as DescribeResult).methods).toEqual([{ name: 'a::b', kind: 'request' }]);
    server.removeHandler('a::b');
    expect(((await client.request(DESCRIBE_METHOD)) as DescribeResult).methods).toEqual([]);
  });

  it('lists stream handlers as kind stream, with their params and item schemas', async () => {
    const streams = defineContract({
      'count::up': { params: z.object({ n: z.number().int() }), item: z.number(), stream: true },
    });
    const server = new RpcServer({ password: PASSWORD, keepAlive: false, describe: true, contract: streams });
    open.push(server);
    server.handleStream('count::up', async function* ({ n }) {
      for (let i = 1; i <= n; i++) yield i;
    });
    const { port } = (await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number };
    const client = new RpcClient({ host: '127.0.0.1', port, password: PASSWORD, keepAlive: false });
    open.push(client);
    await client.connect();
    const answer = (await client.request(DESCRIBE_METHOD)) as DescribeResult;
    expect(answer.methods).toEqual([
      {
        name: 'count::up',
        kind: 'stream',
        schemas: { params: expect.objectContaining({ type: 'object', required: ['n'] }), item: expect.objectContaining({ type: 'number' }) },
      },
    ]);
  });

  it('is off by default: the reserved method is not found', async () => {
    const { server, client } = await start({});
    server.handle(['echo'], (params) => params);
    await expect(client.request(DESCRIBE_METHOD)).rejects.toMatchObject({ code: 'ERR_METHOD_NOT_FOUND' });
  });

  it('rejects a describe option that is not a boolean', () => {
    expect(() => new RpcServer({ password: PASSWORD, describe: 'yes' as unknown as boolean })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG' }),
    );
  });
});

describe('describeMethods', () => {
  it('converts params on the input side and results on the output side', () => {
    const answer = describeMethods({ requests: new Map([['text::trim', null]]), methods: api.methods });
    expect(answer.methods[0]!.schemas).toEqual({
      params: expect.objectContaining({ type: 'string' }),
      result: expect.objectContaining({ type: 'string' }),
    });
  });

  it('lists streams with their kind and skips reserved names', () => {
    const answer = describeMethods({
      requests: new Map([[DESCRIBE_METHOD, null], ['x', null]]),
      streams: new Map([['count::up', null]]),
    });
    expect(answer.methods).toEqual([
      { name: 'count::up', kind: 'stream' },
      { name: 'x', kind: 'request' },
    ]);
  });

  it('keeps a method whose schema JSON Schema cannot express, with an open schema', () => {
    const custom = defineContract({ 'odd::one': { params: z.custom<string>(() => true), result: z.bigint() } });
    const answer = describeMethods({ requests: new Map([['odd::one', null]]), methods: custom.methods });
    expect(answer.methods[0]!.name).toBe('odd::one');
    expect(answer.methods[0]!.schemas!.params).toBeDefined();
  });
});
