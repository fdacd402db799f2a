import { InvalidArgError } from './errors.js';

/**
 * Validates an integer option once: `fallback` when `value` is `undefined`, else `value` if it is a
 * safe integer in `min..max`.
 *
 * @throws InvalidArgError naming the option and what is wanted: `retries must be an integer >= 0,
 *   got -1` (or `in 1..65535` when `max` is given).
 */
export function integerOption(
  name: string,
  value: unknown,
  fallback: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${String(min)}` : `in ${String(min)}..${String(max)}`;
    const got = typeof value === 'string' ? JSON.stringify(value) : String(value);
    throw new InvalidArgError(`${name} must be an integer ${range}, got ${got}`);
  }
  return value;
}
