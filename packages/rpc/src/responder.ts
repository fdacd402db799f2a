import { toError } from '@proto/ns/internal';
import { schemasIn, validate } from './contract.js';
import { publishEnd, publishError, publishStart, requestStartedAt } from './diagnostics.js';
import {
  AbortedError,
  BufferOverflowError,
  ConnectionClosedError,
  FrameTooLargeError,
  InvalidArgError,
  ProtocolError,
  ResultTooLargeError,
  RpcError,
} from './errors.js';
import { answerHeader, sendBody } from './body-send.js';
import { IdSlots } from './id-slots.js';
import { InboundCall } from './inbound-call.js';
import { notJsonCarryable } from './json-check.js';
import type { LinkContext } from './link-owner.js';
import { RpcMessageType } from './message-types.js';
import { INVALID_METHOD, MethodNames } from './method-names.js';
import { isStreamOpen } from './stream-messages.js';
import {
  Encoding,
  encodingOf,
  ErrorKind,
  payloadPart,
  readPayload,
  readU32,
  REQUEST_FIXED_BYTES,
  requestPayloadOffset,
  type WireError,
} from './messages.js';

const INTERNAL_MESSAGE = 'Internal error';

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

async function awaitHandler(responder: Responder, call: InboundCall, pending: PromiseLike<unknown>): Promise<void> {
  let value: unknown;
  try {
    value = await pending;
  } catch (error) {
    responder.finishError(call, error);
    return;
  }
  responder.finishOk(call, value);
}

/**
 * The requests one link serves: method names read off the wire, admission (closing, unknown
 * method, concurrency, contract params), the calls in progress by the peer's id, their answers,
 * and CANCEL.
 */
export class Responder {
  readonly #link: LinkContext;
  /** Calls whose handlers outlive the tick they started in, by the peer's request id. */
  readonly calls = new IdSlots<InboundCall>();
  /** Requests the peer sent on this link. */
  received = 0;
  readonly #methodNames = new MethodNames();

  constructor(link: LinkContext) {
    this.#link = link;
  }

