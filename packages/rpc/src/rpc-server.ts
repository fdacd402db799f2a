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
import { emitErrorIfListened } from '@proto/ns/internal';
import './debug-log.js';
import { AuthThrottle } from './auth-throttle.js';
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
import type {
  ItemInput,
  ItemOutput,
  StreamArgs,
  StreamInputInput,
  StreamInputOutput,
  StreamMethodName,
  StreamParamsInput,
  StreamParamsOutput,
} from './stream-contract.js';
import type { StreamHandler, StreamOptions } from './stream-types.js';
import { Connection, type ServerSide } from './connection.js';
import { authChannel, publishError, timeoutChannel } from './diagnostics.js';
import { DESCRIBE_METHOD, describeHandler } from './describe.js';
import type { ClusterPeerInfo } from './cluster-adapter.js';
import { PeerRouting, peerInfo } from './cluster-routing.js';
import { InvalidArgError, KeepAliveTimeoutError } from './errors.js';
import type { Handler } from './inbound-call.js';
import { Handlers } from './handler-table.js';
import type { Link } from './link.js';
import type { LinkOwner } from './link-owner.js';
import {
  checkOptions,
  DEFAULT_AUTH_MAX_FRAME_BYTES,
  lowerLayerOptions,
  resolveCommon,
  type RpcCommonOptions,
  serverOptionsSchema,
} from './options.js';
import type { RpcPeer } from './peer.js';
import { NS_SERVER_KEYS } from './lower-option-keys.js';
import { PeerRegistry } from './peer-registry.js';
import { PendingAuthPool } from './pending-auth.js';
import type { RequestOptions } from './request-options.js';
import type { ServerDataListener } from './server-data.js';
import type { AuthFailureReason } from './server-handshake.js';
import { serverAuthConfig } from './server-auth.js';
import type { RpcServerEvents, RpcServerOptions } from './server-options.js';
import { waitWithTimeout } from './wait.js';

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
  readonly #handlers = new Handlers();
  readonly #registry = new PeerRegistry();
  /** The admission state of each accepted ns socket (ns hands the socket, not the extension, to its listeners). */
  readonly #connections = new WeakMap<NsSocket, Connection>();
  readonly #side: ServerSide;
  readonly #shutdownTimeoutMs: number;
  readonly #routing: PeerRouting;
  #closing: Promise<void> | undefined;

  constructor(options: RpcServerOptions<D, C>) {
    super();
    checkOptions(serverOptionsSchema, options, 'RpcServer', NS_SERVER_KEYS);
    const { password, authenticate, contract } = options;
    if (password === undefined && authenticate === undefined) {
      throw new InvalidArgError('RpcServer needs a password or an authenticate function');
    }
    const common = resolveCommon(options as RpcCommonOptions<ContractDefinition, ContractDefinition>);
    this.#shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
    if (options.describe === true) {
      const { requests, streams } = this.#handlers;
      this.#handlers.handle(DESCRIBE_METHOD, describeHandler({ requests: requests.map, streams: streams.map, methods: (contract as Contract | undefined)?.methods }));
    }
    const throttle = options.authThrottle === false ? undefined : new AuthThrottle(options.authThrottle ?? {});
    const owner: LinkOwner = {
      side: 'server',
      handlers: this.#handlers.requests.map,
      handled: (contract as Contract | undefined)?.methods,
      called: (contract as Contract | undefined)?.clientMethods,
      validateResults: false,
      maxConcurrentRequests: common.maxConcurrentRequests,
      streamHandlers: this.#handlers.streams.map,
      maxConcurrentStreams: common.maxConcurrentStreams,
      requestTimeoutMs: common.requestTimeoutMs,
      reportError: (error, peer) => this.#emitError(error, peer),
      linkTimedOut: (peer, socket) => this.#linkTimedOut(peer, socket),
    };
    const server = this;
    this.#side = {
      auth: serverAuthConfig(password, authenticate, common.authTimeoutMs, throttle, (error) => this.#emitError(error)),
      owner,
      keepAlive: common.keepAlive,
      authMaxFrameBytes: options.authMaxFrameBytes ?? DEFAULT_AUTH_MAX_FRAME_BYTES,
      authTimeoutMs: common.authTimeoutMs,
      pendingAuth: new PendingAuthPool(options.maxPendingAuth ?? 256, options.maxPendingAuthPerAddress ?? 8),
      throttle,
      get closing() {
        return server.#closing !== undefined;
      },
      // A cluster's ids are unique across its nodes.
      newPeerId: () => this.#routing.member?.nextPeerId() ?? this.#registry.newPeerId(),
      authFailed: (address, reason) => this.#reportAuthFailure(address, reason),
      linkClosed: (link) => this.#linkClosed(link),
    };
    const nsOptions = lowerLayerOptions(serverOptionsSchema, options) as Omit<NsServerOptions, 'extension'>;
    this.#ns = createServer(
      {
        ...nsOptions,
        extension: (socket) => {
          const connection = new Connection(this.#side);
          this.#connections.set(socket, connection);
          return connection;
        },
      },
      (socket) => this.#opened(socket),
    );
    const tls = options.tls !== undefined;
    this.#ns.on('clientError', (error, socket) => {
      if (socket === undefined && tls) {
        // Only TLS-level refusals come without a socket: ns never saw the connection.
        this.#reportAuthFailure(undefined, 'tls-rejected', error);
        return;
      }
      const peer = socket === undefined ? undefined : this.#connections.get(socket)?.link?.peer;
      if (peer !== undefined) this.#emitError(error, peer);
      else publishError('server', undefined, error, false, 'accept a client');
    });
    this.#ns.on('listening', () => this.emit('listening'));
    this.#ns.on('error', (error) => this.#emitError(error));
    const cluster = options.cluster;
    this.#routing = new PeerRouting(
      {
        links: this.#registry,
        broadcastLocal: (event, data) => this.#ns.broadcast(event, data),
        requestTimeoutMs: common.requestTimeoutMs,
        reportError: (error) => this.#emitError(error),
      },
      cluster === undefined ? undefined : (host) => cluster.join(host),
    );
    const member = this.#routing.member;
    if (member !== undefined) {
      this.#registry.observer = {
        peerAdded: (peer) => member.peerJoined(peerInfo(peer, member.nodeId)),
        peerRemoved: (peer) => member.peerLeft(peer.id),
      };
    }
  }

  /** Authenticated clients by peer id. */
  get peers(): ReadonlyMap<string, RpcPeer> {
    return this.#registry.peers;
  }

  /** Connections currently authenticating. */
  get pendingAuth(): number {
    return this.#side.pendingAuth.size;
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
   * @throws InvalidArgError when `handler` is not a function or `method` is not a valid name (empty,
   * over 255 bytes, an empty or wildcard segment, a lone surrogate).
   */
  handle<M extends MethodName<D>, P = unknown>(
    method: M,
    handler: Handler<string extends MethodName<D> ? P : ParamsOutput<D, M>, ResultInput<D, M>>,
  ): this;
  handle<P = unknown>(method: readonly string[], handler: Handler<P>): this;
  handle(method: string | readonly string[], handler: Handler<never, unknown>): this {
    this.#handlers.handle(method, handler);
    return this;
  }

  /**
   * Register the stream handler of `method` (replacing any previous one): `(params, ctx) =>
   * AsyncIterable`, usually an `async function*`; `ctx.input` holds the items the caller sends.
   * Params (and input items) are validated against the contract's stream entry first.
   */
  handleStream<M extends StreamMethodName<D>, P = unknown, I = unknown, In = unknown>(
    method: M,
    handler: StreamHandler<
      string extends StreamMethodName<D> ? P : StreamParamsOutput<D, M>,
      string extends StreamMethodName<D> ? I : ItemInput<D, M>,
      string extends StreamMethodName<D> ? In : StreamInputOutput<D, M>
    >,
  ): this;
  handleStream<P = unknown, I = unknown, In = unknown>(method: readonly string[], handler: StreamHandler<P, I, In>): this;
  handleStream(method: string | readonly string[], handler: StreamHandler<never, unknown, never>): this {
    this.#handlers.handleStream(method, handler);
    return this;
  }

  /** Remove the handler (request or stream) of `method`; later calls get `ERR_METHOD_NOT_FOUND`. */
  removeHandler(method: string | readonly string[]): this {
    this.#handlers.remove(method);
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
   * Open a stream a client serves (`client.handleStream`): returns at once an async iterator of its
   * items (see `RpcClient.stream`). Its first `next()` rejects with `ERR_PEER_NOT_FOUND` when no
   * such peer is connected (to any node of the cluster). Typed by the contract's `client` streams
   * when it declares them.
   */
  stream<M extends StreamMethodName<C>>(
    peerId: string,
    method: string extends StreamMethodName<C> ? never : M,
    ...args: StreamArgs<StreamParamsInput<C, M>, StreamInputInput<C, M>>
  ): AsyncIterableIterator<ItemOutput<C, M>>;
  stream<T = unknown>(
    peerId: string,
    method: string extends StreamMethodName<C> ? string | readonly string[] : readonly string[],
    params?: unknown,
    options?: StreamOptions,
  ): AsyncIterableIterator<T>;
  stream(peerId: string, method: string | readonly string[], params?: unknown, options?: StreamOptions): AsyncIterableIterator<unknown> {
    return this.#routing.stream(peerId, methodName(method), params, options);
  }

  /**
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
    this.#registry.addData(event, listener);
    return this;
  }

  /** Remove a listener added with `data` (same pattern and listener). */
  offData(event: EventPattern, listener: ServerDataListener): this {
    this.#registry.removeData(event, listener);
    return this;
  }

  /**
   * Shut down gracefully: from the call on, accept no new connection (the listener closes at once)
   * and refuse new requests; let requests in flight finish (up to `timeoutMs`), then close every
   * connection.
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
    await this.#closeLinks(timeoutMs);
    await this.#routing.member?.leave();
  }

  async #closeLinks(timeoutMs: number): Promise<void> {
    const idle: Promise<void>[] = [];
    for (const link of this.#registry.links()) {
      link.closing = true;
      idle.push(link.whenIdle());
    }
    const drain = idle.length === 0 ? undefined : waitWithTimeout(Promise.all(idle), timeoutMs);
    // Stops accepting now (the listener closes at the call), ends the connections once the
    // requests in flight are done (or timeoutMs passed), destroys what is left at timeoutMs.
    if (this.#ns.listening) {
      const closeOptions: CloseOptions = { timeoutMs, drain };
      await this.#ns.close(closeOptions);
      return;
    }
    if (drain !== undefined) await drain;
    for (const link of [...this.#registry.links()]) link.socket.destroy();
  }

  // ---- connection lifecycle ----------------------------------------------------------------

  /** ns opened an accepted link (after the handshake): the client is a peer now. */
  #opened(socket: NsSocket): void {
    // ns opens a link only once the connection's onLinkOpening resolved (state `open`, link set).
    // The rpc link closes only after its connection left `open` (then `link` is undefined here) or
    // on an answer overflow, which drops the socket at once (ns never opens it then): no need to
    // check `link.open` too.
    const link = this.#connections.get(socket)?.link;
    if (link === undefined) return;
    this.#registry.add(link);
    socket.on('resumed', () => this.emit('resumed', link.peer));
    if (this.#closing !== undefined) link.closing = true;
    const peer = link.peer;
    if (authChannel.hasSubscribers) {
      authChannel.publish({ side: 'server', address: peer.address, ok: true, peerId: peer.id });
    }
    this.emit('authenticated', peer);
  }

  #linkClosed(link: Link): void {
    if (this.#registry.remove(link)) this.emit('close', link.peer);
  }

  #linkTimedOut(peer: RpcPeer, socket: NsSocket): void {
    if (timeoutChannel.hasSubscribers) timeoutChannel.publish({ side: 'server', peerId: peer.id });
    this.emit('timeout', peer);
    // A dead link is what a resumable session outlives: only the link drops, the session waits
    // ttlMs for the client (without a session, dropLink closes the socket as destroy does).
    socket.dropLink(new KeepAliveTimeoutError('the client stopped answering keepalive pings'));
  }

  #reportAuthFailure(address: string | undefined, reason: AuthFailureReason, error?: Error): void {
    if (authChannel.hasSubscribers) authChannel.publish({ side: 'server', address, ok: false, reason });
    this.emit('authFailed', error === undefined ? { address, reason } : { address, reason, error });
  }

  #emitError(error: Error, peer?: RpcPeer): void {
    const emitted = peer === undefined ? emitErrorIfListened(this, error) : emitErrorIfListened(this, error, peer);
    publishError('server', peer?.id, error, emitted);
  }
}
