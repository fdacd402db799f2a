import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  type CloseOptions,
  createServer,
  type EventPattern,
  type ListenOptions,
  type NsServer,
  type NsServerOptions,
  type NsSocket,
  type ServerAddress,
} from '@proto/ns';
import { AuthThrottle, type AuthThrottleOptions } from './auth-throttle.js';
import {
  type Contract,
  type ContractDefinition,
  type MethodName,
  methodName,
  type ParamsInput,
  type ParamsOutput,
  type ResultInput,
  type ResultOutput,
  type UntypedMethods,
} from './contract.js';
import type { RequestArgs } from './request-args.js';
import { authChannel, debug } from './diagnostics.js';
import type { ClusterAdapter, ClusterPeerInfo } from './cluster-adapter.js';
import { PeerRouting, peerInfo } from './cluster-routing.js';
import { ConnectionClosedError, InvalidArgError, KeepAliveTimeoutError } from './errors.js';
import { AuthFailCode } from './handshake.js';
import { DEFAULT_SCRYPT_PARAMS, KeyCache } from './key-derivation.js';
import { type Handler, Link, type LinkOwner, type RequestOptions } from './link.js';
import { DESCRIBE_METHOD, describeHandler } from './describe.js';
import {
  checkOptions,
  DEFAULT_AUTH_MAX_FRAME_BYTES,
  type ResolvedCommonOptions,
  resolveCommon,
  type RpcCommonOptions,
  serverOptionsSchema,
} from './options.js';
import { RpcPeer } from './peer.js';
import {
  type AuthFailureReason,
  type AuthInfo,
  HandshakeFailure,
  sendFail,
  type ServerAuthConfig,
  ServerHandshake,
} from './server-handshake.js';
import { Connection, destroyRefused, type ServerCore } from './server-connection.js';
import { PendingAuthPool } from './pending-auth.js';
import { attachData, type DataRegistration, patternKey, type ServerDataListener } from './server-data.js';
import { type Authenticate, userKeyLookup } from './user-keys.js';
import { waitWithTimeout } from './wait.js';

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
   * Unix-socket peers have no address and count as one (they never evict each other). A value of
   * `maxPendingAuth` or more turns eviction off.
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
}

/** Events of {@link RpcServer}. */
export interface RpcServerEvents {
  /** A client authenticated and is in `peers`. */
  authenticated: [peer: RpcPeer];
  /** A connection was refused during authentication (it is closed). */
  authFailed: [info: AuthFailedInfo];
  /** An authenticated client's connection closed; it has left `peers`. */
  close: [peer: RpcPeer];
  /** Keepalive found a client unresponsive; its connection is being closed (`close` follows). */
  timeout: [peer: RpcPeer];
  /**
   * A handler threw something other than an RpcError (the caller got `INTERNAL`), a connection
   * failed, or the listening server failed (then without `peer`). Emitted only when someone
   * listens, so an unobserved error never throws.
   */
  error: [error: Error, peer?: RpcPeer];
  /** The server is listening. */
  listening: [];
}

/**
 * Authenticated request/response server. Every connection must complete the challenge-response
 * handshake before anything else is processed; then it becomes an {@link RpcPeer} in `peers`,
 * whose requests reach the handlers registered with `handle`, and which the server can call back
 * (`request`) and send events to (`send`, `broadcast`).
 *
 * @typeParam D - methods the server handles, inferred from `options.contract`.
 * @typeParam C - methods its clients handle (`request`), inferred from `options.contract`.
 */
