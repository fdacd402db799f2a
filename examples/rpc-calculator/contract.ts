// The calculator's API, shared by server and client: method names, params and results as zod
// schemas. From this one object TypeScript types handle() and request() on both sides, and the
// server validates params before any handler runs.
import { defineContract } from '@proto/rpc';
import { z } from 'zod';

const pair = z.object({ a: z.number(), b: z.number() });

export const calculator = defineContract({
  'calc::add': { params: pair, result: z.number() },
  'calc::divide': { params: pair, result: z.number() },
  'calc::sum': { params: z.array(z.number()).max(10_000), result: z.number() },
  'calc::stats': {
    params: z.object({ values: z.array(z.number()).min(1) }),
    result: z.object({ min: z.number(), max: z.number(), mean: z.number() }),
  },
});

/** The contract's method map, for `RpcServer<Calculator>` / `RpcClient<Calculator>`. */
export type Calculator = typeof calculator.methods;
