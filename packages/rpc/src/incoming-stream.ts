import { toError } from '@proto/ns/internal';
import type { z } from 'zod';
import { validate } from './contract.js';
import { AbortedError, InvalidArgError, InvalidParamsError, ProtocolError, ResultTooLargeError, RpcError } from './errors.js';
import { ErrorKind, u32Body, type WireError } from './messages.js';
import type { RpcPeer } from './peer.js';
import { ItemWriter, type ItemWriterOwner } from './stream-batch.js';
import { Inbox, type InboxHost } from './stream-inbox.js';
import { creditBody, STREAM_VERSION_1, StreamMessageType } from './stream-messages.js';
import { isItemSource, Pump, type PumpSink } from './stream-pump.js';
import type { StreamContext, StreamHandler } from './stream-types.js';
import type { StreamRecord, StreamWire } from './stream-wire.js';

const INTERNAL_MESSAGE = 'Internal error';

const INPUT_DONE: IteratorResult<never> = Object.freeze({ value: undefined, done: true });

/** `ctx.input` of a stream the caller sends nothing on. */
const NO_INPUT: AsyncIterableIterator<never> = Object.freeze({
  next: (): Promise<IteratorResult<never>> => Promise.resolve(INPUT_DONE),
  return: (): Promise<IteratorResult<never>> => Promise.resolve(INPUT_DONE),
  [Symbol.asyncIterator](): AsyncIterableIterator<never> {
    return NO_INPUT;
  },
});

/** What an incoming stream is accepted with (checked by the session). */
export interface IncomingStreamSetup {
  readonly id: number;
  /** The stream protocol version it was opened with (1 or 2): the one this side answers in. */
  readonly version: number;
  readonly method: string;
  readonly credit: number;
  /** Credit granted for `ctx.input`, or 0 when the caller sends no input. */
  readonly inputHighWaterMark: number;
  readonly inputSchema: z.ZodType | undefined;
  readonly startedAt: number;
}

/**
 * A stream the peer opened and one of our handlers serves. The handler's items go out through a
 * {@link Pump} (credit from the caller, backpressure from the socket); the caller's input arrives in
 * an {@link Inbox} that is `ctx.input`. It is also the handler's context. Once its END or ERROR is
 * sent (or the link dropped) its id is free again. Items leave through an {@link ItemWriter}:
 * batched per tick on a version-2 stream.
 */
export class IncomingStream implements StreamContext<unknown>, PumpSink<unknown>, InboxHost, ItemWriterOwner, StreamRecord {
  readonly peer: RpcPeer;
  readonly method: string;
  readonly id: number;
  readonly direction = 'incoming';
  readonly startedAt: number;
  readonly input: AsyncIterableIterator<unknown>;
  itemsIn = 0;
  itemsOut = 0;
  readonly #wire: StreamWire;
  readonly #inbox: Inbox<unknown> | undefined;
  readonly #inputSchema: z.ZodType | undefined;
  readonly #credit: number;
  readonly #version: number;
  readonly #writer: ItemWriter;
  #pump: Pump<unknown> | undefined;
  #controller: AbortController | undefined;
  #reason: Error | undefined;
  #inputEnded = false;
  /** INPUT_STOP was sent (the handler stopped reading its input). */
  #inputStopped = false;
  #released = false;

  constructor(wire: StreamWire, setup: IncomingStreamSetup) {
    this.#wire = wire;
    this.peer = wire.peer;
    this.id = setup.id;
    this.method = setup.method;
    this.startedAt = setup.startedAt;
    this.#credit = setup.credit;
    this.#inputSchema = setup.inputSchema;
    this.#version = setup.version;
    const batched = setup.version !== STREAM_VERSION_1;
    this.#writer = new ItemWriter(wire, this, setup.id, StreamMessageType.ITEM, batched ? StreamMessageType.ITEMS : undefined, false);
    if (setup.inputHighWaterMark > 0) {
      const inbox = new Inbox<unknown>(this, setup.inputHighWaterMark);
      this.#inbox = inbox;
      this.input = inputIterator(inbox, this);
    } else {
      this.#inputEnded = true;
      this.input = NO_INPUT;
    }
  }

