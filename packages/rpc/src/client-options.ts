import type { ProtoError } from './errors.js';
import type { NsReconnectingInfo, NsResumedInfo, NsSessionLostInfo, NsSocketOptions } from '@proto/ns';
import type { ContractDefinition, UntypedMethods } from './contract.js';
import type { RpcCommonOptions } from './options.js';
import type { RpcPeer } from './peer.js';

/** Options of {@link RpcClient}: where to connect, credentials, and everything ns and framing take. */
export interface RpcClientOptions<D extends ContractDefinition = UntypedMethods, C extends ContractDefinition = UntypedMethods>
  extends Omit<NsSocketOptions, 'extension'>,
    RpcCommonOptions<D, C> {
  /** The shared secret. Never sent: the client proves it knows it. */
  password: string | Uint8Array;
  /**
   * Name the server's `authenticate` looks up (at most 255 bytes).
   * @default ''
   */
  username?: string | undefined;
  /**
   * Check results against the contract's result schemas (failures reject with `ERR_INVALID_RESULT`).
   * @default false
   */
  validateResults?: boolean | undefined;
  /**
   * Frame limit while the link is not yet authenticated (a hostile server cannot make the client
   * buffer more than this before proving itself).
   * @default 4096
   */
  authMaxFrameBytes?: number | undefined;
  /**
   * How long `close()` waits for requests in flight before closing anyway.
   * @default 10000
   */
  shutdownTimeoutMs?: number | undefined;
}

/** Events of {@link RpcClient} and their listener arguments. */
export interface RpcClientEvents {
  /** A link authenticated (first connect and every reconnect); `peer` is the server's side of it. */
  authenticated: [peer: RpcPeer];
  /** An authenticated link was lost; the client will reconnect. Its pending requests were rejected. */
  disconnect: [error: Error | undefined];
  /** A reconnect attempt is scheduled. */
  reconnecting: [info: NsReconnectingInfo];
  /**
   * With `resume`: the session continued on a new link after authenticating again; requests in
   * flight across the drop are answered now (each ran once).
   */
  resumed: [info: NsResumedInfo];
  /**
   * With `resume`: the session could not continue (the server forgot or ended it); requests in
   * flight in it were rejected with `ERR_CONNECTION_CLOSED`, `unsent` messages were dropped.
   */
  sessionLost: [info: NsSessionLostInfo];
  /** The client closed for good: `close()`, `destroy()`, or the link was lost without reconnect. */
  close: [error: Error | undefined];
  /** Keepalive found the server unresponsive; the link is being closed (and reconnected if enabled). */
  timeout: [];
  /**
   * A link failed, or a handler threw something other than an RpcError (the caller got
   * `INTERNAL`). Emitted only when someone listens, so an unobserved error never throws.
   */
  error: [error: ProtoError | NodeJS.ErrnoException];
}

/** Options of `RpcClient.connect()`. */
export interface RpcConnectOptions {
  /** Abandon the attempt (see `connect()`). */
  signal?: AbortSignal | undefined;
}

/** Options of `RpcClient.close()` / `end()`. */
export interface RpcEndOptions {
  /**
   * How long to wait for requests in flight (both ways) before closing anyway.
   * @default the client's `shutdownTimeoutMs` (10000)
   */
  timeoutMs?: number | undefined;
}
