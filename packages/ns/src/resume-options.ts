import { InvalidArgError } from '@proto/framing';

/** Settings of a resumable session (`resume` option); both ends must enable it. */
export interface ResumeOptions {
  /**
   * How long the server keeps a session whose link dropped, in milliseconds, waiting for the client
   * to come back. Only the server's value counts.
   * @default 30000
   */
  ttlMs?: number;
  /**
   * Most bytes (encoded messages) this side keeps until the peer acknowledges them, sends made while
   * the link is down included. Past it, `send` throws `ERR_BUFFER_OVERFLOW`.
   * @default 8388608 (8 MiB)
   */
  maxBytes?: number;
  /**
   * Most messages this side keeps until the peer acknowledges them. Past it, `send` throws
   * `ERR_BUFFER_OVERFLOW`.
   * @default 10000
   */
  maxMessages?: number;
}

/** {@link ResumeOptions} with every default applied and validated. */
export interface ResolvedResumeOptions {
  readonly ttlMs: number;
  readonly maxBytes: number;
  readonly maxMessages: number;
}

/** The defaults of {@link ResumeOptions}. */
export const DEFAULT_RESUME: ResolvedResumeOptions = Object.freeze({ ttlMs: 30_000, maxBytes: 8 * 1024 * 1024, maxMessages: 10_000 });

/** Largest `maxBytes`/`maxMessages` the session messages can announce (u32). */
const MAX_BOUND = 0xffff_ffff;

function bound(value: number | undefined, fallback: number, name: string, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > MAX_BOUND) {
    throw new InvalidArgError(`resume.${name} must be an integer in ${String(min)}..${String(MAX_BOUND)}, got ${String(value)}`);
  }
  return value;
}

/**
 * Applies defaults to the `resume` option; undefined when resuming is off.
 * @throws InvalidArgError for a value that is not a boolean or an object, or an out-of-range bound.
 */
export function resolveResumeOptions(option: boolean | ResumeOptions | undefined): ResolvedResumeOptions | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return DEFAULT_RESUME;
  if (typeof option !== 'object' || option === null) throw new InvalidArgError('resume must be a boolean or an options object');
  const ttlMs = option.ttlMs ?? DEFAULT_RESUME.ttlMs;
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs < 0) {
    throw new InvalidArgError(`resume.ttlMs must be a finite number >= 0, got ${String(ttlMs)}`);
  }
  return Object.freeze({
    ttlMs,
    maxBytes: bound(option.maxBytes, DEFAULT_RESUME.maxBytes, 'maxBytes', 1),
    maxMessages: bound(option.maxMessages, DEFAULT_RESUME.maxMessages, 'maxMessages', 1),
  });
}
