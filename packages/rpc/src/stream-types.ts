import type { RequestContext } from './inbound-call.js';

/** What a stream handler gets besides its params: the request context plus the caller's items. */
export interface StreamContext<Input = unknown> extends RequestContext {
  /**
   * The items the caller sends (`input` of `stream()`), in order; empty when it sends none. Iterate
   * it once. Credit for it is granted 16 items at a time, so a handler that reads slowly holds the
   * caller's input at its source. Rejects with `ERR_ABORTED` / `ERR_CONNECTION_CLOSED` when the
   * stream is cancelled or the link drops, `ERR_INVALID_PARAMS` for an item the contract refuses.
   * A handler that is done with it (`break` out of its `for await`, or `ctx.input.return()`) stops
   * the caller's input at its source (its iterator is closed, so its `finally` runs); the stream's
   * items keep flowing.
   */
  readonly input: AsyncIterableIterator<Input>;
}

/**
 * A stream handler: params in, items out, usually an `async function*`. Its items go to the caller
 * as the caller's credit allows (the generator waits at its `yield` meanwhile). A throw ends the
 * caller's loop with the same errors as a request, after the items yielded before it. When the
 * caller cancels (break, signal, timeout) or the link drops, `ctx.signal` aborts and the generator
 * is closed with `return()`, so its `finally` blocks run.
 */
export type StreamHandler<Params = unknown, Item = unknown, Input = unknown> = (
  params: Params,
  ctx: StreamContext<Input>,
) => AsyncIterable<Item> | Iterable<Item>;

export type { StreamOptions } from './stream-options.js';
