// Kept apart from stream-types.ts so contract typing (stream-contract.ts) needs nothing that
// reaches back to the peer and its request context (an import cycle otherwise).

/** Options of `stream()`. */
export interface StreamOptions<Input = unknown> {
  /** Cancel the stream: the loop rejects with `ERR_ABORTED` and the handler's `ctx.signal` aborts. */
  signal?: AbortSignal | undefined;
  /**
   * A deadline for the whole stream, in milliseconds: past it the stream is cancelled and the loop
   * rejects with `ERR_REQUEST_TIMEOUT`. 0 or undefined: none (`requestTimeoutMs` does not apply).
   * @default undefined
   */
  timeoutMs?: number | undefined;
  /**
   * Items the handler may send ahead of the loop (a count of items, not bytes); more credit is
   * granted in batches as the loop consumes them.
   * @default 16
   */
  highWaterMark?: number | undefined;
  /**
   * Items for the handler's `ctx.input` (client streaming, bidirectional streams): pulled only when
   * the handler's credit allows, closed with `return()` when the stream ends first.
   */
  input?: AsyncIterable<Input> | Iterable<Input> | undefined;
}
