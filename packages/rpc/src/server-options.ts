import type { ProtoError } from './errors.js';
import type { NsServerOptions } from '@proto/ns';
import type { AuthThrottleOptions } from './auth-throttle.js';
import type { ClusterAdapter } from './cluster-adapter.js';
import type { ContractDefinition, UntypedMethods } from './contract.js';
import type { RpcCommonOptions } from './options.js';
import type { RpcPeer } from './peer.js';
import type { AuthFailureReason } from './server-handshake.js';
import type { Authenticate } from './user-keys.js';

export type { Authenticate } from './user-keys.js';

/** Options of {@link RpcServer}: credentials, limits, and everything ns and framing take (TLS, frame limits...). */
export interface RpcServerOptions<D extends ContractDefinition = UntypedMethods, C extends ContractDefinition = UntypedMethods>
  extends Omit<NsServerOptions, 'extension'>,
    RpcCommonOptions<D, C> {
  /**
   * The shared secret every client must prove it knows. Its key is derived once, when the server
   * is created. Required unless `authenticate` is given (which then takes precedence).
   */
  password?: string | Uint8Array | undefined;
  /**
   * Per-connection password lookup (instead of `password`), e.g. by username: return the password
   * the client must prove, or undefined to refuse. Derived keys are cached per password, so a
   * lookup that returns the same password costs no key derivation after the first; an unknown
   * username costs one decoy derivation the same way, so refusals do not tell which users exist.
   */
  authenticate?: Authenticate | undefined;
  /**
   * Connections allowed to be authenticating at once; past it new connections are refused at once
   * (the client sees `ERR_OVERLOADED` and, with `reconnect`, retries later).
   * @default 256
   */
  maxPendingAuth?: number | undefined;
  /**
   * Each remote address's fair share of the `maxPendingAuth` slots. While slots are free an address
   * may take more; once all are taken, a new connection from an address holding fewer than this
   * evicts the oldest authenticating connection of the address holding the most (if that one holds
   * more than this). The evicted connection is refused with `ERR_OVERLOADED` (`authFailed` reason
   * `too-many-pending`). So one address keeping silent connections open cannot lock others out.
   * And a new connection from the address holding the most, once it holds more than this, evicts
   * that address's oldest connection that has not sent its proof yet, so silent connections cannot
   * lock out the clients sharing their address either (Unix-socket peers have no address and
   * count as one). A value of `maxPendingAuth` or more turns eviction off.
   * @default 8
   */
  maxPendingAuthPerAddress?: number | undefined;
  /**
   * Frame limit before authentication: an unauthenticated peer can make the server buffer at most
   * this much.
   * @default 4096
   */
  authMaxFrameBytes?: number | undefined;
  /**
   * Slowing down of repeated failures per address (see README, "Authentication"); `false` disables.
   * @default { baseDelayMs: 100, maxDelayMs: 2000, halfLifeMs: 30000, maxAddresses: 10000 }
   */
  authThrottle?: AuthThrottleOptions | false | undefined;
  /**
   * How long `close()` waits for requests in flight before closing connections anyway.
   * @default 10000
   */
  shutdownTimeoutMs?: number | undefined;
  /**
   * Join a cluster of servers (`createRedisCluster()` or `createMemoryCluster()` from
   * `@proto/cluster`): peer ids become unique across it, `broadcast` reaches every node's peers,
   * `send`/`request` reach a peer on any node, `clusterPeers()` lists them all.
   */
  cluster?: ClusterAdapter | undefined;
  /**
   * Answer the reserved method `$rpc::describe` with the methods the server handles and their
   * contract schemas as JSON Schema (what `proto describe` prints). It reveals every method name to
   * any client that authenticated.
   * @default false
   */
  describe?: boolean | undefined;
}

/** Argument of the `authFailed` event. */
export interface AuthFailedInfo {
  /** Remote IP address (undefined over a Unix socket). */
  readonly address: string | undefined;
  /** Why the connection was refused. */
  readonly reason: AuthFailureReason;
  /** For `tls-rejected`: the TLS-level error (`ERR_CLIENT_REJECTED` from `isClientAllowed`, or Node's TLS error). */
  readonly error?: Error;
}

/** Events of {@link RpcServer}. */
export interface RpcServerEvents {
  /** A client authenticated and is in `peers`. */
  authenticated: [peer: RpcPeer];
  /** A connection was refused during authentication (it is closed). */
  authFailed: [info: AuthFailedInfo];
  /** An authenticated client's connection closed; it has left `peers`. */
  close: [peer: RpcPeer];
  /** Keepalive found a client unresponsive; its connection is being closed (`close` follows; with `resume` only the link drops and the session waits `ttlMs`). */
  timeout: [peer: RpcPeer];
  /** With `resume`: a client's session continued on a new link; `peer` is the same (same id). */
  resumed: [peer: RpcPeer];
  /**
   * A handler threw something other than an RpcError (the caller got `INTERNAL`), a connection
   * failed, or the listening server failed (then without `peer`). Emitted only when someone
   * listens, so an unobserved error never throws.
   */
  error: [error: ProtoError | NodeJS.ErrnoException, peer?: RpcPeer];
  /** The server is listening. */
  listening: [];
}
