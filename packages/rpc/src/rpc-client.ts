import { EventEmitter } from 'node:events';
import {
  type DataListener,
  type EventPattern,
  type NsExtension,
  type NsReconnectingInfo,
  type NsResumedInfo,
  type NsSessionLostInfo,
  NsSocket,
  type NsSocketOptions,
} from '@proto/ns';
import './debug-log.js';
import { ClientHandshake } from './client-handshake.js';
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
import { authChannel, publishError, timeoutChannel } from './diagnostics.js';
import { AbortedError, ConnectionClosedError, InvalidArgError, KeepAliveTimeoutError, NotConnectedError, ProtocolError } from './errors.js';
import type { Handler } from './inbound-call.js';
import { HandlerTable } from './handler-table.js';
import { KeyCache, SerialDeriver } from './key-derivation.js';
import type { LinkOwner } from './link-owner.js';
import type { Link } from './link.js';
import { LinkSetup } from './link-setup.js';
import { RPC_LINK_MESSAGE_TYPES } from './session-owner.js';
import { NS_CLIENT_KEYS } from './lower-option-keys.js';
import {
  checkOptions,
  clientOptionsSchema,
  DEFAULT_AUTH_MAX_FRAME_BYTES,
  lowerLayerOptions,
  type ResolvedCommonOptions,
  resolveCommon,
  type RpcCommonOptions,
} from './options.js';
import { nextServerLinkId, type RpcPeer } from './peer.js';
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
import { FailedStream } from './outgoing-stream.js';
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
  readonly #common: ResolvedCommonOptions;
  readonly #owner: LinkOwner;
  readonly #handlers = new HandlerTable();
  readonly #streamHandlers = new HandlerTable<StreamHandler>('handleStream');
  readonly #password: string | Uint8Array;
  readonly #username: string;
  readonly #authMaxFrameBytes: number;
  readonly #shutdownTimeoutMs: number;
  /** This client's key derivations, one at a time (a hostile server cannot pile them up). */
  readonly #keys = new SerialDeriver(clientKeys);
  /** The current ns link's setup: its handshake, then its rpc link. */
  #setup: LinkSetup | undefined;
  #handshake: ClientHandshake | undefined;
  /** With `resume`: the rpc link kept across a link drop while the session lives. */
  #kept: Link | undefined;
  #closing = false;

  constructor(options: RpcClientOptions<D, C>) {
    super();
    checkOptions(clientOptionsSchema, options, 'RpcClient', NS_CLIENT_KEYS);
    this.#common = resolveCommon(options as RpcCommonOptions<ContractDefinition, ContractDefinition>);
    this.#password = options.password;
    this.#username = options.username ?? '';
    this.#authMaxFrameBytes = options.authMaxFrameBytes ?? DEFAULT_AUTH_MAX_FRAME_BYTES;
    this.#shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
    const contract = options.contract as Contract | undefined;
    const validateResults = options.validateResults ?? false;
    const handlers = this.#handlers.map;
    const common = this.#common;
    this.#owner = {
      side: 'client',
      handlers,
      handled: contract?.clientMethods,
      called: contract?.methods,
      validateResults,
      maxConcurrentRequests: common.maxConcurrentRequests,
      streamHandlers: this.#streamHandlers.map,
      maxConcurrentStreams: common.maxConcurrentStreams,
      requestTimeoutMs: common.requestTimeoutMs,
      reportError: (error) => this.#emitError(error),
      linkTimedOut: (peer) => this.#linkTimedOut(peer),
    };
    const nsOptions = lowerLayerOptions(clientOptionsSchema, options);
    const extension: NsExtension = {
      onMessage: (_socket, type, body) => this.#onMessage(type, body),
      onLinkOpening: (socket, signal) => this.#onLinkOpening(socket, signal),
      onLinkClosed: (_socket, error) => this.#onLinkClosed(error),
      linkMessageTypes: RPC_LINK_MESSAGE_TYPES,
      onLinkResumed: () => this.#setup?.link?.keepAlive?.start(),
      onSessionLost: () => this.#onSessionLost(),
    };
    this.#socket = new NsSocket({ ...(nsOptions as NsSocketOptions), extension });
    this.#socket.on('connect', () => {
      const link = this.#setup?.link;
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
    return this.#setup?.link !== undefined && this.#socket.connected;
  }

  /** The server's side of the current link (stats, requests, events); undefined while disconnected. */
  get peer(): RpcPeer | undefined {
    return this.#setup?.link?.peer;
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
   * @param method `'a::b'` or `['a', 'b']`.
   */
  request<M extends MethodName<D>>(method: M, ...args: RequestArgs<ParamsInput<D, M>>): Promise<ResultOutput<D, M>>;
  request(method: readonly string[], params?: unknown, options?: RequestOptions): Promise<unknown>;
  request(method: string | readonly string[], params?: unknown, options?: RequestOptions): Promise<unknown> {
    // In a resumable session, a request made while the link is down waits in the window.
    const link = this.#setup?.link ?? this.#kept;
    const name = typeof method === 'string' ? method : methodName(method);
    if (link === undefined) {
      const signal = options?.signal;
      if (signal?.aborted === true) {
        return Promise.reject(new AbortedError(`request ${name} aborted before it was sent`, { cause: signal.reason }));
      }
      return Promise.reject(new NotConnectedError(`cannot send request ${name}: not connected`));
    }
    return link.request(name, params, options);
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
    // In a resumable session, a request made while the link is down waits in the window.
    const link = this.#setup?.link ?? this.#kept;
    const name = typeof method === 'string' ? method : methodName(method);
    if (link === undefined) {
      const signal = options?.signal;
      if (signal?.aborted === true) return new FailedStream(new AbortedError(`stream ${name} aborted before it was opened`, { cause: signal.reason }));
      return new FailedStream(new NotConnectedError(`cannot open stream ${name}: not connected`));
    }
    return link.streams.open(name, params, options);
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
    this.#handlers.set(method, handler);
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
    this.#streamHandlers.set(method, handler);
    return this;
  }

  /** Remove the handler (request or stream) of `method`; later calls get `ERR_METHOD_NOT_FOUND`. */
  removeHandler(method: string | readonly string[]): this {
    this.#handlers.delete(method);
    this.#streamHandlers.delete(method);
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
    const link = this.#setup?.link;
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

  // ---- extension hooks ---------------------------------------------------------------------

  #onLinkOpening(socket: NsSocket, signal: AbortSignal): Promise<void> {
    const setup = new LinkSetup(socket, this.#owner, this.#common.keepAlive, this.#authMaxFrameBytes);
    const handshake = new ClientHandshake(
      socket,
      { password: this.#password, username: this.#username, authTimeoutMs: this.#common.authTimeoutMs, keys: this.#keys },
      // With a resumable session the link kept from before the drop goes on (its requests, calls, streams).
      () => setup.authenticated(nextServerLinkId(), this.#username, this.#kept),
    );
    setup.handshake = handshake;
    this.#setup = setup;
    this.#handshake = handshake;
    signal.addEventListener('abort', () => handshake.fail(new ConnectionClosedError('the link closed during authentication')), {
      once: true,
    });
    return handshake.promise.then(
      () => {
        this.#handshake = undefined;
        if (authChannel.hasSubscribers) {
          authChannel.publish({ side: 'client', address: socket.remoteAddress, ok: true });
        }
      },
      (error: Error) => {
        if (authChannel.hasSubscribers) {
          authChannel.publish({ side: 'client', address: socket.remoteAddress, ok: false, reason: error.message });
        }
        throw error;
      },
    );
  }

  #onMessage(type: number, body: Buffer): void {
    const setup = this.#setup;
    if (setup === undefined) throw new ProtocolError(`unexpected rpc message 0x${type.toString(16)}`);
    setup.onMessage(type, body);
  }

  #onLinkClosed(error: Error | undefined): void {
    this.#handshake?.fail(new ConnectionClosedError('the link closed during authentication'));
    this.#handshake = undefined;
    const setup = this.#setup;
    this.#setup = undefined;
    const link = setup?.link ?? this.#kept;
    if (link !== undefined && this.#socket.inSession) {
      // ns keeps the session: what is in flight is answered after the resume; timeouts keep running.
      link.keepAlive?.stop();
      this.#kept = link;
      return;
    }
    this.#kept = undefined;
    setup?.closed(error);
  }

  /** The session ended or was lost: what was in flight in it fails; a new link (if any) starts afresh. */
  #onSessionLost(): void {
    const old = this.#kept ?? this.#setup?.link;
    this.#kept = undefined;
    old?.closed(new ConnectionClosedError('the session was lost'));
    const setup = this.#setup;
    if (setup !== undefined && setup.link === old && old !== undefined) setup.authenticated(nextServerLinkId(), this.#username);
  }

  #linkTimedOut(peer: RpcPeer): void {
    if (this.#setup?.link?.peer !== peer) return;
    if (timeoutChannel.hasSubscribers) timeoutChannel.publish({ side: 'client', peerId: peer.id });
    this.emit('timeout');
    const error = new KeepAliveTimeoutError('the server stopped answering keepalive pings');
    // dropLink keeps the socket and its backoff (sends in the gap go to the offline queue); without
    // reconnect it is destroy(error). A client being closed must not come back.
    if (this.#closing) this.#socket.destroy(error);
    else this.#socket.dropLink(error);
  }

  #emitError(error: Error): void {
    const emitted = this.listenerCount('error') > 0;
    publishError('client', this.#setup?.link?.peer.id, error, emitted);
    if (emitted) this.emit('error', error);
  }
}
