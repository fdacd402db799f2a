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
  return walk(value as object, path, 0);
}

function walk(value: object, path: string, depth: number): string | undefined {
  if (depth >= MAX_DEPTH || typeof (value as { toJSON?: unknown }).toJSON === 'function' || ArrayBuffer.isView(value)) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const problem = child(item, `${path}[${i}]`, depth);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const problem = child((value as Record<string, unknown>)[key], `${path}.${key}`, depth);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function child(item: unknown, path: string, depth: number): string | undefined {
  if (item === null) return undefined;
  const type = typeof item;
  if (type === 'function' || type === 'symbol') return `${describe(item)} at ${path}`;
  return type === 'object' ? walk(item as object, path, depth + 1) : undefined;
}
