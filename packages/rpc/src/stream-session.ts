import type { FramePayload, NsSocket } from '@proto/ns';
import { performance } from 'node:perf_hooks';
import { STREAM_OPTION_KEYS, unknownCallOption } from './call-options.js';
import { type ContractDefinition, validate } from './contract.js';
import { DEFAULT_STREAM_HIGH_WATER_MARK } from './credit.js';
import { AbortedError, ConnectionClosedError, InvalidArgError, MethodNotFoundError, NotConnectedError, ProtocolError } from './errors.js';
import { IdSlots } from './id-slots.js';
import { IncomingStream } from './incoming-stream.js';
import { carryablePart } from './json-check.js';
import { RpcMessageType as MessageType } from './message-types.js';
import { encodingOf, ErrorKind, errorParts, methodPrefix, u32Body, type WireError } from './messages.js';
import { FailedStream, OutgoingStream } from './outgoing-stream.js';
import type { RpcPeer } from './peer.js';
import { errorFromWire } from './remote-errors.js';
import { streamSchemasIn } from './stream-contract.js';
import { publishStreamEnd, publishStreamStart } from './stream-diagnostics.js';
import {
  decodeOpen,
  MAX_CREDIT,
  OPEN_FLAG_INPUT,
  openParts,
  readEnd,
  readGrant,
  readItem,
  readItems,
  readStreamId,
  STREAM_VERSION,
  StreamMessageType,
  VERSION_REFUSAL_PREFIX,
} from './stream-messages.js';
import { isItemSource } from './stream-pump.js';
import type { StreamHandler, StreamOptions } from './stream-types.js';
import type { StreamRecord, StreamWire } from './stream-wire.js';

/** What every link of a client or server shares for streams. */
export interface StreamOwner {
  readonly streamHandlers: ReadonlyMap<string, StreamHandler>;
  /** Schemas of the methods this side serves (params and input of incoming streams). */
  readonly handled: ContractDefinition | undefined;
  /** Schemas of the methods this side calls (items of outgoing streams). */
  readonly called: ContractDefinition | undefined;
  /** Streams the peer may have open here at once; past it, opens are refused with ERR_OVERLOADED. */
  readonly maxConcurrentStreams: number;
  /** A handler failed with something other than an RpcError, or an item could not be sent. */
  reportError(error: Error, peer: RpcPeer): void;
  /** Something could not be sent and has nobody to be thrown to (diagnostics). */
  reportUnsent?(error: Error, peer: RpcPeer, context: string): void;
}

/** What a session needs from the link it belongs to. */
export interface StreamLinkHost {
  readonly socket: NsSocket;
  readonly peer: RpcPeer;
  /** Authenticated and not closed. */
  readonly open: boolean;
  /** Graceful close under way: new streams are refused both ways. */
  readonly closing: boolean;
  /** The next id of this link's outgoing id space, which requests and streams share. */
  nextOutgoingId(): number;
  /** Whether the peer's request `id` is being handled here (a stream may not reuse it). */
  incomingRequestHeld(id: number): boolean;
  /** A stream ended (a graceful close may be waiting for none). */
  settled(): void;
}

/** Counters of a session (peer stats). */
export interface StreamStats {
  /** Streams open now, both directions. */
  readonly openStreams: number;
  /** Items received on streams of this link, both directions. */
  readonly itemsIn: number;
  /** Items sent on streams of this link. */
  readonly itemsOut: number;
}

/**
 * The streams of one link, both ways: opening ours, admitting the peer's, and routing every stream
 * message by the opener's id (ours in `outgoing`, the peer's in `incoming`). This is the internal
 * interface the link, a resumable session and a cluster router talk to: `open()`, `onOpen()`,
 * `onMessage()`, `onError()`, `onCancel()`, `closed()`.
 */
export class StreamSession implements StreamWire, StreamStats {
  readonly #host: StreamLinkHost;
  readonly #owner: StreamOwner;
  readonly outgoing = new IdSlots<OutgoingStream<unknown>>();
  readonly incoming = new IdSlots<IncomingStream>();
  itemsIn = 0;
  itemsOut = 0;
  #draining: Promise<void> | undefined;

