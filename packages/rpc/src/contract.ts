import { z } from 'zod';
import { InvalidArgError } from './errors.js';

/** Schemas of one method: what the caller sends and what the handler returns. */
export interface MethodSchemas {
  /** Validates params on the handling side; the handler gets the parsed output. */
  readonly params: z.ZodType;
  /** Describes the result; checked on the calling side with `validateResults: true`. */
  readonly result: z.ZodType;
}

/** Method name (`'a::b'`) to its schemas. */
export type ContractDefinition = { readonly [method: string]: MethodSchemas };

/** What an untyped client or server accepts: any method, unknown params and results. */
export type UntypedMethods = { readonly [method: string]: { readonly params: z.ZodType<unknown>; readonly result: z.ZodType<unknown> } };

const kContract = Symbol.for('@proto/rpc-contract');

/** A set of typed methods, from {@link defineContract}. */
export interface Contract<D extends ContractDefinition = ContractDefinition> {
  /** The method schemas, as given. */
  readonly methods: D;
  /** @internal brand */
  readonly [kContract]: true;
}

/**
 * Declare the methods a server handles, with zod schemas for params and result. Passing the
 * contract to `RpcServer` and `RpcClient` types `handle` and `request` (names, params, results),
 * validates params before any handler runs (`ERR_INVALID_PARAMS` with zod's issues otherwise), and
 * lets the client check results (`validateResults`).
 *
 * @example
 * const api = defineContract({
 *   'math::add': { params: z.object({ a: z.number(), b: z.number() }), result: z.number() },
 * });
 */
export function defineContract<const D extends ContractDefinition>(methods: D): Contract<D> {
  for (const [method, schemas] of Object.entries(methods)) {
    if (
      typeof schemas !== 'object' ||
      schemas === null ||
      !(schemas.params instanceof z.ZodType) ||
      !(schemas.result instanceof z.ZodType)
    ) {
      throw new InvalidArgError(`contract method ${method} needs zod schemas { params, result }`);
    }
  }
  return Object.freeze({ methods, [kContract]: true as const });
}

/** Method names of a contract. */
export type MethodName<D> = keyof D & string;
/** Params as the caller writes them. */
export type ParamsInput<D, M extends keyof D> = D[M] extends MethodSchemas ? z.input<D[M]['params']> : unknown;
/** Params as the handler receives them (after parsing). */
export type ParamsOutput<D, M extends keyof D> = D[M] extends MethodSchemas ? z.output<D[M]['params']> : unknown;
/** What the handler returns. */
export type ResultInput<D, M extends keyof D> = D[M] extends MethodSchemas ? z.input<D[M]['result']> : unknown;
/** What the caller receives. */
export type ResultOutput<D, M extends keyof D> = D[M] extends MethodSchemas ? z.output<D[M]['result']> : unknown;

/** Schemas for `method`, if the contract has it. */
export function schemasOf(contract: Contract | undefined, method: string): MethodSchemas | undefined {
  if (contract === undefined) return undefined;
  return Object.hasOwn(contract.methods, method) ? contract.methods[method] : undefined;
}

/** Outcome of a validation. */
export type Validation = { ok: true; value: unknown } | { ok: false; message: string; issues: unknown };

/** Run `schema` over `value`, returning zod's issues and readable message on failure. */
export function validate(schema: z.ZodType, value: unknown): Validation {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, message: z.prettifyError(parsed.error), issues: toPlainIssues(parsed.error.issues) };
}

// Issues go over the wire as JSON; keep the useful fields and drop anything that is not plain data.
function toPlainIssues(issues: readonly z.core.$ZodIssue[]): unknown[] {
  return issues.map((issue) => {
    const plain: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(issue)) {
      if (key === 'input' || key === 'inst') continue;
      if (key === 'path') plain[key] = (value as PropertyKey[]).map((part) => (typeof part === 'symbol' ? String(part) : part));
      else plain[key] = value;
    }
    return plain;
  });
}

/** `'a::b'` from `'a::b'` or `['a', 'b']`. */
export function methodName(method: string | readonly string[]): string {
  return typeof method === 'string' ? method : method.join('::');
}
