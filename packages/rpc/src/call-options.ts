import { InvalidArgError } from './errors.js';
import { suggestion } from './option-suggestion.js';

/** The keys of `request()`'s options. */
export const REQUEST_OPTION_KEYS: ReadonlySet<string> = new Set(['timeoutMs', 'signal']);
/** The keys of `stream()`'s options. */
export const STREAM_OPTION_KEYS: ReadonlySet<string> = new Set(['timeoutMs', 'signal', 'highWaterMark', 'input']);

/**
 * The error for a per-call option key `known` lacks (a misspelt `timeoutMS` would otherwise be
 * ignored silently, as constructor options are not); undefined when every key is known.
 */
export function unknownCallOption(options: object | undefined, known: ReadonlySet<string>, what: string): InvalidArgError | undefined {
  if (options === undefined || options === null) return undefined;
  for (const key in options) {
    if (!known.has(key)) return new InvalidArgError(`${what}: unknown option ${JSON.stringify(key)}${suggestion(key, known)}`);
  }
  return undefined;
}
