import { InvalidArgError } from './errors.js';
import { DEFAULT_LENGTH_PREFIX, type LengthPrefix, type LengthPrefixCodec, resolveLengthPrefix } from './length-prefix.js';

/** Default limit on a frame's payload: 16 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** Options shared by the decoder and the encoder; both ends of a link must use the same prefix. */
export interface FrameOptions {
  /**
   * Largest payload, in bytes, a frame may carry. Checked as soon as a header is read (before any
   * payload is buffered) and before anything is encoded. A positive integer no larger than the
   * length prefix can express; the default is lowered to that bound for narrow prefixes (uint8: 255,
   * uint16be: 65535).
   * @default 16777216 (16 MiB)
   */
  maxFrameBytes?: number | undefined;
  /**
   * How a frame's payload length is written in front of it.
   * @default 'uint32be'
   */
  lengthPrefix?: LengthPrefix | undefined;
}

/** {@link FrameOptions} after validation. */
export interface ResolvedFrameOptions {
  /** The length prefix's codec (built-in or custom). */
  readonly codec: LengthPrefixCodec;
  /** The validated limit, or the default lowered to what the prefix can express. */
  readonly maxFrameBytes: number;
}

/**
 * Validates a `maxFrameBytes` value against a codec and returns it.
 *
 * @throws InvalidArgError unless it is a positive safe integer within the codec's `maxLength`.
 */
export function checkMaxFrameBytes(value: unknown, codec: LengthPrefixCodec): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgError(`maxFrameBytes must be a positive integer, got ${describe(value)}`);
  }
  if (codec.maxLength !== undefined && value > codec.maxLength) {
    throw new InvalidArgError(
      `maxFrameBytes ${String(value)} is larger than the length prefix can express (${String(codec.maxLength)})`,
    );
  }
  return value;
}

/**
 * Validates {@link FrameOptions} once and fills in defaults.
 *
 * @throws InvalidArgError for an unknown prefix or a bad `maxFrameBytes`.
 */
export function resolveFrameOptions(options: FrameOptions | undefined): ResolvedFrameOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new InvalidArgError(`options must be an object, got ${describe(options)}`);
  }
  const codec = resolveLengthPrefix(options?.lengthPrefix ?? DEFAULT_LENGTH_PREFIX);
  const maxFrameBytes =
    options?.maxFrameBytes === undefined
      ? Math.min(DEFAULT_MAX_FRAME_BYTES, codec.maxLength ?? DEFAULT_MAX_FRAME_BYTES)
      : checkMaxFrameBytes(options.maxFrameBytes, codec);
  return { codec, maxFrameBytes };
}

function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  return value === null ? 'null' : typeof value;
}