  /** A REQUEST arrived. Throws ProtocolError on bad input. */
  onRequest(body: Buffer): void {
    const link = this.#link;
    const owner = link.owner;
    const id = readU32(body, REQUEST_FIXED_BYTES);
    if (isStreamOpen(body)) {
      link.streams.onOpen(body);
      return;
    }
    const method = this.#methodNames.read(body);
    const params = readPayload(body, body[4] ?? Encoding.JSON, requestPayloadOffset(body));
    if (this.calls.get(id) !== undefined || link.openedStreams?.holdsIncoming(id) === true) throw new ProtocolError(`peer reused request id ${id} while it was in flight`);
    this.received++;
    if (link.closing) {
      this.#sendError(id, ErrorKind.SHUTTING_DOWN, { message: 'the remote side is shutting down' });
      return;
    }
    // A name no sender could have produced never reaches a handler, whatever was registered.
    const handler = method === INVALID_METHOD ? undefined : owner.handlers.get(method);
    if (handler === undefined) {
      const message = method === INVALID_METHOD ? 'invalid method name (empty, not UTF-8, or a wildcard segment)' : `no handler for method ${method}`;
      this.#sendError(id, ErrorKind.METHOD_NOT_FOUND, { message });
      return;
    }
    if (this.calls.size >= owner.maxConcurrentRequests) {
      this.#sendError(id, ErrorKind.OVERLOADED, {
        message: `more than ${owner.maxConcurrentRequests} requests in flight on this connection`,
      });
      return;
    }
    let input = params;
    const schemas = schemasIn(owner.handled, method);
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
    const call = new InboundCall(link.peer, id, method);
    call.startedAt = requestStartedAt();
    publishStart('incoming', id, method, link.peer.id);
    let value: unknown;
    try {
      value = handler(input, call);
    } catch (error) {
      this.finishError(call, error);
      return;
    }
    if (isThenable(value)) {
      // Only calls that outlive this tick occupy a slot (and can be cancelled).
      this.calls.add(call);
      void awaitHandler(this, call, value);
      return;
    }
    this.finishOk(call, value);
  }

  /** A CANCEL arrived. */
  onCancel(body: Buffer): void {
    const id = readU32(body, 4);
    const call = this.calls.get(id);
    if (call === undefined) {
      this.#link.openedStreams?.onCancel(id);
      return;
    }
    // The handler's signal aborts, but the call keeps its slot until the handler settles (its
    // answer is then dropped): maxConcurrentRequests bounds the handlers running, cancelled or
    // not, and a graceful close waits for them.
    call.cancel(new AbortedError('the caller cancelled the request'));
  }

  /** The link is gone: abort every call in progress (their answers are dropped). */
  closed(error: Error | undefined): void {
    if (this.calls.size === 0) return;
    const reason = new ConnectionClosedError('connection closed', error === undefined ? undefined : { cause: error });
    for (const call of this.calls.takeAll()) call.cancel(reason);
  }

  /** @internal a handler produced `value` */
  finishOk(call: InboundCall, value: unknown): void {
    this.#release(call);
    const link = this.#link;
    if (call.cancelled || !link.open) return;
    const encoding = encodingOf(value);
    const problem = encoding === Encoding.JSON ? notJsonCarryable(value, 'result') : undefined;
    if (problem !== undefined) {
      this.#internalError(call, new InvalidArgError(`result of ${call.method} cannot be sent as JSON: ${problem}`));
      return;
    }
    let payload: string | Uint8Array | undefined;
    try {
      payload = payloadPart(value, encoding);
    } catch (error) {
      this.#internalError(call, new InvalidArgError(`result of ${call.method} is not JSON-serializable`, { cause: error }));
      return;
    }
    try {
      if (!sendBody(link.socket, RpcMessageType.RESULT, answerHeader(call.id, encoding), payload)) link.answerBackpressured();
    } catch (error) {
      if (error instanceof FrameTooLargeError) this.#resultTooLarge(call, error);
      else if (error instanceof BufferOverflowError) link.answerOverflowed(`the result of request ${call.id} (${call.method})`, error);
      // Tell the caller something went wrong instead of leaving it to time out.
      else this.#internalError(call, error as Error);
      return;
    }
    publishEnd('incoming', call.id, call.method, link.peer.id, call.startedAt, undefined);
  }

  /** @internal a handler threw or rejected with `error` */
  finishError(call: InboundCall, error: unknown): void {
    this.#release(call);
    const link = this.#link;
    if (error instanceof RpcError) {
      publishEnd('incoming', call.id, call.method, link.peer.id, call.startedAt, error);
      if (call.cancelled || !link.open) return;
      const wire: WireError = { code: error.code, message: error.message };
      if (error.data !== undefined) wire.data = error.data;
      this.#sendError(call.id, ErrorKind.REMOTE, wire);
      return;
    }
    this.#internalError(call, toError(error));
  }

  #internalError(call: InboundCall, error: Error): void {
    const link = this.#link;
    publishEnd('incoming', call.id, call.method, link.peer.id, call.startedAt, error);
    // A handler failing because its caller went away is expected, not worth an error event.
    if (!call.cancelled) link.owner.reportError(error, link.peer);
    if (call.cancelled || !link.open) return;
    this.#sendError(call.id, ErrorKind.REMOTE, { code: 'INTERNAL', message: INTERNAL_MESSAGE });
  }

  /** The result does not fit one frame: the caller gets ERR_RESULT_TOO_LARGE, the server an `error`. */
  #resultTooLarge(call: InboundCall, error: FrameTooLargeError): void {
    const link = this.#link;
    const tooLarge = new ResultTooLargeError(`the result of ${call.method} is over the frame limit: ${error.message}`, { cause: error });
    publishEnd('incoming', call.id, call.method, link.peer.id, call.startedAt, tooLarge);
    link.owner.reportError(tooLarge, link.peer);
    this.#sendError(call.id, ErrorKind.RESULT_TOO_LARGE, {
      code: 'RESULT_TOO_LARGE',
      message: `the result of ${call.method} is larger than the handling side's frame limit (maxFrameBytes)`,
    });
  }

  #release(call: InboundCall): void {
    if (this.calls.size !== 0 && this.calls.delete(call)) this.#link.settled();
  }

  #sendError(id: number, kind: number, wire: WireError): void {
    let text: string;
    try {
      text = JSON.stringify(wire);
    } catch {
      // data that JSON cannot carry: keep code and message
      text = JSON.stringify({ code: wire.code, message: wire.message });
    }
    const link = this.#link;
    try {
      if (!sendBody(link.socket, RpcMessageType.ERROR, answerHeader(id, kind), text)) link.answerBackpressured();
    } catch (error) {
      if (error instanceof BufferOverflowError) {
        link.answerOverflowed(`the error answer of request ${id}`, error);
        return;
      }
      publishError(link.owner.side, link.peer.id, error as Error, false, `send the error answer of request ${id}`);
    }
  }
}