  constructor(host: StreamLinkHost, owner: StreamOwner) {
    this.#host = host;
    this.#owner = owner;
  }

  get peer(): RpcPeer {
    return this.#host.peer;
  }

  get openStreams(): number {
    return this.outgoing.size + this.incoming.size;
  }

  // ---- opening ours ------------------------------------------------------------------------

  /** Open a stream; see `RpcClient.stream`. Never throws: failures come out of the iterator. */
  open<T>(method: string, params: unknown, options: StreamOptions | undefined): AsyncIterableIterator<T> {
    const host = this.#host;
    const badOption = unknownCallOption(options, STREAM_OPTION_KEYS, `stream ${method}`);
    if (badOption !== undefined) return new FailedStream(badOption);
    const signal = options?.signal;
    if (signal?.aborted === true) return new FailedStream(new AbortedError(`stream ${method} aborted before it was opened`, { cause: signal.reason }));
    if (!host.open || host.closing) return new FailedStream(new NotConnectedError(`cannot open stream ${method}: not connected`));
    const highWaterMark = options?.highWaterMark ?? DEFAULT_STREAM_HIGH_WATER_MARK;
    if (!Number.isInteger(highWaterMark) || highWaterMark < 1 || highWaterMark > MAX_CREDIT) {
      return new FailedStream(new InvalidArgError(`highWaterMark must be an integer from 1 to ${MAX_CREDIT}, got ${String(highWaterMark)}`));
    }
    const timeoutMs = options?.timeoutMs ?? 0;
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) {
      return new FailedStream(new InvalidArgError(`timeoutMs must be a number >= 0 (0: no deadline), got ${String(timeoutMs)}`));
    }
    const input = options?.input;
    if (input !== undefined && !isItemSource(input)) return new FailedStream(new InvalidArgError('input must be an async iterable or an iterable'));
    const prefix = methodPrefix(method);
    if (prefix === undefined || method.length === 0) return new FailedStream(new InvalidArgError('method names must be 1 to 255 bytes of UTF-8'));
    const encoding = encodingOf(params);
    let payload: string | Uint8Array | undefined;
    try {
      payload = carryablePart(params, encoding, 'params', method);
    } catch (error) {
      return new FailedStream(error as InvalidArgError);
    }
    let id = host.nextOutgoingId();
    while (this.outgoing.get(id) !== undefined) id = host.nextOutgoingId();
    const flags = input === undefined ? 0 : OPEN_FLAG_INPUT;
    const parts = openParts(id, STREAM_VERSION, flags, highWaterMark, encoding, prefix, payload);
    try {
      host.socket.sendExtension(MessageType.REQUEST, parts);
    } catch (error) {
      return new FailedStream(error as Error);
    }
    const stream = new OutgoingStream<unknown>(this, {
      id,
      openParts: parts,
      method,
      highWaterMark,
      timeoutMs,
      signal,
      input,
      itemSchema: streamSchemasIn(this.#owner.called, method)?.item,
      startedAt: performance.now(),
    });
    this.outgoing.add(stream);
    publishStreamStart('outgoing', id, method, this.peer.id);
    return stream as AsyncIterableIterator<T>;
  }

  /** Whether one of our streams holds `id` (requests must not take it). */
  holdsOutgoing(id: number): boolean {
    return this.outgoing.get(id) !== undefined;
  }

  /** Whether a stream of the peer holds `id` (its requests must not reuse it). */
  holdsIncoming(id: number): boolean {
    return this.incoming.get(id) !== undefined;
  }

  // ---- admitting the peer's ----------------------------------------------------------------

