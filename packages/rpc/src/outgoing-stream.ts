import { Buffer } from 'node:buffer';
import { toError } from '@proto/ns/internal';
import type { z } from 'zod';
import { validate } from './contract.js';
import { AbortedError, InvalidParamsError, ProtocolError, RequestTimeoutError } from './errors.js';
import { u32Body } from './messages.js';
import { ItemWriter, type ItemWriterOwner } from './stream-batch.js';
import { Inbox, type InboxHost } from './stream-inbox.js';
import { creditBody, STREAM_VERSION, STREAM_VERSION_1, StreamMessageType } from './stream-messages.js';
import { type ItemSource, Pump, type PumpSink } from './stream-pump.js';
import type { StreamRecord, StreamWire } from './stream-wire.js';

/** Node's timers cannot wait longer than this. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

function onDeadline(stream: OutgoingStream<unknown>): void {
  stream.timer = undefined;
  stream.cancel(new RequestTimeoutError(`stream ${stream.method} timed out`));
}

/** What an outgoing stream is opened with (checked by the session). */
export interface OutgoingStreamSetup {
  readonly id: number;
  /** The open as sent (version {@link STREAM_VERSION}), kept for a fallback to version 1 until the peer answers. */
  readonly openParts: (Buffer | string | Uint8Array)[];
  readonly method: string;
  readonly highWaterMark: number;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  readonly input: ItemSource<unknown> | undefined;
  readonly itemSchema: z.ZodType | undefined;
  readonly startedAt: number;
}

/**
 * A stream we opened, seen by its user as an `AsyncIterableIterator` of the items. The items the
 * handler sends wait in an {@link Inbox} bounded by the credit window; `input`, if any, goes out
 * through a {@link Pump} as the handler grants credit for it. `break`/`return()`, the signal and the
 * deadline cancel it on the wire (CANCEL). Its id stays taken until the handler's side confirms the
 * end (END or ERROR) or the link drops, so an item already on its way is never taken for another
 * stream's. It opens with stream protocol version 2 and falls back to 1 when the peer refuses it.
 */
export class OutgoingStream<T> implements AsyncIterableIterator<T>, InboxHost, PumpSink<unknown>, ItemWriterOwner, StreamRecord {
  readonly id: number;
  readonly method: string;
  readonly direction = 'outgoing';
  readonly startedAt: number;
  itemsIn = 0;
  itemsOut = 0;
  timer: NodeJS.Timeout | undefined;
  readonly #wire: StreamWire;
  readonly #inbox: Inbox<T>;
  readonly #input: Pump<unknown> | undefined;
  readonly #writer: ItemWriter | undefined;
  /** The stream protocol version of the open (2, or 1 after the peer refused 2). */
  #version = STREAM_VERSION;
  /** The open as sent, until the peer answers anything (a version-1 peer's refusal: open again as 1). */
  #openParts: (Buffer | string | Uint8Array)[] | undefined;
  readonly #itemSchema: z.ZodType | undefined;
  #signal: AbortSignal | undefined;
  /** CANCEL was sent (or the user is done): items still arriving are dropped. */
  #cancelled = false;
  /** The handler's side ended it (END / ERROR) or the link dropped: the id is free. */
  #released = false;
  /** How it ended for the user, for diagnostics. */
  #outcome: Error | undefined;

  constructor(wire: StreamWire, setup: OutgoingStreamSetup) {
    this.#wire = wire;
    this.id = setup.id;
    this.method = setup.method;
    this.startedAt = setup.startedAt;
    this.#itemSchema = setup.itemSchema;
    this.#inbox = new Inbox<T>(this, setup.highWaterMark);
    this.#openParts = setup.openParts;
    if (setup.input !== undefined) {
      this.#writer = new ItemWriter(wire, this, setup.id, StreamMessageType.INPUT_ITEM, StreamMessageType.INPUT_ITEMS, true);
      this.#input = new Pump(setup.input, this, 0);
    }
    const { timeoutMs, signal } = setup;
    if (timeoutMs > 0 && timeoutMs <= MAX_TIMER_DELAY_MS) this.timer = setTimeout(onDeadline, timeoutMs, this);
    if (signal !== undefined) {
      this.#signal = signal;
      signal.addEventListener('abort', this);
    }
    this.#input?.start();
  }

  /** Whether CANCEL was sent and the end is awaited. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** Whether the peer may send ITEMS and INPUT_STOP (the stream speaks version 2). */
  get batched(): boolean {
    return this.#version !== STREAM_VERSION_1;
  }

