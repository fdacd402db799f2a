import { toError } from '@proto/ns/internal';
import type { z } from 'zod';
import { validate } from './contract.js';
import { AbortedError, FrameTooLargeError, InvalidArgError, InvalidParamsError, ProtocolError, RpcError } from './errors.js';
import { ErrorKind, u32Body, type WireError } from './messages.js';
import type { RpcPeer } from './peer.js';
import { Inbox, type InboxHost } from './stream-inbox.js';
import { creditBody, itemBody, StreamMessageType } from './stream-messages.js';
import { isItemSource, Pump, type PumpSink } from './stream-pump.js';
import type { StreamContext, StreamHandler } from './stream-types.js';
import type { StreamRecord, StreamWire } from './stream-wire.js';

const INTERNAL_MESSAGE = 'Internal error';

/** `ctx.input` of a stream the caller sends nothing on. */
const NO_INPUT: AsyncIterable<never> = Object.freeze({
  [Symbol.asyncIterator]: (): AsyncIterator<never> => ({ next: () => Promise.resolve({ value: undefined, done: true }) }),
});

/** What an incoming stream is accepted with (checked by the session). */
export interface IncomingStreamSetup {
  readonly id: number;
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
 * sent (or the link dropped) its id is free again.
 */
export class IncomingStream implements StreamContext<unknown>, PumpSink<unknown>, InboxHost, StreamRecord {
  readonly peer: RpcPeer;
  readonly method: string;
  readonly id: number;
  readonly direction = 'incoming';
  readonly startedAt: number;
  readonly input: AsyncIterable<unknown>;
  itemsIn = 0;
  itemsOut = 0;
  readonly #wire: StreamWire;
  readonly #inbox: Inbox<unknown> | undefined;
  readonly #inputSchema: z.ZodType | undefined;
  readonly #credit: number;
  #pump: Pump<unknown> | undefined;
  #controller: AbortController | undefined;
  #reason: Error | undefined;
  #inputEnded = false;
  #released = false;

  constructor(wire: StreamWire, setup: IncomingStreamSetup) {
    this.#wire = wire;
    this.peer = wire.peer;
    this.id = setup.id;
    this.method = setup.method;
    this.startedAt = setup.startedAt;
    this.#credit = setup.credit;
    this.#inputSchema = setup.inputSchema;
    if (setup.inputHighWaterMark > 0) {
      const inbox = new Inbox<unknown>(this, setup.inputHighWaterMark);
      this.#inbox = inbox;
      this.input = { [Symbol.asyncIterator]: () => inputIterator(inbox) };
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

  /** INPUT_ITEM arrived (throws ProtocolError without input, after its end, or past the credit). */
  onInputItem(value: unknown): void {
    const inbox = this.#inbox;
    if (inbox === undefined) throw new ProtocolError(`input item on stream ${this.id}, which was opened without input`);
    if (this.#inputEnded) throw new ProtocolError(`input item on stream ${this.id} after its input ended`);
    this.itemsIn++;
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
    this.#stop(new AbortedError('the caller cancelled the stream'));
    this.#wire.post(StreamMessageType.END, u32Body(this.id));
    this.#release(undefined);
  }

  /** The link dropped: stop the handler (nothing can be sent any more). */
  linkClosed(error: Error): void {
    this.#stop(error);
    this.#release(error);
  }

  /** InboxHost: the handler consumed input; give the credit back. */
  grantCredit(grant: number): void {
    if (!this.#released) this.#wire.post(StreamMessageType.INPUT_CREDIT, creditBody(this.id, grant));
  }

  // ---- PumpSink (the handler's items) ------------------------------------------------------

  sendItem(value: unknown): boolean {
    const ok = this.#wire.send(StreamMessageType.ITEM, itemBody(this.id, value, this.method, false));
    this.itemsOut++;
    this.#wire.countOut();
    return ok;
  }

  sendEnd(): void {
    this.#inbox?.close();
    this.#wire.post(StreamMessageType.END, u32Body(this.id));
    this.#release(undefined);
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
    if (!fromSource && failure instanceof FrameTooLargeError) {
      // Our own limit, not a detail of the handler: say so.
      this.#finish(failure, ErrorKind.REMOTE, { code: FrameTooLargeError.code, message: `an item of stream ${this.method} is too large to send: ${failure.message}` });
      return;
    }
    this.#finish(failure, ErrorKind.REMOTE, { code: 'INTERNAL', message: INTERNAL_MESSAGE });
  }

  drained(): Promise<void> {
    return this.#wire.drained();
  }

  // ---- ending ------------------------------------------------------------------------------

  /** End with ERROR (`kind`, `wire`); `error` is what the handler side sees. */
  #finish(error: Error, kind: number, wire: WireError): void {
    if (this.#released) return;
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

  #release(error: Error | undefined): void {
    if (this.#released) return;
    this.#released = true;
    this.#wire.released(this, error);
  }
}

/** `ctx.input`'s iterator: the inbox, and `break` closes it (later input is dropped). */
function inputIterator(inbox: Inbox<unknown>): AsyncIterableIterator<unknown> {
  const iterator: AsyncIterableIterator<unknown> = {
    next: () => inbox.next(),
    return: (value?: unknown) => {
      inbox.close();
      return Promise.resolve({ value, done: true });
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
