import { InvalidArgError } from '@proto/framing';

/** How a client waits between reconnect attempts: capped exponential backoff with jitter. */
export interface ReconnectOptions {
  /**
   * Upper bound of the first delay, in milliseconds.
   * @default 100
   */
  initialDelayMs?: number;
  /**
   * Cap on any delay, in milliseconds.
   * @default 30000
   */
  maxDelayMs?: number;
  /**
   * Growth factor of the delay bound per failed attempt.
   * @default 2
   */
  factor?: number;
  /**
   * Share of each delay that is randomized: `1` (or `true`) is full jitter (uniform in `[0, bound]`,
   * which spreads a herd of clients best), `0` (or `false`) a fixed delay, `0.5` uniform in `[bound/2, bound]`.
   * @default 1
   */
  jitter?: number | boolean;
  /**
   * Consecutive failed attempts before giving up (the socket then emits `close`). Resets after
   * a successful connection.
   * @default Infinity
   */
  maxAttempts?: number;
}

/** {@link ReconnectOptions} with every default applied and validated. */
export interface ResolvedReconnectOptions {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly factor: number;
  readonly jitter: number;
  readonly maxAttempts: number;
}

/** The defaults of {@link ReconnectOptions}. */
export const DEFAULT_RECONNECT: ResolvedReconnectOptions = Object.freeze({
  initialDelayMs: 100,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 1,
  maxAttempts: Number.POSITIVE_INFINITY,
});

/**
 * Applies defaults to the `reconnect` option; undefined when reconnecting is off.
 * @throws InvalidArgError on a negative delay, a factor below 1, jitter outside [0, 1], ...
 */
export function resolveReconnectOptions(option: boolean | ReconnectOptions | undefined): ResolvedReconnectOptions | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return DEFAULT_RECONNECT;
  if (typeof option !== 'object' || option === null) throw new InvalidArgError('reconnect must be a boolean or an options object');
  const jitter = option.jitter === true ? 1 : option.jitter === false ? 0 : (option.jitter ?? DEFAULT_RECONNECT.jitter);
  const resolved: ResolvedReconnectOptions = {
    initialDelayMs: option.initialDelayMs ?? DEFAULT_RECONNECT.initialDelayMs,
    maxDelayMs: option.maxDelayMs ?? Math.max(DEFAULT_RECONNECT.maxDelayMs, option.initialDelayMs ?? 0),
    factor: option.factor ?? DEFAULT_RECONNECT.factor,
    jitter,
    maxAttempts: option.maxAttempts ?? DEFAULT_RECONNECT.maxAttempts,
  };
  check(Number.isFinite(resolved.initialDelayMs) && resolved.initialDelayMs >= 0, 'reconnect.initialDelayMs must be a finite number >= 0');
  check(Number.isFinite(resolved.maxDelayMs) && resolved.maxDelayMs >= resolved.initialDelayMs, 'reconnect.maxDelayMs must be finite and >= initialDelayMs');
  check(Number.isFinite(resolved.factor) && resolved.factor >= 1, 'reconnect.factor must be a finite number >= 1');
  check(typeof jitter === 'number' && jitter >= 0 && jitter <= 1, 'reconnect.jitter must be a boolean or a number in [0, 1]');
  check(
    resolved.maxAttempts === Number.POSITIVE_INFINITY || (Number.isInteger(resolved.maxAttempts) && resolved.maxAttempts >= 0),
    'reconnect.maxAttempts must be an integer >= 0 or Infinity',
  );
  return Object.freeze(resolved);
}

/**
 * Delay before reconnect attempt `attempt` (1 for the first after a failure):
 * `bound = min(maxDelayMs, initialDelayMs * factor^(attempt-1))`, then `bound * (1 - jitter * random())`.
 * @param random a number in [0, 1), `Math.random()` by default (injectable for tests)
 */
export function backoffDelay(attempt: number, options: ResolvedReconnectOptions, random: number = Math.random()): number {
  const exponent = Math.max(0, attempt - 1);
  const bound = Math.min(options.maxDelayMs, options.initialDelayMs * options.factor ** exponent);
  return Math.round(bound * (1 - options.jitter * random));
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new InvalidArgError(message);
}
