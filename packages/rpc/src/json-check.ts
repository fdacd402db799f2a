import { InvalidArgError } from './errors.js';
import { Encoding, payloadPart } from './messages.js';

/** How deep {@link notJsonCarryable} looks; deeper values are left to `JSON.stringify`. */
const MAX_DEPTH = 64;

function describe(value: unknown): string {
  return typeof value === 'function' ? 'a function' : typeof value === 'symbol' ? 'a symbol' : `a ${typeof value}`;
}

/**
 * Where `value` holds something JSON would silently drop or turn into `null`/`{}` (a function or
 * a symbol, at the top or nested in plain objects and arrays), as `'a function at params.x.y'`;
 * undefined when JSON carries it as it is. Values with a `toJSON()` are taken as they serialize
 * themselves; `undefined` properties (optional fields) are fine. Not checked here: BigInt and
 * cycles, which `JSON.stringify` refuses by throwing.
 */
export function notJsonCarryable(value: unknown, path: string): string | undefined {
  if (value === null) return undefined;
  const type = typeof value;
  if (type === 'function' || type === 'symbol') return `${describe(value)} at ${path}`;
  if (type !== 'object') return undefined;
  const suffix = walk(value as object, 0);
  if (suffix === undefined) return undefined;
  const problem = found;
  found = undefined;
  return `${describe(problem)} at ${path}${suffix}`;
}

/** The value a failed {@link walk} stopped at (read and cleared by {@link notJsonCarryable}). */
let found: unknown;

// The walk builds no path while it looks (this runs on every request and answer): only a failing
// value's path is put together, as the recursion unwinds from it.

/** Undefined when `value` is fine; else the path from `value` to the offending item (`.x[2].y`), which is left in {@link found}. */
function walk(value: object, depth: number): string | undefined {
  if (depth >= MAX_DEPTH || typeof (value as { toJSON?: unknown }).toJSON === 'function' || ArrayBuffer.isView(value)) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const inner = child(value[i], depth);
      if (inner !== undefined) return `[${i}]${inner}`;
    }
    return undefined;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const inner = child((value as Record<string, unknown>)[key], depth);
    if (inner !== undefined) return `.${key}${inner}`;
  }
  return undefined;
}

function child(item: unknown, depth: number): string | undefined {
  if (item === null) return undefined;
  const type = typeof item;
  if (type === 'function' || type === 'symbol') {
    found = item;
    return '';
  }
  return type === 'object' ? walk(item as object, depth + 1) : undefined;
}

/**
 * The wire part of a stream's params or item ({@link payloadPart}), refusing what JSON would change
 * on the way (see {@link notJsonCarryable}) or cannot serialize. `what` names the value in the
 * error (`'params'`, `'an item'`, `'an input item'`); the message is only built on failure.
 * @throws InvalidArgError
 */
export function carryablePart(value: unknown, encoding: number, what: string, method: string): string | Uint8Array | undefined {
  if (encoding === Encoding.JSON) {
    const problem = notJsonCarryable(value, what === 'params' ? 'params' : 'item');
    if (problem !== undefined) throw new InvalidArgError(`${what} of stream ${method} cannot be sent as JSON: ${problem}`);
  }
  try {
    return payloadPart(value, encoding);
  } catch (error) {
    throw new InvalidArgError(`${what} of stream ${method} ${what === 'params' ? 'are' : 'is'} not JSON-serializable`, { cause: error });
  }
}
