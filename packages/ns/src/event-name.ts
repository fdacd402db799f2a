import { InvalidArgError, ProtocolError } from '@proto/framing';

/** Joins event segments on the wire and in EventEmitter2 (`wildcard: true`, `delimiter: '::'`). */
export const EVENT_DELIMITER = '::';

/** Longest event name, in UTF-8 bytes once its segments are joined with `::`. */
export const MAX_EVENT_NAME_BYTES = 1024;

/** Longest single event segment, in UTF-8 bytes. */
export const MAX_EVENT_SEGMENT_BYTES = 256;

/**
 * Segments no event name or listener pattern may contain. EventEmitter2 keeps wildcard listeners in
 * a tree of plain objects and walks it with `tree[segment]`: a segment naming an `Object.prototype`
 * member reaches a built-in shared by the whole process (`__proto__` is Object.prototype itself,
 * `constructor` the global Object, `toString` a shared function), where it would store or find
 * listeners of other sockets; `_listeners` is the tree's own key for a node's listeners. The list is
 * fixed so both ends agree whatever runtime they run on; members a runtime adds to Object.prototype
 * are refused too (never sent, so never on the wire between two sockets of this package).
 */
export const RESERVED_EVENT_SEGMENTS: ReadonlySet<string> = new Set([
  '__proto__',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'constructor',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  'toString',
  'valueOf',
  '_listeners',
  ...Object.getOwnPropertyNames(Object.prototype),
]);

/**
 * Why `segment` cannot be part of a sent event name, or undefined when it can.
 * A segment may not be empty, contain `::`, start or end with `:` (the joined name would split
 * differently on the other side), be a wildcard (`*`, `**`): a sender must not be able to
 * fire every listener under a pattern, or be reserved ({@link RESERVED_EVENT_SEGMENTS}).
 */
function segmentProblem(segment: unknown, allowWildcards: boolean): string | undefined {
  if (typeof segment !== 'string') return 'segments must be strings';
  if (segment.length === 0) return 'segments must not be empty';
  if (segment.includes(EVENT_DELIMITER)) return `segment ${JSON.stringify(segment)} contains "::"`;
  if (segment.charCodeAt(0) === 0x3a || segment.charCodeAt(segment.length - 1) === 0x3a) {
    return `segment ${JSON.stringify(segment)} starts or ends with ":"`;
  }
  if (!allowWildcards && (segment === '*' || segment === '**')) {
    return `wildcard segment ${JSON.stringify(segment)} is only valid in listener patterns`;
  }
  if (RESERVED_EVENT_SEGMENTS.has(segment)) return reservedProblem(segment);
  if (segment.length * 3 > MAX_EVENT_SEGMENT_BYTES && Buffer.byteLength(segment) > MAX_EVENT_SEGMENT_BYTES) {
    return `segment longer than ${MAX_EVENT_SEGMENT_BYTES} bytes`;
  }
  return undefined;
}

/** Why a list of segments is not a valid event (or pattern), or undefined when it is. */
function segmentsProblem(segments: readonly unknown[], allowWildcards: boolean): string | undefined {
  if (segments.length === 0) return 'an event needs at least one segment';
  let bytes = 0;
  for (let i = 0; i < segments.length; i++) {
    const problem = segmentProblem(segments[i], allowWildcards);
    if (problem !== undefined) return problem;
    bytes += Buffer.byteLength(segments[i] as string) + (i === 0 ? 0 : EVENT_DELIMITER.length);
  }
  if (bytes > MAX_EVENT_NAME_BYTES) return `event name longer than ${MAX_EVENT_NAME_BYTES} bytes`;
  return undefined;
}

/**
 * Validates an event given as `'a::b'` or `['a', 'b']` and returns its wire name `'a::b'`.
 * Callers cache the result: this runs once per distinct name, not per message.
 * @throws InvalidArgError when a segment or the whole name is invalid.
 */
export function eventNameOf(event: string | readonly string[]): string {
  if (typeof event === 'string') {
    assertValidSegments(event.split(EVENT_DELIMITER), false, event);
    return event;
  }
  if (!Array.isArray(event)) throw new InvalidArgError('event must be a string or an array of strings');
  assertValidSegments(event, false, event);
  return event.join(EVENT_DELIMITER);
}

/** Throws InvalidArgError unless `segments` is a valid event (or, with wildcards, a valid pattern). */
export function assertValidSegments(segments: readonly unknown[], allowWildcards: boolean, original: unknown): void {
  const problem = segmentsProblem(segments, allowWildcards);
  if (problem !== undefined) throw invalid(problem, original);
}

/**
 * Splits a listener pattern (`'chat::*'`, `['chat', '**']`) into segments, validating it.
 * Wildcards are allowed here. Returns a fresh array the caller may prefix.
 */
export function patternSegments(pattern: string | readonly string[]): string[] {
  const segments = typeof pattern === 'string' ? pattern.split(EVENT_DELIMITER) : Array.isArray(pattern) ? [...pattern] : undefined;
  if (segments === undefined) throw new InvalidArgError('event must be a string or an array of strings');
  assertValidSegments(segments, true, pattern);
  return segments;
}

/**
 * Refuses a listener type (of `on`, `once`, `many`, `waitFor`, ... on an NsSocket, user event or not)
 * with a reserved segment before EventEmitter2 files it in its tree. Other types (symbols, odd
 * values) are left to EventEmitter2.
 * @throws InvalidArgError when a segment is reserved ({@link RESERVED_EVENT_SEGMENTS}).
 */
export function assertSafeListenerType(type: unknown): void {
  if (typeof type === 'string') {
    if (type.includes(EVENT_DELIMITER)) {
      for (const segment of type.split(EVENT_DELIMITER)) if (RESERVED_EVENT_SEGMENTS.has(segment)) throw reserved(segment, type);
    } else if (RESERVED_EVENT_SEGMENTS.has(type)) throw reserved(type, type);
  } else if (Array.isArray(type)) {
    for (const segment of type as readonly unknown[]) {
      if (typeof segment === 'string' && RESERVED_EVENT_SEGMENTS.has(segment)) throw reserved(segment, type);
    }
  }
}

function reserved(segment: string, type: unknown): InvalidArgError {
  return invalid(reservedProblem(segment), type);
}

function reservedProblem(segment: string): string {
  return `segment ${JSON.stringify(segment)} is reserved (EventEmitter2 keeps listeners in plain objects: Object.prototype's property names and "_listeners" cannot be segments)`;
}

/**
 * Validates an event name received from the peer and returns its segments.
 * @throws ProtocolError when the peer sent a name this side would never send.
 */
export function receivedSegments(name: string): string[] {
  const segments = name.split(EVENT_DELIMITER);
  const problem = segmentsProblem(segments, false);
  if (problem !== undefined) throw new ProtocolError(`peer sent an invalid event name: ${problem}`);
  return segments;
}

function invalid(problem: string, event: unknown): InvalidArgError {
  let shown: string;
  try {
    shown = JSON.stringify(event) ?? String(event);
  } catch {
    shown = String(event);
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
  return new InvalidArgError(`invalid event ${shown}: ${problem}`);
}
