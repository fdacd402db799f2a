import { z } from 'zod';
import { InvalidArgError } from './errors.js';
import { isStreamSchemas, type StreamSchemas } from './stream-contract.js';

/** Schemas of one method: what the caller sends and what the handler returns. */
export interface MethodSchemas {
  /** Validates params on the handling side; the handler gets the parsed output. */
  readonly params: z.ZodType;
  /** Describes the result; checked on the calling side with `validateResults: true`. */
  readonly result: z.ZodType;
}

/** Method name (`'a::b'`) to its schemas: a request method, or a stream (`stream: true`). */
export type ContractDefinition = { readonly [method: string]: MethodSchemas | StreamSchemas };

/** What an untyped client or server accepts: any method, unknown params and results. */
export type UntypedMethods = { readonly [method: string]: { readonly params: z.ZodType<unknown>; readonly result: z.ZodType<unknown> } };

const kContract = Symbol.for('@proto/rpc-contract');

/**
 * A set of typed methods, from {@link defineContract}.
 *
 * @typeParam D - methods the server handles (`client.request`, `server.handle`).
 * @typeParam C - methods the clients handle (`server.request`, `client.handle`); untyped unless
 *   the contract declares them.
 */
export interface Contract<D extends ContractDefinition = ContractDefinition, C extends ContractDefinition = ContractDefinition> {
  /** The server's method schemas, as given. */
  readonly methods: D;
  /** The clients' method schemas, as given (empty when the contract declares none). */
  readonly clientMethods: C;
  /** @internal brand */
  readonly [kContract]: true;
}

/** Second argument of {@link defineContract}. */
export interface ContractOptions<C extends ContractDefinition> {
  /**
   * Methods the clients handle (`client.handle`), which the server calls with
   * `server.request(peerId, ...)`: typed on both ends, params validated on the client.
   */
  readonly client: C;
}

/**
 * Declare the methods a server handles, with zod schemas for params and result, and optionally
 * (`{ client }`) the methods its clients handle. Passing the contract to `RpcServer` and
 * `RpcClient` types `handle` and `request` (names, params, results) in each direction it declares,
 * validates params before any handler runs (`ERR_INVALID_PARAMS` with zod's issues otherwise), and
 * lets the client check results (`validateResults`).
 *
 * @example
 * const api = defineContract(
 *   { 'math::add': { params: z.object({ a: z.number(), b: z.number() }), result: z.number() } },
 *   { client: { 'ui::confirm': { params: z.string(), result: z.boolean() } } },
 * );
 */
export function defineContract<const D extends ContractDefinition>(methods: D): Contract<D, UntypedMethods>;
export function defineContract<const D extends ContractDefinition, const C extends ContractDefinition>(
  methods: D,
  options: ContractOptions<C>,
): Contract<D, C>;
export function defineContract(methods: ContractDefinition, options?: ContractOptions<ContractDefinition>): Contract {
  checkMethods(methods, 'contract method');
  const clientMethods = options?.client ?? {};
  checkMethods(clientMethods, 'contract client method');
  return Object.freeze({ methods, clientMethods, [kContract]: true as const });
}

function checkMethods(methods: ContractDefinition, what: string): void {
  if (typeof methods !== 'object' || methods === null) throw new InvalidArgError(`${what}s must be an object`);
  for (const [method, schemas] of Object.entries(methods)) {
    if (isStreamSchemas(schemas)) {
      if (!(schemas.params instanceof z.ZodType) || !(schemas.item instanceof z.ZodType) || (schemas.input !== undefined && !(schemas.input instanceof z.ZodType))) {
        throw new InvalidArgError(`${what} ${method} is a stream: it needs zod schemas { params, item, input? }`);
      }
      continue;
    }
    if (
      typeof schemas !== 'object' ||
      schemas === null ||
      !(schemas.params instanceof z.ZodType) ||
      !(schemas.result instanceof z.ZodType)
    ) {
      throw new InvalidArgError(`${what} ${method} needs zod schemas { params, result }`);
    }
  }
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

/** Schemas for `method` among `methods` (one side of a contract), if it has them. */
export function schemasIn(methods: ContractDefinition | undefined, method: string): MethodSchemas | undefined {
  if (methods === undefined || !Object.hasOwn(methods, method)) return undefined;
  const schemas = methods[method];
  return schemas === undefined || isStreamSchemas(schemas) ? undefined : schemas;
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
