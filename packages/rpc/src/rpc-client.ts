import { EventEmitter } from 'node:events';
import {
  type DataListener,
  type EventPattern,
  type NsReconnectingInfo,
  type NsResumedInfo,
  type NsSessionLostInfo,
  NsSocket,
  type NsSocketOptions,
} from '@proto/ns';
import { emitErrorIfListened } from '@proto/ns/internal';
import type { DESCRIBE_METHOD, DescribeResult } from './describe.js';
import './debug-log.js';
import { ClientConnection } from './client-connection.js';
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
import { publishError, timeoutChannel } from './diagnostics.js';
import { AbortedError, KeepAliveTimeoutError } from './errors.js';
import type { Handler } from './inbound-call.js';
import { Handlers } from './handler-table.js';
import { KeyCache, SerialDeriver } from './key-derivation.js';
import { NS_CLIENT_KEYS } from './lower-option-keys.js';
import {
  checkOptions,
  clientOptionsSchema,
  DEFAULT_AUTH_MAX_FRAME_BYTES,
  lowerLayerOptions,
  resolveCommon,
  type RpcCommonOptions,
} from './options.js';
import type { RpcPeer } from './peer.js';
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
import type { RequestOptions } from './request-options.js';
import type { RpcConnectOptions, RpcEndOptions, RpcClientEvents, RpcClientOptions } from './client-options.js';
import { waitWithTimeout } from './wait.js';

/** Whether `signal` is aborted now (a function, so an earlier check does not narrow it). */
function wasAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/**
 * Keys derived by clients of this process, by password and salt: a reconnect, or thousands of
 * clients of one process talking to one server, derive the key once.
 */
const clientKeys = new KeyCache(64);


/**
 * Authenticated request/response client. `connect()` resolves once the handshake has completed
 * (and rejects with `ERR_AUTH_FAILED` on wrong credentials, without retrying them). With
 * `reconnect`, a lost link is re-established and re-authenticated before anything queued is
 * flushed. Without `resume`, requests pending at the drop are rejected with `ERR_CONNECTION_CLOSED`
 * and never replayed; with `resume`, they are answered once the session continues on a new link
 * (each runs once), and only a lost session rejects them.
 *
 * @typeParam D - methods the server handles (`request`), inferred from `options.contract`.
 * @typeParam C - methods this client handles (`handle`), inferred from `options.contract`.
 */
export class RpcClient<D extends ContractDefinition = UntypedMethods, C extends ContractDefinition = UntypedMethods> extends EventEmitter<RpcClientEvents> {
  readonly #socket: NsSocket;
  readonly #handlers = new Handlers();
  /** The handshake and rpc link of each ns link: this client's ns extension. */
  readonly #connection: ClientConnection;
  readonly #shutdownTimeoutMs: number;
  /** This client's key derivations, one at a time (a hostile server cannot pile them up). */
  readonly #keys = new SerialDeriver(clientKeys);
  #closing = false;

