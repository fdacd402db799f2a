import type { RpcPeer } from './peer.js';

/** What a handler gets besides its params. */
export interface RequestContext {
  /** The connection the request came from. */
  readonly peer: RpcPeer;
  /** The method name, `'a::b'`. */
  readonly method: string;
  /** The request id (scoped to this connection and direction). */
  readonly id: number;
  /**
   * Aborts when the caller cancels (its signal or its timeout) or the connection drops. Pass it on
   * to anything long-running the handler starts.
   */
  readonly signal: AbortSignal;
}

/** A request handler: params in, result (or a promise of it) out. Throw {@link RpcError} to fail. */
export type Handler<Params = unknown, Result = unknown> = (params: Params, ctx: RequestContext) => Result | Promise<Result>;

/**
 * A request being handled. The AbortController is only created if the handler reads `signal`, so
 * the common quick handler costs no controller.
 */
export class InboundCall implements RequestContext {
  readonly peer: RpcPeer;
  readonly method: string;
  readonly id: number;
  /** The caller gave up or the link dropped: the answer is not sent. */
  cancelled = false;
  /** `performance.now()` when diagnostics watched the start, else 0. */
  startedAt = 0;
  #controller: AbortController | undefined;
  #reason: Error | undefined;

  constructor(peer: RpcPeer, id: number, method: string) {
    this.peer = peer;
    this.id = id;
    this.method = method;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Stop: mark cancelled and abort the handler's signal. */
  cancel(reason: Error): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}