  /** Aborts when the caller cancels, the link drops, or the stream fails. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Run the handler; its items flow as credit allows. Grants the first input credit. */
  start(handler: StreamHandler, params: unknown): void {
    const inbox = this.#inbox;
    if (inbox !== undefined) this.#wire.post(StreamMessageType.INPUT_CREDIT, creditBody(this.id, inbox.window.highWaterMark));
    let source: unknown;
    try {
      source = handler(params, this);
    } catch (error) {
      this.failed(error, true);
      return;
    }
    if (!isItemSource(source)) {
      this.failed(new InvalidArgError(`the stream handler of ${this.method} must return an async iterable (an async function*)`), true);
      return;
    }
    const pump = new Pump(source, this, this.#credit);
    this.#pump = pump;
    pump.start();
  }

  // ---- the wire ----------------------------------------------------------------------------

  /** CREDIT arrived (throws ProtocolError on overflow). */
  onCredit(grant: number): void {
    this.#pump?.grant(grant);
  }

  /** Whether INPUT_ITEMS may arrive (the stream speaks version 2). */
  get batched(): boolean {
    return this.#version !== STREAM_VERSION_1;
  }

  /** INPUT_ITEM arrived (throws ProtocolError without input, after its end, or past the credit). */
  onInputItem(value: unknown): void {
    const inbox = this.#inbox;
    if (inbox === undefined) throw new ProtocolError(`input item on stream ${this.id}, which was opened without input`);
    if (this.#inputEnded) throw new ProtocolError(`input item on stream ${this.id} after its input ended`);
    this.itemsIn++;
    if (this.#inputStopped) {
      inbox.window.received(); // sent before our INPUT_STOP arrived: dropped, but still within the credit
      return;
    }
    const schema = this.#inputSchema;
    if (schema !== undefined && inbox.open) {
      const result = validate(schema, value);
      if (!result.ok) {
        inbox.window.received();
        const error = new InvalidParamsError(`input item of stream ${this.method} does not match the contract:\n${result.message}`, result.issues);
        this.#finish(error, ErrorKind.INVALID_PARAMS, { message: error.message, data: result.issues });
        return;
      }
      value = result.value;
    }
    inbox.push(value);
  }

  /** INPUT_END arrived (a second one is a ProtocolError). */
  onInputEnd(): void {
    if (this.#inbox === undefined || this.#inputEnded) throw new ProtocolError(`unexpected input end on stream ${this.id}`);
    this.#inputEnded = true;
    this.#inbox.end();
  }

  /** CANCEL arrived: stop the handler, confirm with END. */
  onCancel(): void {
    this.#writer.discard();
    this.#stop(new AbortedError('the caller cancelled the stream'));
    this.#wire.post(StreamMessageType.END, u32Body(this.id));
    this.#release(undefined);
  }

  /** The link dropped: stop the handler (nothing can be sent any more). */
  linkClosed(error: Error): void {
    this.#writer.discard();
    this.#stop(error);
    this.#release(error);
  }

  /** InboxHost: the handler consumed input; give the credit back. */
  grantCredit(grant: number): void {
    if (!this.#released) this.#wire.post(StreamMessageType.INPUT_CREDIT, creditBody(this.id, grant));
  }

  /**
   * The handler is done with `ctx.input` (`break`, `return()`): later input is dropped and, on a
   * version-2 stream, INPUT_STOP asks the caller to close its input at the source. The output goes on.
   */
  inputReturned(): void {
    this.#inbox?.close();
    if (this.#inputEnded || this.#inputStopped || this.#released || this.#version === STREAM_VERSION_1) return;
    this.#inputStopped = true;
    this.#wire.post(StreamMessageType.INPUT_STOP, u32Body(this.id));
  }

  // ---- PumpSink (the handler's items) ------------------------------------------------------

  sendItem(value: unknown): boolean {
    const ok = this.#writer.write(value);
    this.itemsOut++;
    this.#wire.countOut();
    return ok;
  }

  get congested(): boolean {
    return this.#writer.congested;
  }

  sendEnd(): void {
    if (!this.#flushed()) return;
    this.#inbox?.close();
    this.#wire.post(StreamMessageType.END, u32Body(this.id));
    this.#release(undefined);
  }

  // ---- ItemWriterOwner ----------------------------------------------------------------------

  flushFailed(error: Error): void {
    this.failed(error, false);
  }

  /** The handler threw (`fromSource`), or one of its items could not be sent. */
  failed(error: unknown, fromSource: boolean): void {
    if (this.#released) return;
    if (fromSource && error instanceof RpcError) {
      const wire: WireError = { code: error.code, message: error.message };
      if (error.data !== undefined) wire.data = error.data;
      this.#finish(error, ErrorKind.REMOTE, wire);
      return;
    }
    const failure = toError(error);
    this.#wire.reportError(failure);
    if (!fromSource && failure instanceof ResultTooLargeError) {
      // Our own limit, not a detail of the handler: said as for an oversize result (kind 5).
      this.#finish(failure, ErrorKind.RESULT_TOO_LARGE, {
        code: 'RESULT_TOO_LARGE',
        message: `an item of stream ${this.method} is larger than the handling side's frame limit (maxFrameBytes)`,
      });
      return;
    }
    this.#finish(failure, ErrorKind.REMOTE, { code: 'INTERNAL', message: INTERNAL_MESSAGE });
  }

  drained(): Promise<void> {
    return this.#wire.drained().then(this.#writer.drainedNow);
  }

  // ---- ending ------------------------------------------------------------------------------

  /** End with ERROR (`kind`, `wire`); `error` is what the handler side sees. */
  #finish(error: Error, kind: number, wire: WireError): void {
    if (this.#released) return;
    // Items yielded before the failure go first (a batch that could not be sent is dropped).
    try {
      this.#writer.flush();
    } catch {
      this.#writer.discard();
    }
    this.#stop(error);
    this.#wire.sendError(this.id, kind, wire);
    this.#release(error);
  }

  /** Abort the signal, close the handler's generator and the input. */
  #stop(reason: Error): void {
    if (this.#reason === undefined) {
      this.#reason = reason;
      this.#controller?.abort(reason);
    }
    this.#pump?.stop();
    this.#inbox?.abort(reason);
  }

  /** Sends the pending batch before END; false (and the stream failed) when that failed. */
  #flushed(): boolean {
    try {
      this.#writer.flush();
      return true;
    } catch (error) {
      this.failed(error, false);
      return false;
    }
  }

  #release(error: Error | undefined): void {
    if (this.#released) return;
    this.#released = true;
    this.#wire.released(this, error);
  }
}

/** `ctx.input`'s iterator: the inbox, and `break` closes it (the caller's input is stopped at its source). */
function inputIterator(inbox: Inbox<unknown>, stream: IncomingStream): AsyncIterableIterator<unknown> {
  const iterator: AsyncIterableIterator<unknown> = {
    next: () => inbox.next(),
    return: (value?: unknown) => {
      stream.inputReturned();
      return Promise.resolve({ value, done: true });
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
