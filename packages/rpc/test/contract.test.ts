import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineContract, methodName, schemasIn, validate, type ParamsInput, type ResultOutput } from '../src/contract.js';
import { InvalidArgError } from '../src/errors.js';

const api = defineContract({
  'math::add': { params: z.object({ a: z.number(), b: z.number() }), result: z.number() },
  'text::upper': { params: z.string().transform((s) => s.trim()), result: z.string() },
});

describe('contracts', () => {
  it('infer params and result types', () => {
    type D = typeof api.methods;
    expectTypeOf<ParamsInput<D, 'math::add'>>().toEqualTypeOf<{ a: number; b: number }>();
    expectTypeOf<ResultOutput<D, 'math::add'>>().toEqualTypeOf<number>();
  });

  it('validate and transform params', () => {
    const schemas = schemasIn(api.methods, 'text::upper');
    expect(schemas).toBeDefined();
    expect(validate(schemas!.params, '  hi ')).toEqual({ ok: true, value: 'hi' });
  });

  it('report readable zod issues on bad params', () => {
    const result = validate(schemasIn(api.methods, 'math::add')!.params, { a: 'x' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toContain('a');
    expect(result.issues).toEqual([
      expect.objectContaining({ path: ['a'], code: 'invalid_type' }),
      expect.objectContaining({ path: ['b'], code: 'invalid_type' }),
    ]);
    expect(JSON.parse(JSON.stringify(result.issues))).toEqual(result.issues);
  });

  it('know only their own methods', () => {
    expect(schemasIn(api.methods, 'toString')).toBeUndefined();
    expect(schemasIn(undefined, 'math::add')).toBeUndefined();
  });

  it('refuse definitions without zod schemas', () => {
    expect(() => defineContract({ bad: { params: {} as z.ZodType, result: z.number() } })).toThrow(InvalidArgError);
  });

  it('join method segments', () => {
    expect(methodName(['a', 'b'])).toBe('a::b');
    expect(methodName('a::b')).toBe('a::b');
  });
});
