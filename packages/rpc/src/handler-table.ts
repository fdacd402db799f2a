import { methodName } from './contract.js';
import { InvalidArgError } from './errors.js';
import type { Handler } from './inbound-call.js';
import { MAX_METHOD_BYTES } from './messages.js';
import type { StreamHandler } from './stream-types.js';

/** A lone surrogate: a string UTF-8 cannot carry as it is. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why `method` cannot name a handler, or undefined when it can: 1 to 255 bytes of well-formed
 * UTF-8, `::`-separated segments that are neither empty nor the wildcards `*` / `**` (a request
 * names one method; it never matches a pattern).
 */
export function invalidMethodName(method: unknown): string | undefined {
  if (typeof method !== 'string') return `method must be a string or an array of segments, got ${typeof method}`;
  if (method.length === 0) return 'method must not be empty';
  if (LONE_SURROGATE.test(method)) return `method ${JSON.stringify(method)} is not well-formed Unicode (lone surrogate)`;
  if (Buffer.byteLength(method, 'utf8') > MAX_METHOD_BYTES) return `method names are at most ${MAX_METHOD_BYTES} bytes of UTF-8`;
  for (const segment of method.split('::')) {
    if (segment.length === 0) return `method ${JSON.stringify(method)} has an empty segment`;
    if (segment === '*' || segment === '**') return `method ${JSON.stringify(method)} has a wildcard segment (${segment})`;
  }
  return undefined;
}

/**
 * The handlers (of requests, or of streams) of a client or server, by method name; checked when
 * they are registered. `verb` names the registering method in error messages.
 */
export class HandlerTable<H = Handler> {
  readonly map = new Map<string, H>();
  readonly #verb: string;

  constructor(verb = 'handle') {
    this.#verb = verb;
  }

  /** Register (or replace) the handler of `method`. @throws InvalidArgError for a bad name or a non-function. */
  set(method: unknown, handler: unknown): void {
    const name = Array.isArray(method) ? methodName(method as readonly string[]) : method;
    const problem = invalidMethodName(name);
    if (problem !== undefined) throw new InvalidArgError(`${this.#verb}(): ${problem}`);
    if (typeof handler !== 'function') throw new InvalidArgError(`${this.#verb}(${String(name)}): the handler must be a function, got ${typeof handler}`);
    this.map.set(name as string, handler as H);
  }

  delete(method: string | readonly string[]): void {
    this.map.delete(methodName(method));
  }
}

/**
 * The handlers of one client or server, requests and streams: what its `handle`, `handleStream`
 * and `removeHandler` change (the typed overloads stay on each class, typed by its own contract
 * side) and what its links read.
 */
export class Handlers {
  readonly requests = new HandlerTable();
  readonly streams = new HandlerTable<StreamHandler>('handleStream');

  /** `handle(method, handler)`. @throws InvalidArgError for a bad name or a non-function. */
  handle(method: unknown, handler: unknown): void {
    this.requests.set(method, handler);
  }

  /** `handleStream(method, handler)`. @throws InvalidArgError for a bad name or a non-function. */
  handleStream(method: unknown, handler: unknown): void {
    this.streams.set(method, handler);
  }

  /** `removeHandler(method)`: both kinds. */
  remove(method: string | readonly string[]): void {
    this.requests.delete(method);
    this.streams.delete(method);
  }
}