export class RpcServer<D extends ContractDefinition = UntypedMethods, C extends ContractDefinition = UntypedMethods> extends EventEmitter<RpcServerEvents> {
  readonly #ns: NsServer;
  readonly #common: ResolvedCommonOptions;
  readonly #owner: LinkOwner;
  readonly #handlers = new Map<string, Handler>();
  readonly #peers = new Map<string, RpcPeer>();
  readonly #links = new Map<string, Link>();
  readonly #connections = new WeakMap<NsSocket, Connection>();
  readonly #auth: ServerAuthConfig;
  readonly #throttle: AuthThrottle | undefined;
  readonly #pendingAuth: PendingAuthPool<Connection>;
  readonly #authMaxFrameBytes: number;
  readonly #shutdownTimeoutMs: number;
  readonly #dataRegistrations: DataRegistration[] = [];
  readonly #routing: PeerRouting;
  #closing: Promise<void> | undefined;

  constructor(options: RpcServerOptions<D, C>) {
    super();
    checkOptions(serverOptionsSchema, options, 'RpcServer');
    const {
      password,
      authenticate,
      maxPendingAuth,
      maxPendingAuthPerAddress,
      authMaxFrameBytes,
      authThrottle,
      shutdownTimeoutMs,
      requestTimeoutMs: _requestTimeoutMs,
      keepAlive: _keepAlive,
      authTimeoutMs: _authTimeoutMs,
      maxConcurrentRequests: _maxConcurrentRequests,
      contract,
      cluster,
      describe,
      ...nsOptions
    } = options;
    if (password === undefined && authenticate === undefined) {
      throw new InvalidArgError('RpcServer needs a password or an authenticate function');
    }
    this.#common = resolveCommon(options as RpcCommonOptions<ContractDefinition, ContractDefinition>);
    this.#pendingAuth = new PendingAuthPool(maxPendingAuth ?? 256, maxPendingAuthPerAddress ?? 8);
    this.#authMaxFrameBytes = authMaxFrameBytes ?? DEFAULT_AUTH_MAX_FRAME_BYTES;
    this.#shutdownTimeoutMs = shutdownTimeoutMs ?? 10_000;
    this.#throttle = authThrottle === false ? undefined : new AuthThrottle(authThrottle ?? {});

    const salt = randomBytes(16);
    const params = DEFAULT_SCRYPT_PARAMS;
    const keys = new KeyCache(256);
    let keyFor: (info: AuthInfo) => Promise<Buffer | undefined>;
    if (authenticate !== undefined) {
      // A failing lookup refuses the client (as unknown) and is the server's problem to see.
      keyFor = userKeyLookup({ salt, params, authenticate, keys, onLookupError: (error) => this.#emitError(error) });
    } else {
      // Derived once, now: no connection ever pays for it.
      const key = keys.get(password!, salt, params);
      key.catch(() => {});
      keyFor = () => key;
    }
    this.#auth = {
      salt,
      params,
      authTimeoutMs: this.#common.authTimeoutMs,
      throttle: this.#throttle,
      keyFor,
      decoyKey: randomBytes(32),
    };

    if (describe === true) {
      this.#handlers.set(DESCRIBE_METHOD, describeHandler({ requests: this.#handlers, methods: (contract as Contract | undefined)?.methods }));
    }
    const common = this.#common;
    this.#owner = {
      handlers: this.#handlers,
      handled: (contract as Contract | undefined)?.methods,
      called: (contract as Contract | undefined)?.clientMethods,
      validateResults: false,
      maxConcurrentRequests: common.maxConcurrentRequests,
      requestTimeoutMs: common.requestTimeoutMs,
      reportError: (error, peer) => this.#emitError(error, peer),
      linkTimedOut: (link) => this.#linkTimedOut(link),
    };
    const core: ServerCore = {
      opening: (connection, socket, signal) => this.#opening(connection, socket, signal),
      closed: (connection, error) => this.#closed(connection, error),
    };
    this.#ns = createServer(
      {
        ...nsOptions,
        extension: (socket) => {
          const connection = new Connection(core);
          this.#connections.set(socket, connection);
          return connection;
        },
      },
      (socket) => this.#opened(socket),
    );
    this.#ns.on('clientError', (error, socket) => {
      const connection = socket === undefined ? undefined : this.#connections.get(socket);
      const peer = connection?.link?.peer;
      debug('rpc server: client error: %s', error.message);
      if (peer !== undefined) this.#emitError(error, peer);
    });
    this.#ns.on('listening', () => this.emit('listening'));
    this.#ns.on('error', (error) => this.#emitError(error));
    this.#routing = new PeerRouting(
      {
        links: this.#links,
        broadcastLocal: (event, data) => this.#ns.broadcast(event, data),
        requestTimeoutMs: common.requestTimeoutMs,
        reportError: (error) => this.#emitError(error),
      },
      cluster === undefined ? undefined : (host) => cluster.join(host),
    );
  }

  /** Authenticated clients by peer id. */
  get peers(): ReadonlyMap<string, RpcPeer> {
    return this.#peers;
  }

  /** Connections currently authenticating. */
  get pendingAuth(): number {
    return this.#pendingAuth.size;
  }

  /**
   * Start listening on `{ host, port }` (port 0 picks a free one) or `{ path }`.
   * @returns the bound address.
   */
  listen(options: ListenOptions): Promise<ServerAddress> {
    return this.#ns.listen(options);
  }

  /** Where the server listens. @throws NotConnectedError when not listening. */
  address(): ServerAddress {
    return this.#ns.address();
  }

  /**
   * Register the handler of `method` (replacing any previous one). Its params are validated
   * against the contract first, when the contract has the method. Without a contract params are
   * `unknown`; annotate them (`({ a, b }: { a: number; b: number }) => a + b`) to type the handler.
   */
  handle<M extends MethodName<D>, P = unknown>(
    method: M,
    handler: Handler<string extends MethodName<D> ? P : ParamsOutput<D, M>, ResultInput<D, M>>,
  ): this;
  handle<P = unknown>(method: readonly string[], handler: Handler<P>): this;
  handle(method: string | readonly string[], handler: Handler<never, unknown>): this {
    this.#handlers.set(methodName(method), handler as Handler);
    return this;
  }

  /** Remove the handler of `method`; later requests get `ERR_METHOD_NOT_FOUND`. */
  removeHandler(method: string | readonly string[]): this {
    this.#handlers.delete(methodName(method));
    return this;
  }

  /**
   * Call a method a client handles (`client.handle`). Settles like `RpcClient.request`;
   * `ERR_PEER_NOT_FOUND` at once when no such peer is connected (to any node of the cluster).
   * Typed by the contract's `client` methods when it declares them.
   */
  request<M extends MethodName<C>>(peerId: string, method: M, ...args: RequestArgs<ParamsInput<C, M>>): Promise<ResultOutput<C, M>>;
  request(peerId: string, method: readonly string[], params?: unknown, options?: RequestOptions): Promise<unknown>;
  request(peerId: string, method: string | readonly string[], params?: unknown, options?: RequestOptions): Promise<unknown> {
    return this.#routing.request(peerId, methodName(method), params, options);
  }

  /**
   * Send an event to one client.
   * Send an event to one client (on any node of the cluster).
   * @returns false when the writer should back off (true once handed to the cluster for a peer
   * on another node).
   * @throws PeerNotFoundError when no such peer is connected; ClusterUnavailableError when the
   * peer is on another node and the cluster cannot be reached.
   */
  send(peerId: string, event: string | readonly string[], data?: unknown): boolean {
    return this.#routing.send(peerId, event, data);
  }

  /**
   * Send an event to every authenticated client, encoded once (with a cluster: once per node,
   * reaching every node's clients).
   * @returns how many clients of this server it was sent to.
   */
  broadcast(event: string | readonly string[], data?: unknown): number {
    return this.#routing.broadcast(event, data);
  }

  /**
   * Every authenticated client of every node of the cluster (without a cluster: this server's,
   * with `nodeId` `''`). Rejects with `ERR_CLUSTER_UNAVAILABLE` while the cluster cannot be reached.
   */
  clusterPeers(): Promise<ClusterPeerInfo[]> {
    return this.#routing.clusterPeers();
  }

  /**
   * Listen for events from any client: `listener(data, segments, peer)`. Wildcards as in ns: `*`
   * matches one segment, `**` any number.
   */
  data(event: EventPattern, listener: ServerDataListener): this {
    const registration: DataRegistration = { pattern: event, listener, wrappers: new Map() };
    this.#dataRegistrations.push(registration);
    for (const link of this.#links.values()) attachData(registration, link);
    return this;
  }

  /** Remove a listener added with `data` (same pattern and listener). */
  offData(event: EventPattern, listener: ServerDataListener): this {
    const key = patternKey(event);
    const index = this.#dataRegistrations.findIndex((r) => r.listener === listener && patternKey(r.pattern) === key);
    if (index < 0) return this;
    const [registration] = this.#dataRegistrations.splice(index, 1);
    for (const link of this.#links.values()) {
      const wrapper = registration!.wrappers.get(link.peer);
      if (wrapper !== undefined) link.socket.offData(registration!.pattern, wrapper);
    }
    registration!.wrappers.clear();
    return this;
  }

  /**
   * Shut down gracefully: refuse new connections and new requests, let requests in flight finish
   * (up to `timeoutMs`), then close every connection and stop listening.
   */
  close(options?: { timeoutMs?: number | undefined }): Promise<void> {
    this.#closing ??= this.#shutdown(options?.timeoutMs ?? this.#shutdownTimeoutMs);
    return this.#closing;
  }

  /** Closes the server (`await using server = ...`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    this.#routing.member?.drain();
    const idle: Promise<void>[] = [];
    for (const link of this.#links.values()) {
      link.closing = true;
      idle.push(link.whenIdle());
    }
    const started = Date.now();
    if (idle.length > 0) await waitWithTimeout(Promise.all(idle), timeoutMs);
    const closeOptions: CloseOptions = { timeoutMs: Math.max(0, timeoutMs - (Date.now() - started)) };
    if (this.#ns.listening) await this.#ns.close(closeOptions);
    else for (const link of [...this.#links.values()]) link.socket.destroy();
    await this.#routing.member?.leave();
  }

  // ---- connection lifecycle ----------------------------------------------------------------

  #opening(connection: Connection, socket: NsSocket, signal: AbortSignal): Promise<void> {
    const address = socket.remoteAddress;
    if (this.#closing !== undefined) {
      return Promise.reject(new ConnectionClosedError('the server is shutting down'));
    }
    // First of all: a connection refused below reads no more than authMaxFrameBytes either.
    const previousLimit = socket.maxFrameBytes;
    socket.maxFrameBytes = Math.min(previousLimit, this.#authMaxFrameBytes);
    // Unix-socket peers have no address: they share one, as in the auth throttle.
    if (!this.#pendingAuth.acquire(address ?? '', connection)) {
      this.#reportAuthFailure(address, 'too-many-pending');
      return this.#refuse(connection, socket, AuthFailCode.OVERLOADED);
    }
    let handshake: ServerHandshake;
    try {
      handshake = new ServerHandshake(socket, this.#auth, (username) => {
        socket.maxFrameBytes = previousLimit;
        const link = new Link(socket, this.#owner, this.#common.keepAlive);
        link.peer = new RpcPeer(link, username, this.#routing.member?.nextPeerId());
        connection.link = link;
        link.start();
      });
    } catch (error) {
      this.#pendingAuth.release(connection);
      return Promise.reject(error);
    }
    connection.handshake = handshake;
    // ns aborts with the link's error: a protocol error of the layers below fails the handshake.
    signal.addEventListener('abort', () => handshake.abort(signal.reason), { once: true });
    return handshake.promise.then(
      () => {
        this.#pendingAuth.release(connection);
        connection.handshake = undefined;
      },
      (failure: HandshakeFailure) => {
        this.#pendingAuth.release(connection);
        if (failure.reason === 'disconnected') throw failure.error;
        if (failure.reason === 'too-many-pending') {
          // Evicted for another address (its slot is already taken again).
          this.#reportAuthFailure(address, failure.reason);
          return this.#refuse(connection, socket, AuthFailCode.OVERLOADED);
        }
        if (failure.reason === 'protocol-error') this.#throttle?.recordFailure(address ?? '', Date.now());
        this.#reportAuthFailure(address, failure.reason);
        if (failure.reason === 'wrong-password' || failure.reason === 'unknown-user') {
          // AUTH_FAIL was sent: close gracefully so it reaches the client.
          return this.#closeRefused(connection, socket, failure.error);
        }
        throw failure.error;
      },
    );
  }

  /** Refuse a connection with AUTH_FAIL (`code`) and close it once that is flushed. */
  #refuse(connection: Connection, socket: NsSocket, code: number): Promise<void> {
    sendFail(socket, code);
    return this.#closeRefused(connection, socket, new ConnectionClosedError('connection refused'));
  }

  /**
   * ns destroys a link whose opening rejects, dropping what was just sent; so end it gracefully
   * instead and settle the opening only once the link has closed (destroying it if the peer does
   * not close its side in time).
   */
  #closeRefused(connection: Connection, socket: NsSocket, error: Error): Promise<void> {
    return new Promise<void>((_resolve, reject) => {
      connection.settleRefused = reject;
      connection.refuseTimer = setTimeout(destroyRefused, this.#common.authTimeoutMs, socket);
      void socket.end();
    }).catch(() => {
      throw error;
    });
  }

  #opened(socket: NsSocket): void {
    const connection = this.#connections.get(socket);
    const link = connection?.link;
    if (link === undefined || !link.open) return;
    const peer = link.peer;
    this.#peers.set(peer.id, peer);
    this.#links.set(peer.id, link);
    if (this.#closing !== undefined) link.closing = true;
    for (const registration of this.#dataRegistrations) attachData(registration, link);
    const member = this.#routing.member;
    if (member !== undefined) member.peerJoined(peerInfo(peer, member.nodeId));
    if (authChannel.hasSubscribers) {
      authChannel.publish({ side: 'server', address: peer.address, ok: true, peerId: peer.id });
    }
    this.emit('authenticated', peer);
  }

  #closed(connection: Connection, error: Error | undefined): void {
    connection.handshake?.abort(error);
    if (connection.refuseTimer !== undefined) clearTimeout(connection.refuseTimer);
    connection.settleRefused?.(new ConnectionClosedError('connection refused'));
    connection.settleRefused = undefined;
    const link = connection.link;
    if (link === undefined) return;
    connection.link = undefined;
    link.closed(error);
    const peer = link.peer;
    for (const registration of this.#dataRegistrations) registration.wrappers.delete(peer);
    if (this.#peers.get(peer.id) === peer) {
      this.#peers.delete(peer.id);
      this.#links.delete(peer.id);
      this.#routing.member?.peerLeft(peer.id);
      this.emit('close', peer);
    }
  }

  #linkTimedOut(link: Link): void {
    debug('rpc server: keepalive timeout for %s', link.peer.id);
    this.emit('timeout', link.peer);
    link.socket.destroy(new KeepAliveTimeoutError('the client stopped answering keepalive pings'));
  }

  #reportAuthFailure(address: string | undefined, reason: AuthFailureReason): void {
    debug('rpc server: authentication failed from %s: %s', address, reason);
    if (authChannel.hasSubscribers) authChannel.publish({ side: 'server', address, ok: false, reason });
    this.emit('authFailed', { address, reason });
  }

  #emitError(error: Error, peer?: RpcPeer): void {
    if (this.listenerCount('error') === 0) {
      debug('rpc server: unobserved error: %s', error.message);
      return;
    }
    if (peer === undefined) this.emit('error', error);
    else this.emit('error', error, peer);
  }
}