  /**
   * The peer refused the open's version (a version-1 peer): the open as version 1 (the same id,
   * which the refusal freed on the peer), for `send`. Undefined when there is nothing to fall back to.
   */
  fallBack(): (Buffer | string | Uint8Array)[] | undefined {
    const parts = this.#openParts;
    if (parts === undefined || this.#version === STREAM_VERSION_1 || this.#cancelled || this.#released) return undefined;
    this.#openParts = undefined;
    this.#version = STREAM_VERSION_1;
    if (this.#writer !== undefined) this.#writer.batchType = undefined;
    const header = Buffer.from(parts[0] as Buffer);
    header[7] = STREAM_VERSION_1;
    return [header, ...parts.slice(1)];
  }

  // ---- the user's iterator -----------------------------------------------------------------

  next(): Promise<IteratorResult<T>> {
    return this.#inbox.next();
  }

  /** `break` out of `for await`: cancels the stream; nothing is delivered after it. */
  return(value?: unknown): Promise<IteratorResult<T>> {
    this.#inbox.close();
    this.#stopLocally();
    return Promise.resolve({ value: value as T, done: true });
  }

  /** Cancels the stream and rejects with `error`. */
  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.#inbox.close();
    this.#stopLocally();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The signal aborted (EventListenerObject). */
  handleEvent(): void {
    this.cancel(new AbortedError(`stream ${this.method} aborted`, { cause: this.#signal?.reason }));
  }

  /** Cancel with `error` (abort, deadline, failed input): the loop rejects with it next. */
  cancel(error: Error): void {
    this.#outcome ??= error;
    this.#inbox.abort(error);
    this.#stopLocally();
  }

  // ---- the wire ----------------------------------------------------------------------------

  /** InboxHost: the loop consumed items; give the credit back. */
  grantCredit(grant: number): void {
    if (this.#cancelled || this.#released) return;
    this.#wire.post(StreamMessageType.CREDIT, creditBody(this.id, grant));
  }

  /** An ITEM arrived (throws ProtocolError past the credit granted). */
  onItem(value: unknown): void {
    this.itemsIn++;
    this.#openParts = undefined;
    if (this.#cancelled || !this.#inbox.open) {
      this.#inbox.push(value);
      return;
    }
    const schema = this.#itemSchema;
    if (schema !== undefined) {
      const result = validate(schema, value);
      if (!result.ok) {
        this.#inbox.window.received();
        const error = new InvalidParamsError(`item of stream ${this.method} does not match the contract:\n${result.message}`, result.issues);
        this.#outcome ??= error;
        this.#inbox.fail(error);
        this.#stopLocally();
        return;
      }
      value = result.value;
    }
    this.#inbox.push(value);
  }

  /** END arrived: the handler finished (or confirmed our cancel). */
  onEnd(): void {
    this.#openParts = undefined;
    this.#inbox.end();
    this.#release();
  }

  /** ERROR arrived: the handler failed or the stream was refused. */
  onError(error: Error): void {
    this.#outcome ??= error;
    this.#inbox.fail(error);
    this.#release();
  }

  /** INPUT_CREDIT arrived (throws ProtocolError for a stream without input, or past the maximum). */
  onInputCredit(grant: number): void {
    const input = this.#input;
    if (input === undefined) throw new ProtocolError(`input credit for stream ${this.id}, which has no input`);
    this.#openParts = undefined;
    if (!input.stopped) input.grant(grant);
  }

  /**
   * INPUT_STOP arrived: the handler stopped reading its input. The input is closed at its source
   * (`return()`, so its `finally` runs) and ended with INPUT_END; the items keep coming. Throws
   * ProtocolError for a stream without input.
   */
  onInputStop(): void {
    const input = this.#input;
    if (input === undefined) throw new ProtocolError(`input stop for stream ${this.id}, which has no input`);
    if (input.stopped) return; // its INPUT_END crossed the stop, or the stream is over
    input.stop();
    this.#writer?.discard();
    this.sendEnd();
  }

  /** The link dropped: the loop gets the items already here, then `error`. */
  linkClosed(error: Error): void {
    this.#outcome ??= error;
    this.#inbox.fail(error);
    this.#release();
  }

  // ---- PumpSink (our input) ----------------------------------------------------------------

  sendItem(value: unknown): boolean {
    const ok = this.#writer!.write(value);
    this.itemsOut++;
    this.#wire.countOut();
    return ok;
  }

  get congested(): boolean {
    return this.#writer?.congested === true;
  }

  sendEnd(): void {
    if (this.#cancelled || this.#released) return;
    try {
      this.#writer?.flush();
    } catch (error) {
      this.failed(error);
      return;
    }
    this.#wire.post(StreamMessageType.INPUT_END, u32Body(this.id));
  }

  // ---- ItemWriterOwner (our input) ---------------------------------------------------------

  flushFailed(error: Error): void {
    this.failed(error);
  }

  /** The input threw, or one of its items could not be sent: the stream fails with that error. */
  failed(error: unknown): void {
    this.cancel(toError(error));
  }

  drained(): Promise<void> {
    const writer = this.#writer;
    return writer === undefined ? this.#wire.drained() : this.#wire.drained().then(writer.drainedNow);
  }

  // ---- ending ------------------------------------------------------------------------------

  /** The user is done (break, abort, deadline, bad item, failed input): release local resources, CANCEL. */
  #stopLocally(): void {
    this.#clearWatch();
    this.#input?.stop();
    this.#writer?.discard();
    if (this.#cancelled || this.#released) return;
    this.#cancelled = true;
    this.#wire.sendCancel(this.id);
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#openParts = undefined;
    this.#clearWatch();
    this.#input?.stop();
    this.#writer?.discard();
    this.#wire.released(this, this.#outcome);
  }

  #clearWatch(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.#signal !== undefined) {
      this.#signal.removeEventListener('abort', this);
      this.#signal = undefined;
    }
  }
}

/** The iterator `stream()` returns when it cannot even open: it rejects with `error` once, then is done. */
export class FailedStream<T> implements AsyncIterableIterator<T> {
  #error: Error | undefined;

  constructor(error: Error) {
    this.#error = error;
  }

  next(): Promise<IteratorResult<T>> {
    const error = this.#error;
    if (error === undefined) return Promise.resolve({ value: undefined, done: true });
    this.#error = undefined;
    return Promise.reject(error);
  }

  return(value?: unknown): Promise<IteratorResult<T>> {
    this.#error = undefined;
    return Promise.resolve({ value: value as T, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
