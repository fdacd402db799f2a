import { schemasIn, validate } from './contract.js';
import { publishEnd, publishError, publishStart, requestStartedAt } from './diagnostics.js';
import { AbortedError, InvalidArgError, InvalidResultError, NotConnectedError } from './errors.js';
import type { LinkContext } from './link-owner.js';
import { RpcMessageType } from './message-types.js';
import {
  Encoding,
  encodingOf,
  ErrorKind,
  payloadPart,
  readPayload,
  readU32,
  readWireError,
  requestTemplate,
  RESPONSE_FIXED_BYTES,
  u32Body,
} from './messages.js';
import { requestHeaderFrom, sendBody } from './body-send.js';
import { REQUEST_OPTION_KEYS, unknownCallOption } from './call-options.js';
import { notJsonCarryable } from './json-check.js';
import { errorFromWire } from './remote-errors.js';
import type { RequestOptions } from './request-options.js';
import { PendingRequest, RequestTable, type RequestTableHost } from './request-table.js';

/**
 * The requests one link sends and their settling: ids, deadlines, abort signals, cancels, and the
 * answers (RESULT / ERROR) that settle them. Only answers on this link can settle its requests.
 */
export class Caller implements RequestTableHost {
  readonly #link: LinkContext;
  readonly table: RequestTable;
  /** Requests sent on this link. */
  sent = 0;

  constructor(link: LinkContext) {
    this.#link = link;
    this.table = new RequestTable(this);
  }

  /** Send a request; see `RpcClient.request`. */
  request(method: string, params: unknown, options: RequestOptions | undefined): Promise<unknown> {
    const link = this.#link;
    const badOption = unknownCallOption(options, REQUEST_OPTION_KEYS, `request ${method}`);
    if (badOption !== undefined) return Promise.reject(badOption);
    const signal = options?.signal;
    if (signal?.aborted === true) {
      return Promise.reject(new AbortedError(`request ${method} aborted before it was sent`, { cause: signal.reason }));
    }
    if (!link.open || link.closing) {
      return Promise.reject(new NotConnectedError(`cannot send request ${method}: not connected`));
    }
    const timeoutMs = options?.timeoutMs ?? link.owner.requestTimeoutMs;
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) {
      return Promise.reject(new InvalidArgError(`timeoutMs must be a number >= 0 (0 disables), got ${String(timeoutMs)}`));
    }
    const template = requestTemplate(method);
    if (template === undefined || method.length === 0) {
      return Promise.reject(new InvalidArgError('method names must be 1 to 255 bytes of UTF-8'));
    }
    const encoding = encodingOf(params);
    if (encoding === Encoding.JSON) {
      const problem = notJsonCarryable(params, 'params');
      if (problem !== undefined) return Promise.reject(new InvalidArgError(`params of ${method} cannot be sent as JSON: ${problem}`));
    }
    let payload: string | Uint8Array | undefined;
    try {
      payload = payloadPart(params, encoding);
    } catch (error) {
      return Promise.reject(new InvalidArgError(`params of ${method} are not JSON-serializable`, { cause: error }));
    }
    const table = this.table;
    let id = table.nextId();
    const streams = link.openedStreams;
    if (streams !== undefined) while (streams.holdsOutgoing(id)) id = table.nextId();
    try {
      sendBody(link.socket, RpcMessageType.REQUEST, requestHeaderFrom(template, id, encoding), payload);
    } catch (error) {
      return Promise.reject(error);
    }
    const entry = new PendingRequest(table, id, method, requestStartedAt());
    table.add(entry, timeoutMs, signal);
    this.sent++;
    publishStart('outgoing', id, method, link.peer.id);
    return entry.promise;
  }

  /** RequestTableHost */
  sendCancel(id: number): void {
    const link = this.#link;
    if (!link.open) return;
    try {
      link.socket.sendExtension(RpcMessageType.CANCEL, u32Body(id));
    } catch (error) {
      publishError(link.owner.side, link.peer.id, error as Error, false, `send the cancel of request ${id}`);
    }
  }

  /** RequestTableHost */
  requestSettled(entry: PendingRequest, error: Error | undefined, pending: number): void {
    publishEnd('outgoing', entry.id, entry.method, this.#link.peer.id, entry.startedAt, error);
    if (pending === 0) this.#link.settled();
  }

  /** A RESULT arrived. */
  onResult(body: Buffer): void {
    const id = readU32(body, RESPONSE_FIXED_BYTES);
    const value = readPayload(body, body[4] ?? Encoding.JSON, RESPONSE_FIXED_BYTES);
    const table = this.table;
    const entry = table.take(id);
    if (entry === undefined) return; // answer to a request that already timed out or was aborted
    const owner = this.#link.owner;
    const schemas = owner.validateResults ? schemasIn(owner.called, entry.method) : undefined;
    if (schemas !== undefined) {
      const result = validate(schemas.result, value);
      if (!result.ok) {
        const error = new InvalidResultError(`result of ${entry.method} does not match the contract:\n${result.message}`, result.issues);
        entry.reject(error);
        table.settled(entry, error);
        return;
      }
      entry.resolve(result.value);
    } else {
      entry.resolve(value);
    }
    table.settled(entry, undefined);
  }

  /** An ERROR arrived. */
  onError(body: Buffer): void {
    const id = readU32(body, RESPONSE_FIXED_BYTES);
    const wire = readWireError(body);
    const entry = this.table.take(id);
    if (entry === undefined) {
      // Not a request: the end of one of our streams, or an answer to one already settled.
      this.#link.openedStreams?.onError(id, body[4] ?? ErrorKind.REMOTE, wire);
      return;
    }
    const error = errorFromWire(body[4] ?? ErrorKind.REMOTE, wire, entry.method);
    entry.reject(error);
    this.table.settled(entry, error);
  }

  /** The link is gone: reject everything pending. */
  closed(error: Error | undefined): void {
    this.table.rejectAll('connection closed before the response arrived', error);
  }
}
