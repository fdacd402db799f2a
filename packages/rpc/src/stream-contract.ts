import type { z } from 'zod';
import type { StreamOptions } from './stream-options.js';

/** Schemas of one stream method: `{ params, item, input?, stream: true }`. */
export interface StreamSchemas {
  /** Validates params on the handling side, before the handler runs. */
  readonly params: z.ZodType;
  /** Validates every item on the receiving (calling) side. */
  readonly item: z.ZodType;
  /** Validates every input item on the handling side; omit for server streaming. */
  readonly input?: z.ZodType | undefined;
  /** Marks the method as a stream. */
  readonly stream: true;
}

/** Whether a contract entry declares a stream. */
export function isStreamSchemas(value: unknown): value is StreamSchemas {
  return typeof value === 'object' && value !== null && (value as { stream?: unknown }).stream === true;
}

/** Stream schemas for `method` among `methods` (one side of a contract), if it declares that stream. */
export function streamSchemasIn(methods: { readonly [method: string]: unknown } | undefined, method: string): StreamSchemas | undefined {
  if (methods === undefined || !Object.hasOwn(methods, method)) return undefined;
  const schemas = methods[method];
  return isStreamSchemas(schemas) ? schemas : undefined;
}

/** Stream method names of a contract (any string for an untyped side). */
export type StreamMethodName<D> = string extends keyof D
  ? string
  : { [K in keyof D & string]: D[K] extends StreamSchemas ? K : never }[keyof D & string];

type Schema<D, M, K extends 'params' | 'item' | 'input'> = M extends keyof D
  ? D[M] extends StreamSchemas
    ? NonNullable<D[M][K]> extends z.ZodType
      ? NonNullable<D[M][K]>
      : undefined
    : undefined
  : undefined;

type Input<S> = S extends z.ZodType ? z.input<S> : unknown;
type Output<S> = S extends z.ZodType ? z.output<S> : unknown;

/** Stream params as the caller writes them. */
export type StreamParamsInput<D, M> = Input<Schema<D, M, 'params'>>;
/** Stream params as the handler receives them. */
export type StreamParamsOutput<D, M> = Output<Schema<D, M, 'params'>>;
/** What the handler yields. */
export type ItemInput<D, M> = Input<Schema<D, M, 'item'>>;
/** What the caller's loop receives. */
export type ItemOutput<D, M> = Output<Schema<D, M, 'item'>>;
/** What the caller sends as `input`. */
export type StreamInputInput<D, M> = Input<Schema<D, M, 'input'>>;
/** What the handler's `ctx.input` yields. */
export type StreamInputOutput<D, M> = Output<Schema<D, M, 'input'>>;

/** Arguments of `stream()` after the method: params (optional when they admit undefined), then options. */
export type StreamArgs<P, I = unknown> = undefined extends P
  ? [params?: P, options?: StreamOptions<I>]
  : [params: P, options?: StreamOptions<I>];
