import { z } from 'zod';
import type { ContractDefinition } from './contract.js';

/**
 * The reserved method a server created with `describe: true` answers with a {@link DescribeResult}.
 * Names starting with `$rpc::` are reserved for the library.
 */
export const DESCRIBE_METHOD = '$rpc::describe';

/** Prefix of the method names the library reserves for itself; describe never lists them. */
const RESERVED_PREFIX = '$rpc::';

/** A JSON Schema document (draft 2020-12), as zod's `z.toJSONSchema` produces it. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** One method in a {@link DescribeResult}. */
export interface DescribedMethod {
  /** The method name, `'a::b'`. */
  readonly name: string;
  /** `request` for `handle`, `stream` for `handleStream`. */
  readonly kind: 'request' | 'stream';
  /**
   * JSON Schemas of the contract's entries for the method (`params` as the caller writes them,
   * `result`/`item` as the caller receives them, `input` as the caller sends it). Absent when the
   * server's contract does not declare the method.
   */
  readonly schemas?: { readonly [entry: string]: JsonSchema };
}

/** What the {@link DESCRIBE_METHOD} answers: the methods the server handles, sorted by name. */
export interface DescribeResult {
  /** Version of this answer's shape. */
  readonly version: 1;
  readonly methods: readonly DescribedMethod[];
}

/** Where a describe handler reads the server's methods from, at each call (handlers may change). */
export interface DescribeSource {
  /** Request handlers by method name. */
  readonly requests: ReadonlyMap<string, unknown>;
  /** Stream handlers by method name, when the server has streams. */
  readonly streams?: ReadonlyMap<string, unknown> | undefined;
  /** The contract's server methods, if any. */
  readonly methods?: ContractDefinition | undefined;
}

// Schema entries the caller writes (converted with zod's input side) versus receives (output side).
const INPUT_ENTRIES = new Set(['params', 'input']);

const converted = new WeakMap<z.ZodType, { input?: JsonSchema | null; output?: JsonSchema | null }>();

/** JSON Schema of one zod schema, cached; `undefined` if zod cannot express it. */
function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema | undefined {
  let cache = converted.get(schema);
  if (cache === undefined) {
    cache = {};
    converted.set(schema, cache);
  }
  let result = cache[io];
  if (result === undefined) {
    try {
      // Parts JSON Schema cannot express (transforms, custom checks) become `{}` instead of throwing.
      result = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
    } catch {
      result = null;
    }
    cache[io] = result;
  }
  return result ?? undefined;
}

function schemasFor(methods: ContractDefinition | undefined, name: string): DescribedMethod['schemas'] {
  if (methods === undefined || !Object.hasOwn(methods, name)) return undefined;
  const schemas: Record<string, JsonSchema> = {};
  for (const [entry, schema] of Object.entries(methods[name]!)) {
    if (!(schema instanceof z.ZodType)) continue;
    const json = jsonSchemaOf(schema, INPUT_ENTRIES.has(entry) ? 'input' : 'output');
    if (json !== undefined) schemas[entry] = json;
  }
  return schemas;
}

/** The methods `source` holds right now, as a describe answer. */
export function describeMethods(source: DescribeSource): DescribeResult {
  const methods: DescribedMethod[] = [];
  const add = (handlers: ReadonlyMap<string, unknown> | undefined, kind: DescribedMethod['kind']): void => {
    if (handlers === undefined) return;
    for (const name of handlers.keys()) {
      if (name.startsWith(RESERVED_PREFIX)) continue;
      const schemas = schemasFor(source.methods, name);
      methods.push(schemas === undefined ? { name, kind } : { name, kind, schemas });
    }
  };
  add(source.requests, 'request');
  add(source.streams, 'stream');
  methods.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { version: 1, methods };
}

/** The handler of {@link DESCRIBE_METHOD} over `source` (it takes no params). */
export function describeHandler(source: DescribeSource): () => DescribeResult {
  return () => describeMethods(source);
}
