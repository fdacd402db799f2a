import { InvalidArgError } from './errors.js';
import { integerOption } from './integer-option.js';
import type { FrameOptions } from './frame-options.js';

/** Default outbound high-water mark of a {@link FramedSocket}: 512 KiB. */
export const DEFAULT_HIGH_WATER_MARK = 512 * 1024;
/** Default outbound hard limit of a {@link FramedSocket}: 64 MiB. */
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/** Options of a {@link FramedSocket}; `connect()` and `createServer()` pass them through. */
export interface FramedSocketOptions extends FrameOptions {
  /**
   * Outbound bytes buffered (not yet handed to the kernel) at which `send()` starts returning
   * `false` and `pause` fires.
   * @default 524288 (512 KiB)
   */
  highWaterMark?: number | undefined;
  /**
   * Outbound bytes buffered at or below which, after a `pause`, `resume` fires and `drained()`
   * resolves. At most `highWaterMark`.
   * @default highWaterMark / 2
   */
  lowWaterMark?: number | undefined;
  /**
   * Hard limit on outbound bytes buffered: a `send()` that would go past it throws
   * `ERR_BUFFER_OVERFLOW` and writes nothing. At least `highWaterMark`.
   * @default 67108864 (64 MiB)
   */
  maxBufferedBytes?: number | undefined;
  /**
   * Milliseconds without traffic in either direction after which `timeout` fires (the connection
   * stays open; close it if you want). 0 turns it off.
   * @default 0
   */
  idleTimeoutMs?: number | undefined;
}

/** Watermarks and limits of a socket after validation. */
export interface ResolvedSocketLimits {
  readonly highWaterMark: number;
  readonly lowWaterMark: number;
  readonly maxBufferedBytes: number;
  readonly idleTimeoutMs: number;
}

/** Limits a server resolved once for all its sockets, by the options object it passes them. */
const shared = new WeakMap<object, ResolvedSocketLimits>();

/**
 * Resolves the limits once for every socket made with this very `options` object (a server's):
 * they share one frozen result, so an idle connection does not carry its own copy, and a change to
 * the object afterwards no longer applies (as for the server's other options).
 *
 * @throws InvalidArgError as {@link resolveSocketLimits}.
 */
export function shareSocketLimits(options: FramedSocketOptions): ResolvedSocketLimits {
  const limits = Object.freeze(resolveSocketLimits(options));
  shared.set(options, limits);
  return limits;
}

/**
 * Validates the watermark, buffer and timeout options once and fills in defaults (or returns the
 * result {@link shareSocketLimits} keeps for this object).
 *
 * @throws InvalidArgError for a value out of range or inconsistent marks.
 */
export function resolveSocketLimits(options: FramedSocketOptions | undefined): ResolvedSocketLimits {
  const known = options === undefined ? undefined : shared.get(options);
  if (known !== undefined) return known;
  const highWaterMark = integerOption('highWaterMark', options?.highWaterMark, DEFAULT_HIGH_WATER_MARK, 1);
  const lowWaterMark = integerOption('lowWaterMark', options?.lowWaterMark, Math.floor(highWaterMark / 2), 0);
  const maxBufferedBytes = integerOption(
    'maxBufferedBytes',
    options?.maxBufferedBytes,
    Math.max(DEFAULT_MAX_BUFFERED_BYTES, highWaterMark),
    1,
  );
  const idleTimeoutMs = integerOption('idleTimeoutMs', options?.idleTimeoutMs, 0, 0);
  if (lowWaterMark > highWaterMark) {
    throw new InvalidArgError(`lowWaterMark (${String(lowWaterMark)}) must not exceed highWaterMark (${String(highWaterMark)})`);
  }
  if (maxBufferedBytes < highWaterMark) {
    throw new InvalidArgError(
      `maxBufferedBytes (${String(maxBufferedBytes)}) must be at least highWaterMark (${String(highWaterMark)})`,
    );
  }
  return { highWaterMark, lowWaterMark, maxBufferedBytes, idleTimeoutMs };
}