  constructor(options: RpcClientOptions<D, C>) {
    super();
    checkOptions(clientOptionsSchema, options, 'RpcClient', NS_CLIENT_KEYS);
    const common = resolveCommon(options as RpcCommonOptions<ContractDefinition, ContractDefinition>);
    this.#shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
    const contract = options.contract as Contract | undefined;
    this.#connection = new ClientConnection({
      owner: {
        side: 'client',
        handlers: this.#handlers.requests.map,
        handled: contract?.clientMethods,
        called: contract?.methods,
        validateResults: options.validateResults ?? false,
        maxConcurrentRequests: common.maxConcurrentRequests,
        streamHandlers: this.#handlers.streams.map,
        maxConcurrentStreams: common.maxConcurrentStreams,
        requestTimeoutMs: common.requestTimeoutMs,
        reportError: (error) => this.#emitError(error),
        linkTimedOut: (peer) => this.#linkTimedOut(peer),
      },
      password: options.password,
      username: options.username ?? '',
      authTimeoutMs: common.authTimeoutMs,
      keepAlive: common.keepAlive,
      authMaxFrameBytes: options.authMaxFrameBytes ?? DEFAULT_AUTH_MAX_FRAME_BYTES,
      keys: this.#keys,
    });
    const nsOptions = lowerLayerOptions(clientOptionsSchema, options);
    this.#socket = new NsSocket({ ...(nsOptions as NsSocketOptions), extension: this.#connection });
    this.#socket.on('connect', () => {
      const link = this.#connection.link;
      if (link !== undefined) this.emit('authenticated', link.peer);
    });
    this.#socket.on('disconnect', (error: Error | undefined) => this.emit('disconnect', error));
    this.#socket.on('reconnecting', (info: NsReconnectingInfo) => this.emit('reconnecting', info));
    this.#socket.on('resumed', (info: NsResumedInfo) => this.emit('resumed', info));
    this.#socket.on('sessionLost', (info: NsSessionLostInfo) => this.emit('sessionLost', info));
    this.#socket.on('error', (error: Error) => this.#emitError(error));
    this.#socket.on('close', (error: Error | undefined) => this.emit('close', error));
  }

  /** Whether a link is open and authenticated. */
  get connected(): boolean {
    return this.#connection.link !== undefined && this.#socket.connected;
  }

  /** The server's side of the current link (stats, requests, events); undefined while disconnected. */
  get peer(): RpcPeer | undefined {
    return this.#connection.link?.peer;
  }

  /**
   * Connect and authenticate. Resolves once the server accepted the proof and proved it knows the
   * password too; rejects with `ERR_AUTH_FAILED` (never retried), `ERR_AUTH_TIMEOUT`, or the
   * connection error (after the last attempt with `reconnect`).
   *
   * `signal` abandons the attempt: an already aborted signal rejects at once with `ERR_ABORTED` and
   * dials nothing; aborting later destroys the client (as `destroy()` does) and rejects with
   * `ERR_ABORTED`. Once connected, the signal has no effect.
   */
  async connect(options?: RpcConnectOptions): Promise<this> {
    const signal = options?.signal;
    if (signal?.aborted === true) throw new AbortedError('connect() aborted before it started', { cause: signal.reason });
    this.#closing = false;
    const onAbort = (): void => this.destroy(new AbortedError('connect() aborted', { cause: signal?.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.#socket.connect();
    } catch (error) {
      // A failed connect() leaves no key derivation of this client running behind it.
      await this.#keys.idle();
      if (wasAborted(signal)) throw new AbortedError('connect() aborted', { cause: signal?.reason });
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return this;
  }

  /**
   * Call a method on the server. Settles exactly once: the result; a {@link RemoteError} (or
   * `ERR_METHOD_NOT_FOUND`, `ERR_INVALID_PARAMS`, `ERR_OVERLOADED`); `ERR_REQUEST_TIMEOUT`;
   * `ERR_ABORTED`; `ERR_CONNECTION_CLOSED` if the link drops first; `ERR_NOT_CONNECTED` at once
   * while there is no authenticated link. A timeout or abort also cancels the server's handler.
   *
   * @param method `'a::b'` or `['a', 'b']`; {@link DESCRIBE_METHOD} asks what the server handles (`describe: true`).
   */
  request(method: typeof DESCRIBE_METHOD, params?: undefined, options?: RequestOptions): Promise<DescribeResult>;
  request<M extends MethodName<D>>(method: M, ...args: RequestArgs<ParamsInput<D, M>>): Promise<ResultOutput<D, M>>;
  request(method: readonly string[], params?: unknown, options?: RequestOptions): Promise<unknown>;
  request(method: string | readonly string[], params?: unknown, options?: RequestOptions): Promise<unknown> {
    return this.#connection.request(typeof method === 'string' ? method : methodName(method), params, options);
  }

  /**
   * Open a stream the server serves (`server.handleStream`). Returns at once an async iterator of
   * the handler's items; `for await` consumes it, and the handler sends ahead at most
   * `highWaterMark` items (default 16) more than the loop consumed. The loop ends when the handler
   * finishes; it rejects with the handler's error (`ERR_REMOTE` with `remoteCode`,
   * `ERR_INVALID_PARAMS`, `ERR_METHOD_NOT_FOUND`, `ERR_OVERLOADED`) after the items sent before it,
   * `ERR_ABORTED` (signal), `ERR_REQUEST_TIMEOUT` (`timeoutMs`, none by default),
   * `ERR_CONNECTION_CLOSED` (link lost), or `ERR_NOT_CONNECTED` (no link). `break` cancels it on the
   * wire: the handler's `ctx.signal` aborts and its generator's `finally` runs.
   *
   * @param method `'a::b'` or `['a', 'b']`.
   */
  stream<M extends StreamMethodName<D>>(
    method: string extends StreamMethodName<D> ? never : M,
    ...args: StreamArgs<StreamParamsInput<D, M>, StreamInputInput<D, M>>
  ): AsyncIterableIterator<ItemOutput<D, M>>;
  stream<T = unknown>(
    method: string extends StreamMethodName<D> ? string | readonly string[] : readonly string[],
    params?: unknown,
    options?: StreamOptions,
  ): AsyncIterableIterator<T>;
  stream(method: string | readonly string[], params?: unknown, options?: StreamOptions): AsyncIterableIterator<unknown> {
    return this.#connection.stream(typeof method === 'string' ? method : methodName(method), params, options);
  }

  /**
   * Answer requests the server sends with `server.request(peerId, method, ...)`. Replaces any
   * handler already registered for the method. Typed (and its params validated) by the contract's
   * `client` methods when it declares them; otherwise annotate the params.
   * @throws InvalidArgError when `handler` is not a function or `method` is not a valid name (empty,
   * over 255 bytes, an empty or wildcard segment, a lone surrogate).
   */
  handle<M extends MethodName<C>, P = unknown>(
    method: M,
    handler: Handler<string extends MethodName<C> ? P : ParamsOutput<C, M>, ResultInput<C, M>>,
  ): this;
  handle<P = unknown>(method: readonly string[], handler: Handler<P>): this;
  handle(method: string | readonly string[], handler: Handler<never, unknown>): this {
    this.#handlers.handle(method, handler);
    return this;
  }

  /**
   * Serve streams the server opens with `server.stream(peerId, method, ...)`: `(params, ctx) =>
   * AsyncIterable`, usually an `async function*`. Typed (and validated) by the contract's `client`
   * streams when it declares them.
   */
  handleStream<M extends StreamMethodName<C>, P = unknown, I = unknown, In = unknown>(
    method: M,
    handler: StreamHandler<
      string extends StreamMethodName<C> ? P : StreamParamsOutput<C, M>,
      string extends StreamMethodName<C> ? I : ItemInput<C, M>,
      string extends StreamMethodName<C> ? In : StreamInputOutput<C, M>
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
   * Send an ns event to the server (JSON value or raw bytes). Returns false when the writer should
   * back off. While disconnected it is queued with `offlineQueue`, else throws `ERR_NOT_CONNECTED`.
   */
  send(event: string | readonly string[], data?: unknown): boolean {
    return this.#socket.send(event, data);
  }

  /** Listen for events the server sends; `*` matches one segment, `**` any number. */
  data(event: EventPattern, listener: DataListener): this {
    this.#socket.data(event, listener);
    return this;
  }

  /** Like {@link RpcClient.data}, for the first matching event only. */
  dataOnce(event: EventPattern, listener: DataListener): this {
    this.#socket.dataOnce(event, listener);
    return this;
  }

  /** Remove a listener added with `data`/`dataOnce` (same pattern). */
  offData(event: EventPattern, listener: DataListener): this {
    this.#socket.offData(event, listener);
    return this;
  }

  /**
   * Close gracefully: stop reconnecting, refuse new requests, wait (up to `timeoutMs`) for
   * requests in flight both ways, then flush and close the link.
   */
  async close(options?: RpcEndOptions): Promise<void> {
    this.#closing = true;
    const link = this.#connection.link;
    if (link !== undefined) {
      link.closing = true;
      await waitWithTimeout(link.whenIdle(), options?.timeoutMs ?? this.#shutdownTimeoutMs);
    }
    await this.#socket.end();
  }

  /** The same as {@link RpcClient.close}, under the verb ns and framing sockets use. */
  end(options?: RpcEndOptions): Promise<void> {
    return this.close(options);
  }

  /** Close at once: pending requests reject with `ERR_CONNECTION_CLOSED`. */
  destroy(error?: Error): void {
    this.#closing = true;
    this.#socket.destroy(error);
  }

  /** Closes the client (`await using client = ...`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- reports of the links ---------------------------------------------------------------

  #linkTimedOut(peer: RpcPeer): void {
    if (this.#connection.link?.peer !== peer) return;
    if (timeoutChannel.hasSubscribers) timeoutChannel.publish({ side: 'client', peerId: peer.id });
    this.emit('timeout');
    const error = new KeepAliveTimeoutError('the server stopped answering keepalive pings');
    // dropLink keeps the socket and its backoff (sends in the gap go to the offline queue); without
    // reconnect it is destroy(error). A client being closed must not come back.
    if (this.#closing) this.#socket.destroy(error);
    else this.#socket.dropLink(error);
  }

  #emitError(error: Error): void {
    publishError('client', this.#connection.link?.peer.id, error, emitErrorIfListened(this, error));
  }
}
