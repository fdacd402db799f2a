import type { NsSocket } from '@proto/ns';
import { type ContractDefinition, schemasIn, validate } from './contract.js';
import {
  debug,
  publishEnd,
  publishStart,
  requestEndChannel,
  requestErrorChannel,
  requestStartChannel,
} from './diagnostics.js';
import { errorFromWire } from './remote-errors.js';
import {
  AbortedError,
  ConnectionClosedError,
  InvalidArgError,
  InvalidResultError,
  NotConnectedError,
  ProtocolError,
  RpcError,
} from './errors.js';
import { InboundCall, type RequestContext } from './inbound-call.js';
import { KeepAlive, type KeepAliveHost, type KeepAliveOptions } from './keepalive.js';
import { IdSlots } from './id-slots.js';
import { MethodNames } from './method-names.js';
import { MessageType } from './message-types.js';
import {
  Encoding,
  encodingOf,
  ErrorKind,
  methodPrefix,
  payloadPart,
  readPayload,
  readU32,
  readWireError,
  REQUEST_FIXED_BYTES,
  requestHeader,
  requestPayloadOffset,
  RESPONSE_FIXED_BYTES,
  responseHeader,
  u32Body,
  type WireError,
} from './messages.js';
import type { RpcPeer } from './peer.js';
import { PendingRequest, RequestTable, type RequestTableHost } from './request-table.js';
import { performance } from 'node:perf_hooks';
import { isStreamOpen, STREAM_TYPE_MAX, STREAM_TYPE_MIN } from './stream-messages.js';
import { type StreamLinkHost, type StreamOwner, StreamSession } from './stream-session.js';

/** A request handler: params in, result (or a promise of it) out. Throw {@link RpcError} to fail. */
export type Handler<Params = unknown, Result = unknown> = (params: Params, ctx: RequestContext) => Result | Promise<Result>;

/** What every link of a client or server shares: handlers, contract, limits, error reporting. */
export interface LinkOwner extends StreamOwner {
  readonly handlers: ReadonlyMap<string, Handler>;
  /** Schemas of the methods this side handles: params of incoming requests are validated. */
  readonly handled: ContractDefinition | undefined;
  /** Schemas of the methods this side calls: results are validated with `validateResults`. */
  readonly called: ContractDefinition | undefined;
  readonly validateResults: boolean;
  readonly maxConcurrentRequests: number;
  readonly requestTimeoutMs: number;
  /** A handler threw something that is not an RpcError, or an answer could not be sent. */
  reportError(error: Error, peer: RpcPeer): void;
  /** Keepalive declared the peer dead; the link is about to be destroyed. */
  linkTimedOut(link: Link): void;
}

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

const INTERNAL_MESSAGE = 'Internal error';

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

async function awaitHandler(link: Link, call: InboundCall, pending: PromiseLike<unknown>): Promise<void> {
  let value: unknown;
  try {
    value = await pending;
  } catch (error) {
    link.finishError(call, error);
    return;
  }
  link.finishOk(call, value);
}

/**
 * The request/response machinery of one authenticated connection: outgoing requests by id,
 * incoming calls by id, keepalive. A new Link is made for every link (reconnects included), so a
 * response can only ever settle a request sent on the same connection.
 */
export class Link implements RequestTableHost, KeepAliveHost, StreamLinkHost {
  readonly socket: NsSocket;
  readonly owner: LinkOwner;
  /** Public face of this link; set right after construction. */
  peer!: RpcPeer;
  readonly outgoing: RequestTable;
  /** Calls whose handlers outlive the tick they started in, by the peer's request id. */
  readonly incoming = new IdSlots<InboundCall>();
  readonly keepAlive: KeepAlive | undefined;
  /** Streams of this link, both ways. */
  readonly streams: StreamSession;
  /** Authenticated and not closed. */
  open = false;
  /** Graceful close under way: new incoming requests are refused. */
  closing = false;
  requestsIn = 0;
  requestsOut = 0;
  readonly #methodNames = new MethodNames();
  #idleWaiter: (() => void) | undefined;

  constructor(socket: NsSocket, owner: LinkOwner, keepAlive: Required<KeepAliveOptions> | false) {
    this.socket = socket;
    this.owner = owner;
    this.outgoing = new RequestTable(this);
    this.keepAlive = keepAlive === false ? undefined : new KeepAlive(this, keepAlive);
    this.streams = new StreamSession(this, owner);
  }

