import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { z } from 'zod';
import { defineContract, RpcErrorCode } from '../src/index.js';
import { Resources } from './helpers.js';

const resources = new Resources();
afterEach(() => resources.closeAll());

const api = defineContract({
  'math::add': { params: z.object({ a: z.number(), b: z.number() }), result: z.number() },
  'text::shout': { params: z.string().trim().min(1), result: z.string() },
  'lies::count': { params: z.undefined(), result: z.number() },
});

describe('contracts over the wire', () => {
  it('types request and handle, and the handler gets parsed params', async () => {
    const { server, client } = await resources.pair({ contract: api }, { contract: api });
    server.handle('math::add', ({ a, b }) => {
      expectTypeOf(a).toEqualTypeOf<number>();
      return a + b;
    });
    server.handle('text::shout', (text) => `${text.toUpperCase()}!`);
    const sum = await client.request('math::add', { a: 2, b: 3 });
    expectTypeOf(sum).toEqualTypeOf<number>();
    expect(sum).toBe(5);
    expect(await client.request('text::shout', '  hey  ')).toBe('HEY!');
  });

  it('answers bad params with ERR_INVALID_PARAMS and zod issues; the handler never runs', async () => {
    const { server, client } = await resources.pair({ contract: api });
    const handler = vi.fn((params: { a: number; b: number }) => params.a + params.b);
    server.handle('math::add', handler);
    // A caller that ignores the types (older contract, plain JS).
    const error = (await client.request('math::add', { a: 'one' } as unknown as { a: number; b: number }).catch((e: unknown) => e)) as {
      code: string;
      message: string;
      data: unknown;
    };
    expect(error.code).toBe(RpcErrorCode.INVALID_PARAMS);
    expect(error.message).toContain('math::add');
    expect(error.message).toMatch(/a/);
    expect(error.data).toEqual([
      expect.objectContaining({ code: 'invalid_type', path: ['a'] }),
      expect.objectContaining({ code: 'invalid_type', path: ['b'] }),
    ]);
    expect(handler).not.toHaveBeenCalled();
  });

  it('validates results on the client with validateResults', async () => {
    const { server, client } = await resources.pair({ contract: api }, { contract: api, validateResults: true });
    // The server handles lies::count without the contract's help and returns the wrong type.
    server.handle(['lies', 'count'], () => 'many');
    await expect(client.request('lies::count')).rejects.toMatchObject({
      code: RpcErrorCode.INVALID_RESULT,
      data: [expect.objectContaining({ code: 'invalid_type' })],
    });
  });

  it('does not validate results by default', async () => {
    const { server, client } = await resources.pair({ contract: api }, { contract: api });
    server.handle(['lies', 'count'], () => 'many');
    expect(await client.request('lies::count')).toBe('many');
  });

  it('types server.request and client.handle by the contract\'s client methods, validating params on the client', async () => {
    const twoWay = defineContract(
      { 'math::add': { params: z.object({ a: z.number(), b: z.number() }), result: z.number() } },
      { client: { 'ui::confirm': { params: z.object({ question: z.string().min(1) }), result: z.boolean() } } },
    );
    const { server, client, peer } = await resources.pair({ contract: twoWay }, { contract: twoWay });
    const asked: string[] = [];
    client.handle('ui::confirm', ({ question }) => {
      expectTypeOf(question).toEqualTypeOf<string>();
      asked.push(question);
      return question.endsWith('?');
    });
    const answer = await server.request(peer.id, 'ui::confirm', { question: 'deploy?' });
    expectTypeOf(answer).toEqualTypeOf<boolean>();
    expect(answer).toBe(true);
    await expect(server.request(peer.id, 'ui::confirm', { question: '' })).rejects.toMatchObject({
      code: RpcErrorCode.INVALID_PARAMS,
      data: [expect.objectContaining({ path: ['question'] })],
    });
    expect(asked).toEqual(['deploy?']);
    // The server's own methods are still typed and validated on the server.
    server.handle('math::add', ({ a, b }) => a + b);
    expect(await client.request('math::add', { a: 1, b: 2 })).toBe(3);
  });

  it('refuses client methods without zod schemas', () => {
    expect(() => defineContract({}, { client: { bad: { params: {} as z.ZodType, result: z.number() } } })).toThrow(
      expect.objectContaining({ code: RpcErrorCode.INVALID_ARG }),
    );
  });

  it('rejects invalid options with ERR_INVALID_ARG', () => {
    expect(() => resources.client(1, { requestTimeoutMs: -1 })).toThrow(expect.objectContaining({ code: RpcErrorCode.INVALID_ARG }));
    expect(() => resources.client(1, { password: '' })).toThrow(expect.objectContaining({ code: RpcErrorCode.INVALID_ARG }));
    expect(() => resources.client(1, { keepAlive: { intervalMs: 0 } })).toThrow(
      expect.objectContaining({ code: RpcErrorCode.INVALID_ARG }),
    );
  });
});