  /** A REQUEST that is a stream open arrived (see `isStreamOpen`). Throws ProtocolError when malformed. */
  onOpen(body: Buffer): void {
    const open = decodeOpen(body);
    const host = this.#host;
    if (typeof open === 'number') {
      // Version negotiation: a version we do not speak is refused like an unknown method.
      const id = readStreamId(body);
      this.sendError(id, ErrorKind.METHOD_NOT_FOUND, { message: `${VERSION_REFUSAL_PREFIX}${open} is not supported (this side speaks 1 and 2)` });
      return;
    }
    const { id, method } = open;
    if (this.incoming.get(id) !== undefined || host.incomingRequestHeld(id)) {
      throw new ProtocolError(`peer reused id ${id} for a stream while it was in use`);
    }
    if (host.closing) {
      this.sendError(id, ErrorKind.SHUTTING_DOWN, { message: 'the remote side is shutting down' });
      return;
    }
    const owner = this.#owner;
    const handler = owner.streamHandlers.get(method);
    if (handler === undefined) {
      this.sendError(id, ErrorKind.METHOD_NOT_FOUND, { message: `no stream handler for method ${method}` });
      return;
    }
    if (this.incoming.size >= owner.maxConcurrentStreams) {
      this.sendError(id, ErrorKind.OVERLOADED, { message: `more than ${owner.maxConcurrentStreams} streams open on this connection` });
      return;
    }
    const schemas = streamSchemasIn(owner.handled, method);
    let params = open.params;
    if (schemas !== undefined) {
      const result = validate(schemas.params, params);
      if (!result.ok) {
        this.sendError(id, ErrorKind.INVALID_PARAMS, { message: `invalid params for ${method}:\n${result.message}`, data: result.issues });
        return;
      }
      params = result.value;
    }
    const hasInput = (open.flags & OPEN_FLAG_INPUT) !== 0;
    const stream = new IncomingStream(this, {
      id,
      version: open.version,
      method,
      credit: open.credit,
      inputHighWaterMark: hasInput ? DEFAULT_STREAM_HIGH_WATER_MARK : 0,
      inputSchema: schemas?.input,
      startedAt: performance.now(),
    });
    this.incoming.add(stream);
    publishStreamStart('incoming', id, method, this.peer.id);
    stream.start(handler, params);
  }

  // ---- routing -----------------------------------------------------------------------------

  /** A stream message (types ITEM..INPUT_END) arrived. Throws ProtocolError on bad input. */
  onMessage(type: number, body: Buffer): void {
    if (body.length < 4) throw new ProtocolError('truncated stream message');
    const id = readStreamId(body);
    switch (type) {
      case StreamMessageType.ITEM: {
        const value = readItem(body);
        this.itemsIn++;
        this.#ours(id, 'item').onItem(value);
        return;
      }
      case StreamMessageType.ITEMS: {
        const stream = this.#ours(id, 'item batch');
        if (!stream.batched) throw new ProtocolError(`item batch on stream ${id}, which speaks stream protocol version 1`);
        const items = readItems(body);
        this.itemsIn += items.length;
        for (let i = 0; i < items.length; i++) stream.onItem(items[i]);
        return;
      }
      case StreamMessageType.END:
        readEnd(body);
        this.#ours(id, 'end').onEnd();
        return;
      case StreamMessageType.INPUT_STOP: {
        readEnd(body);
        const stream = this.#ours(id, 'input stop');
        if (!stream.batched) throw new ProtocolError(`input stop on stream ${id}, which speaks stream protocol version 1`);
        stream.onInputStop();
        return;
      }
      case StreamMessageType.INPUT_CREDIT:
        this.#ours(id, 'input credit').onInputCredit(readGrant(body));
        return;
      case StreamMessageType.CREDIT: {
        const grant = readGrant(body);
        // Unknown ids are ignored: credit may cross our END on the wire.
        this.incoming.get(id)?.onCredit(grant);
        return;
      }
      case StreamMessageType.INPUT_ITEM: {
        const value = readItem(body);
        const stream = this.incoming.get(id);
        if (stream === undefined) return; // crossed our END or ERROR
        this.itemsIn++;
        stream.onInputItem(value);
        return;
      }
      case StreamMessageType.INPUT_ITEMS: {
        const items = readItems(body);
        const stream = this.incoming.get(id);
        if (stream === undefined) return; // crossed our END or ERROR
        if (!stream.batched) throw new ProtocolError(`input item batch on stream ${id}, which speaks stream protocol version 1`);
        this.itemsIn += items.length;
        for (let i = 0; i < items.length; i++) stream.onInputItem(items[i]);
        return;
      }
      case StreamMessageType.INPUT_END:
        readEnd(body);
        this.incoming.get(id)?.onInputEnd();
        return;
      default:
        throw new ProtocolError(`unexpected stream message type 0x${type.toString(16)}`);
    }
  }