  /** Authentication done: requests may flow. */
  start(): void {
    this.open = true;
    this.keepAlive?.start();
  }

  /** The link is gone: settle everything, stop timers. Safe to call more than once. */
  closed(error: Error | undefined): void {
    const wasOpen = this.open;
    this.open = false;
    this.keepAlive?.stop();
    this.streams.closed(error);
    if (!wasOpen && this.outgoing.size === 0 && this.incoming.size === 0) return;
    this.outgoing.rejectAll('connection closed before the response arrived', error);
    if (this.incoming.size > 0) {
      const reason = new ConnectionClosedError('connection closed', error === undefined ? undefined : { cause: error });
      for (const call of this.incoming.takeAll()) call.cancel(reason);
    }
    this.#checkIdle();
  }

  // ---- outgoing ----------------------------------------------------------------------------

  /** Send a request; see `RpcClient.request`. */
  request(method: string, params: unknown, options: RequestOptions | undefined): Promise<unknown> {
    const signal = options?.signal;
    if (signal?.aborted === true) {
      return Promise.reject(new AbortedError(`request ${method} aborted before it was sent`, { cause: signal.reason }));
    }
    if (!this.open || this.closing) {
      return Promise.reject(new NotConnectedError(`cannot send request ${method}: not connected`));
    }
    const timeoutMs = options?.timeoutMs ?? this.owner.requestTimeoutMs;
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) {
      return Promise.reject(new InvalidArgError(`timeoutMs must be a number >= 0 (0 disables), got ${String(timeoutMs)}`));
    }
    const prefix = methodPrefix(method);
    if (prefix === undefined || method.length === 0) {
      return Promise.reject(new InvalidArgError('method names must be 1 to 255 bytes of UTF-8'));
    }
    const encoding = encodingOf(params);
    let payload: string | Uint8Array | undefined;
    try {
      payload = payloadPart(params, encoding);
    } catch (error) {
      return Promise.reject(new InvalidArgError(`params of ${method} are not JSON-serializable`, { cause: error }));
    }
    let id = this.outgoing.nextId();
    while (this.streams.holdsOutgoing(id)) id = this.outgoing.nextId();
    const header = requestHeader(id, encoding, prefix);
    try {
      this.socket.sendExtension(MessageType.REQUEST, payload === undefined ? header : [header, payload]);
    } catch (error) {
      return Promise.reject(error);
    }
    const observed = requestStartChannel.hasSubscribers;
    const entry = new PendingRequest(this.outgoing, id, method, observed ? performance.now() : 0);
    this.outgoing.add(entry, timeoutMs, signal);
    this.requestsOut++;
    if (observed) publishStart('outgoing', id, method, this.peer);
    return entry.promise;
  }

  /** RequestTableHost */
  sendCancel(id: number): void {
    if (!this.open) return;
    try {
      this.socket.sendExtension(MessageType.CANCEL, u32Body(id));
    } catch (error) {
      debug('rpc: could not send cancel for %d: %s', id, (error as Error).message);
    }
  }

  /** RequestTableHost */
  requestSettled(entry: PendingRequest, error: Error | undefined, pending: number): void {
    if (entry.startedAt !== 0) publishEnd('outgoing', entry.id, entry.method, this.peer, entry.startedAt, error);
    if (pending === 0 && this.#idleWaiter !== undefined) this.#checkIdle();
  }

  #onResult(body: Buffer): void {
    const id = readU32(body, RESPONSE_FIXED_BYTES);
    const value = readPayload(body, body[4] ?? Encoding.JSON, RESPONSE_FIXED_BYTES);
    const entry = this.outgoing.take(id);
    if (entry === undefined) return; // answer to a request that already timed out or was aborted
    if (this.owner.validateResults) {
      const schemas = schemasIn(this.owner.called, entry.method);
      if (schemas !== undefined) {
        const result = validate(schemas.result, value);
        if (!result.ok) {
          const error = new InvalidResultError(`result of ${entry.method} does not match the contract:\n${result.message}`, result.issues);
          entry.reject(error);
          this.outgoing.settled(entry, error);
          return;
        }
        entry.resolve(result.value);
        this.outgoing.settled(entry, undefined);
        return;
      }
    }
    entry.resolve(value);
    this.outgoing.settled(entry, undefined);
  }

  #onError(body: Buffer): void {
    const id = readU32(body, RESPONSE_FIXED_BYTES);
    const wire = readWireError(body);
    const entry = this.outgoing.take(id);
    if (entry === undefined) {
      this.streams.onError(id, body[4] ?? ErrorKind.REMOTE, wire);
      return;
    }
    const error = errorFromWire(body[4] ?? ErrorKind.REMOTE, wire, entry.method);
    entry.reject(error);
    this.outgoing.settled(entry, error);
  }

  // ---- incoming ----------------------------------------------------------------------------

  #onRequest(body: Buffer): void {
    const id = readU32(body, REQUEST_FIXED_BYTES);
    if (isStreamOpen(body)) {
      this.streams.onOpen(body);
      return;
    }
    const method = this.#methodNames.read(body);
    const params = readPayload(body, body[4] ?? Encoding.JSON, requestPayloadOffset(body));
    if (this.incoming.get(id) !== undefined || this.streams.holdsIncoming(id)) throw new ProtocolError(`peer reused request id ${id} while it was in flight`);
    this.requestsIn++;
    if (this.closing) {
      this.#sendError(id, ErrorKind.SHUTTING_DOWN, { message: 'the remote side is shutting down' });
      return;
    }
    const handler = this.owner.handlers.get(method);
    if (handler === undefined) {
      this.#sendError(id, ErrorKind.METHOD_NOT_FOUND, { message: `no handler for method ${method}` });
      return;
    }
    if (this.incoming.size >= this.owner.maxConcurrentRequests) {
      this.#sendError(id, ErrorKind.OVERLOADED, {
        message: `more than ${this.owner.maxConcurrentRequests} requests in flight on this connection`,
      });
      return;
    }
    let input = params;
    const schemas = schemasIn(this.owner.handled, method);
    if (schemas !== undefined) {
      const result = validate(schemas.params, params);
      if (!result.ok) {
        this.#sendError(id, ErrorKind.INVALID_PARAMS, {
          message: `invalid params for ${method}:\n${result.message}`,
          data: result.issues,
        });
        return;
      }
      input = result.value;
    }
    const call = new InboundCall(this.peer, id, method);
    const observed = requestStartChannel.hasSubscribers;
    if (observed) {
      call.startedAt = performance.now();
      publishStart('incoming', id, method, this.peer);
    }
    let value: unknown;
    try {
      value = handler(input, call);
    } catch (error) {
      this.finishError(call, error);
      return;
    }
    if (isThenable(value)) {
      // Only calls that outlive this tick occupy a slot (and can be cancelled).
      this.incoming.add(call);
      void awaitHandler(this, call, value);
      return;
    }
    this.finishOk(call, value);
  }

  /** @internal a handler produced `value` */
  finishOk(call: InboundCall, value: unknown): void {
    this.#release(call);
    if (call.cancelled || !this.open) return;
    const encoding = encodingOf(value);
    let payload: string | Uint8Array | undefined;
    try {
      payload = payloadPart(value, encoding);
    } catch (error) {
      this.#internalError(call, new InvalidArgError(`result of ${call.method} is not JSON-serializable`, { cause: error }));
      return;
    }
    const header = responseHeader(call.id, encoding);
    try {
      this.socket.sendExtension(MessageType.RESULT, payload === undefined ? header : [header, payload]);
    } catch (error) {
      // Typically a result over maxFrameBytes: tell the caller something went wrong instead of
      // leaving it to time out.
      this.#internalError(call, error as Error);
      return;
    }
    if (requestEndChannel.hasSubscribers) publishEnd('incoming', call.id, call.method, this.peer, call.startedAt, undefined);
  }

  /** @internal a handler threw or rejected with `error` */
  finishError(call: InboundCall, error: unknown): void {
    this.#release(call);
    if (error instanceof RpcError) {
      if (requestErrorChannel.hasSubscribers) publishEnd('incoming', call.id, call.method, this.peer, call.startedAt, error);
      if (call.cancelled || !this.open) return;
      const wire: WireError = { code: error.code, message: error.message };
      if (error.data !== undefined) wire.data = error.data;
      this.#sendError(call.id, ErrorKind.REMOTE, wire);
      return;
    }
    this.#internalError(call, error instanceof Error ? error : new Error(String(error)));
  }

  #internalError(call: InboundCall, error: Error): void {
    if (requestErrorChannel.hasSubscribers) publishEnd('incoming', call.id, call.method, this.peer, call.startedAt, error);
    // A handler failing because its caller went away is expected, not worth an error event.
    if (!call.cancelled) this.owner.reportError(error, this.peer);
    if (call.cancelled || !this.open) return;
    this.#sendError(call.id, ErrorKind.REMOTE, { code: 'INTERNAL', message: INTERNAL_MESSAGE });
  }

  #release(call: InboundCall): void {
    if (this.incoming.size !== 0 && this.incoming.delete(call)) {
      if (this.#idleWaiter !== undefined) this.#checkIdle();
    }
  }

  #sendError(id: number, kind: number, wire: WireError): void {
    let text: string;
    try {
      text = JSON.stringify(wire);
    } catch {
      // data that JSON cannot carry: keep code and message
      text = JSON.stringify({ code: wire.code, message: wire.message });
    }
    try {
      this.socket.sendExtension(MessageType.ERROR, [responseHeader(id, kind), text]);
    } catch (error) {
      debug('rpc: could not send error answer for %d: %s', id, (error as Error).message);
    }
  }

  #onCancel(body: Buffer): void {
    const id = readU32(body, 4);
    const call = this.incoming.get(id);
    if (call === undefined) {
      this.streams.onCancel(id);
      return;
    }
    // The slot is freed now: a handler that ignores its signal must not hold it forever. Its
    // eventual answer is dropped.
    this.incoming.delete(call);
    call.cancel(new AbortedError('the caller cancelled the request'));
    if (this.#idleWaiter !== undefined) this.#checkIdle();
  }

  // ---- keepalive ---------------------------------------------------------------------------

  /** KeepAliveHost */
  keepAliveBytesIn(): number {
    return this.socket.stats.bytesIn;
  }

  /** KeepAliveHost */
  keepAliveSendPing(seq: number): void {
    try {
      this.socket.sendExtension(MessageType.PING, u32Body(seq));
    } catch (error) {
      debug('rpc: could not send ping: %s', (error as Error).message);
    }
  }

  /** KeepAliveHost */
  keepAliveTimedOut(): void {
    this.owner.linkTimedOut(this);
  }

  // ---- dispatch ----------------------------------------------------------------------------

  /** An rpc message arrived on this (authenticated) link. Throws ProtocolError on bad input. */
  onMessage(type: number, body: Buffer): void {
    switch (type) {
      case MessageType.REQUEST:
        this.#onRequest(body);
        return;
      case MessageType.RESULT:
        this.#onResult(body);
        return;
      case MessageType.ERROR:
        this.#onError(body);
        return;
      case MessageType.CANCEL:
        this.#onCancel(body);
        return;
      case MessageType.PING:
        readU32(body, 4);
        this.socket.sendExtension(MessageType.PONG, body);
        return;
      case MessageType.PONG: {
        // Validated even with keepalive off: a malformed PONG is a protocol error either way.
        const nonce = readU32(body, 4);
        this.keepAlive?.pong(nonce);
        return;
      }
      default:
        if (type >= STREAM_TYPE_MIN && type <= STREAM_TYPE_MAX) {
          this.streams.onMessage(type, body);
          return;
        }
        throw new ProtocolError(`unexpected rpc message type 0x${type.toString(16)} on an open link`);
    }
  }

  // ---- graceful close ----------------------------------------------------------------------

  /** Resolves once no request is in flight in either direction (or the link closed). */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#idleWaiter;
      this.#idleWaiter = previous === undefined ? resolve : () => (previous(), resolve());
    });
  }

  #isIdle(): boolean {
    return this.incoming.size === 0 && this.outgoing.size === 0 && this.streams.openStreams === 0;
  }

  /** StreamLinkHost */
  nextOutgoingId(): number {
    return this.outgoing.nextId();
  }

  /** StreamLinkHost */
  incomingRequestHeld(id: number): boolean {
    return this.incoming.get(id) !== undefined;
  }

  /** StreamLinkHost: a stream ended. */
  settled(): void {
    if (this.#idleWaiter !== undefined) this.#checkIdle();
  }

  #checkIdle(): void {
    if (this.#idleWaiter === undefined || !this.#isIdle()) return;
    const waiter = this.#idleWaiter;
    this.#idleWaiter = undefined;
    waiter();
  }
}
