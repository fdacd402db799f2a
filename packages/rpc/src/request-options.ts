/** Per-request options of `request()`. */
export interface RequestOptions {
  /**
   * Reject with `ERR_REQUEST_TIMEOUT` (and cancel on the remote side) after this long; 0 disables.
   * @default the client's or server's `requestTimeoutMs` (10000)
   */
  timeoutMs?: number | undefined;
  /** Abort the request: rejects with `ERR_ABORTED` and cancels on the remote side. */
  signal?: AbortSignal | undefined;
}