  /** An ERROR that matched no request: ends our stream `id`, if there is one. */
  onError(id: number, kind: number, wire: WireError): boolean {
    const stream = this.outgoing.get(id);
    if (stream === undefined) return false;
    if (kind === ErrorKind.METHOD_NOT_FOUND && wire.message.startsWith(VERSION_REFUSAL_PREFIX)) {
      // A peer that speaks only stream protocol version 1: open again as version 1 (same id).
      const parts = stream.fallBack();
      if (parts !== undefined && this.#host.open) {
        try {
          this.#host.socket.sendExtension(MessageType.REQUEST, parts);
          return true;
        } catch (error) {
          stream.onError(error as Error);
          return true;
        }
      }
    }
    let error = errorFromWire(kind, wire, stream.method);
    if (kind === ErrorKind.METHOD_NOT_FOUND && !wire.message.startsWith('no stream handler')) {
      error = new MethodNotFoundError(`the peer does not serve stream ${stream.method} (${wire.message}); a peer without streams answers this way too`, stream.method);
    }
    stream.onError(error);
    return true;
  }

  /** A CANCEL that matched no request: cancels the peer's stream `id`, if there is one. */
  onCancel(id: number): boolean {
    const stream = this.incoming.get(id);
    if (stream === undefined) return false;
    stream.onCancel();
    return true;
  }

  /** The link is gone: every stream ends with ERR_CONNECTION_CLOSED, both ways. */
  closed(error: Error | undefined): void {
    if (this.outgoing.size === 0 && this.incoming.size === 0) return;
    const reason = new ConnectionClosedError('connection closed', error === undefined ? undefined : { cause: error });
    for (const stream of this.outgoing.takeAll()) stream.linkClosed(reason);
    for (const stream of this.incoming.takeAll()) stream.linkClosed(reason);
  }

  #ours(id: number, what: string): OutgoingStream<unknown> {
    const stream = this.outgoing.get(id);
    if (stream === undefined) throw new ProtocolError(`stream ${what} for id ${id}, which is not a stream opened on this link`);
    return stream;
  }

  // ---- StreamWire --------------------------------------------------------------------------

  send(type: number, body: FramePayload): boolean {
    return this.#host.socket.sendExtension(type, body);
  }

  get maxFrameBytes(): number {
    return this.#host.socket.maxFrameBytes;
  }

  post(type: number, body: FramePayload): void {
    if (!this.#host.open) return;
    try {
      this.#host.socket.sendExtension(type, body);
    } catch (error) {
      this.#owner.reportUnsent?.(error as Error, this.peer, `send stream message 0x${type.toString(16)}`);
    }
  }

  sendCancel(id: number): void {
    if (!this.#host.open) return;
    try {
      this.#host.socket.sendExtension(MessageType.CANCEL, u32Body(id));
    } catch (error) {
      this.#owner.reportUnsent?.(error as Error, this.peer, `cancel stream ${id}`);
    }
  }

  sendError(id: number, kind: number, wire: WireError): void {
    if (!this.#host.open) return;
    try {
      this.#host.socket.sendExtension(MessageType.ERROR, errorParts(id, kind, wire));
    } catch (error) {
      this.#owner.reportUnsent?.(error as Error, this.peer, `send the error of stream ${id}`);
    }
  }

  drained(): Promise<void> {
    if (this.#draining === undefined) {
      // A closure per wait (waits are rare), not a field per session: idle links stay small.
      const done = (): void => {
        this.#draining = undefined;
      };
      this.#draining = this.#host.socket.drained().then(done, done);
    }
    return this.#draining;
  }

  reportError(error: Error): void {
    this.#owner.reportError(error, this.peer);
  }

  released(stream: StreamRecord, error: Error | undefined): void {
    if (stream instanceof OutgoingStream) this.outgoing.delete(stream);
    else if (stream instanceof IncomingStream) this.incoming.delete(stream);
    publishStreamEnd(stream, this.peer.id, error);
    this.#host.settled();
  }

  countOut(): void {
    this.itemsOut++;
  }
}
