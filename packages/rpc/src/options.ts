import { z } from 'zod';
import type { Contract, ContractDefinition, UntypedMethods } from './contract.js';
import { InvalidArgError } from './errors.js';
import { suggestion } from './option-suggestion.js';
import { DEFAULT_KEEPALIVE, type KeepAliveOptions, type KeepAliveSetting } from './keepalive.js';

/** Options both `RpcServer` and `RpcClient` take. */
export interface RpcCommonOptions<D extends ContractDefinition, C extends ContractDefinition = UntypedMethods> {
  /**
   * Timeout of every request this side sends, unless the request gives its own `timeoutMs`.
   * 0 disables.
   * @default 10000
   */
  requestTimeoutMs?: number | undefined;
  /**
   * Liveness checking: pings an idle link and closes it (event `timeout`) when the peer stays
   * silent. `false` turns it off; `true` is the defaults.
   * @default { intervalMs: 10000, timeoutMs: 5000 }
   */
  keepAlive?: KeepAliveSetting | undefined;
  /**
   * The handshake must complete within this long, or the link is closed with `ERR_AUTH_TIMEOUT`.
   * @default 5000
   */
  authTimeoutMs?: number | undefined;
  /**
   * Requests from the other side handled at once on one connection; past it new ones are answered
   * with `ERR_OVERLOADED`.
   * @default 1024
   */
  maxConcurrentRequests?: number | undefined;
  /**
   * Streams the other side may have open at once on one connection (streams it opened, served
   * here); past it new ones are refused with `ERR_OVERLOADED`.
   * @default 128
   */
  maxConcurrentStreams?: number | undefined;
  /** Typed methods (see `defineContract`): types `request`/`handle` and validates params. */
  contract?: Contract<D, C> | undefined;
}

/** Resolved common options. */
export interface ResolvedCommonOptions {
  readonly requestTimeoutMs: number;
  readonly keepAlive: Required<KeepAliveOptions> | false;
  readonly authTimeoutMs: number;
  readonly maxConcurrentRequests: number;
  readonly maxConcurrentStreams: number;
}

const positive = z.number().positive();
const nonNegative = z.number().min(0);

const keepAliveSchema = z.union([
  z.boolean(),
  z.object({ intervalMs: positive.optional(), timeoutMs: positive.optional() }),
]);

const commonSchema = z.looseObject({
  requestTimeoutMs: nonNegative.optional(),
  keepAlive: keepAliveSchema.optional(),
  authTimeoutMs: positive.optional(),
  maxConcurrentRequests: z.number().int().positive().optional(),
  maxConcurrentStreams: z.number().int().positive().optional(),
  contract: z.custom<Contract>((value) => typeof value === 'object' && value !== null && 'methods' in value).optional(),
});

const PASSWORD_WANTED = 'the shared secret: a non-empty string, or a non-empty Uint8Array / Buffer';
const passwordSchema = z.union(
  [z.string().min(1, { error: 'password must not be empty' }), z.instanceof(Uint8Array).refine((bytes) => bytes.length > 0, { error: 'password must not be empty' })],
  { error: (issue) => (issue.input === undefined ? `password is required (${PASSWORD_WANTED})` : `password must be ${PASSWORD_WANTED}, got ${describeValue(issue.input)}`) },
);

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : 'a string';
  if (value instanceof Uint8Array) return 'an empty Uint8Array';
  return `a ${typeof value}`;
}

/** Schema of the rpc part of the server options. */
export const serverOptionsSchema = commonSchema.extend({
  password: passwordSchema.optional(),
  authenticate: z.custom<(...args: unknown[]) => unknown>((value) => typeof value === 'function', 'must be a function').optional(),
  maxPendingAuth: z.number().int().positive().optional(),
  maxPendingAuthPerAddress: z.number().int().positive().optional(),
  authMaxFrameBytes: z.number().int().min(512).optional(),
  shutdownTimeoutMs: nonNegative.optional(),
  cluster: z
    .custom<{ join: unknown }>((value) => typeof value === 'object' && value !== null && typeof (value as { join?: unknown }).join === 'function', 'must be a cluster adapter (createRedisCluster() or createMemoryCluster())')
    .optional(),
  describe: z.boolean().optional(),
  authThrottle: z
    .union([
      z.literal(false),
      z.object({
        baseDelayMs: nonNegative.optional(),
        maxDelayMs: nonNegative.optional(),
        halfLifeMs: positive.optional(),
        maxAddresses: z.number().int().positive().optional(),
      }),
    ])
    .optional(),
});

/** Schema of the rpc part of the client options. */
export const clientOptionsSchema = commonSchema.extend({
  password: passwordSchema,
  username: z.string().refine((name) => Buffer.byteLength(name) <= 255, 'at most 255 bytes').optional(),
  validateResults: z.boolean().optional(),
  authMaxFrameBytes: z.number().int().min(512).optional(),
  shutdownTimeoutMs: nonNegative.optional(),
});

/**
 * What is left of `options` without the keys `schema` declares: the part handed down to ns. The
 * schema is the one list of the rpc option keys.
 */
export function lowerLayerOptions(schema: z.ZodObject, options: object): Record<string, unknown> {
  const rest: Record<string, unknown> = { ...options };
  for (const key of Object.keys(schema.shape)) delete rest[key];
  return rest;
}

/**
 * Validate `options` against `schema`, throwing InvalidArgError with zod's readable message; a key
 * neither the schema nor the layers below (`lowerKeys`) know is refused by name.
 */
export function checkOptions(schema: z.ZodObject, options: unknown, what: string, lowerKeys: ReadonlySet<string>): void {
  if (typeof options !== 'object' || options === null) throw new InvalidArgError(`${what} options must be an object`);
  const known = schema.shape;
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(known, key) && !lowerKeys.has(key)) {
      throw new InvalidArgError(`${what}: unknown option ${JSON.stringify(key)}${suggestion(key, [...Object.keys(known), ...lowerKeys])}`);
    }
  }
  const result = schema.safeParse(options);
  if (!result.success) throw new InvalidArgError(`invalid ${what} options:\n${z.prettifyError(result.error)}`);
}

/** Fill in defaults of the common options. */
export function resolveCommon(options: RpcCommonOptions<ContractDefinition, ContractDefinition>): ResolvedCommonOptions {
  const keepAlive = options.keepAlive;
  return {
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    keepAlive:
      keepAlive === false
        ? false
        : {
            intervalMs: (keepAlive === true ? undefined : keepAlive?.intervalMs) ?? DEFAULT_KEEPALIVE.intervalMs,
            timeoutMs: (keepAlive === true ? undefined : keepAlive?.timeoutMs) ?? DEFAULT_KEEPALIVE.timeoutMs,
          },
    authTimeoutMs: options.authTimeoutMs ?? 5_000,
    maxConcurrentRequests: options.maxConcurrentRequests ?? 1024,
    maxConcurrentStreams: options.maxConcurrentStreams ?? 128,
  };
}

/** Frame limit while a link is unauthenticated: the handshake needs well under 1 KiB. */
export const DEFAULT_AUTH_MAX_FRAME_BYTES = 4096;
