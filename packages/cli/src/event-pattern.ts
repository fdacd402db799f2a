/**
 * Whether `event` matches `pattern` as ns (EventEmitter2) wildcards do: `*` is exactly one
 * segment, `**` any number of them, none included (`a::**` matches `a`).
 */
export function matchesPattern(pattern: readonly string[], event: readonly string[], p = 0, e = 0): boolean {
  for (; p < pattern.length; p++, e++) {
    const segment = pattern[p]!;
    if (segment === '**') {
      for (let rest = e; rest <= event.length; rest++) if (matchesPattern(pattern, event, p + 1, rest)) return true;
      return false;
    }
    if (e >= event.length || (segment !== '*' && segment !== event[e])) return false;
  }
  return e === event.length;
}
