import { type ItemSource, Pump, type PumpSink, toError } from '@proto/rpc/internal';
import type { OutgoingMessage } from './envelope.js';
import { AbortedError, RequestTimeoutError } from './errors.js';

/** Where a stream's input goes: the node holding its peer. */
export interface InputLink {
  /** @throws InvalidArgError when the message cannot be encoded. */
  publishTo(nodeId: string, message: OutgoingMessage): void;
}

/** A stream's input on its way to the holding node (rpc's {@link Pump}, sending `ii`/`ie`). */
class InputSink implements PumpSink<unknown> {
  readonly #stream: RemoteStream;
  readonly #link: InputLink;

  constructor(stream: RemoteStream, link: InputLink) {
    this.#stream = stream;
    this.#link = link;
  }

  sendItem(value: unknown): boolean {
    this.#link.publishTo(this.#stream.nodeId, { t: 'ii', id: this.#stream.id, v: value });
    return true;
  }

  sendEnd(): void {
    this.#link.publishTo(this.#stream.nodeId, { t: 'ie', id: this.#stream.id });
  }

  /** The input threw or an item could not be encoded: the stream fails with that error, cancelled. */
  failed(error: unknown): void {
    this.#stream.fail(toError(error), true);
  }

  drained(): Promise<void> {
    return Promise.resolve();
  }
}

/** What the streams table needs from its node. */
export interface StreamLink {
  /** Grant `count` more items of credit for stream `id` to the node holding its peer. */
  credit(stream: RemoteStream, count: number): void;
  /** Tell the holding node to cancel stream `id`. */
  cancel(stream: RemoteStream): void;
}

/** Default credit window, as rpc's streams. */
export const DEFAULT_HIGH_WATER_MARK = 16;

function onDeadline(stream: RemoteStream): void {
  stream.fail(new RequestTimeoutError(`stream ${stream.method} to ${stream.peerId} timed out`), true);
}

/**
 * A stream this node opened on a peer of another node, as its user iterates it. Items wait here
 * within the credit window it granted (`highWaterMark`); credit is granted again, in batches of
 * half the window, as the user consumes. `break`/`return()`, the signal and the deadline cancel it
 * on the holding node, which closes the peer's stream (its handler's `ctx.signal` aborts).
 */
export class RemoteStream implements AsyncIterableIterator<unknown> {
  readonly id: number;
  readonly peerId: string;
  readonly method: string;
  readonly highWaterMark: number;
  /** The node holding the peer; set once routed. */
  nodeId = '';
  /** The open message went out: a cancel is worth sending. */
  sent = false;
  readonly #table: RemoteStreams;
  readonly #items: unknown[] = [];
  #waiter: { resolve: (result: IteratorResult<unknown>) => void; reject: (error: Error) => void } | undefined;
  /** Ended (done or failed) for its user. */
  #finished = false;
  /** A failure to report once the queued items are consumed. */
  #error: Error | undefined;
  #consumed = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort: (() => void) | undefined;
  #input: Pump<unknown> | undefined;

  constructor(table: RemoteStreams, id: number, peerId: string, method: string, highWaterMark: number, timeoutMs: number, signal: AbortSignal | undefined) {
    this.#table = table;
    this.id = id;
    this.peerId = peerId;
    this.method = method;
    this.highWaterMark = highWaterMark;
    if (timeoutMs > 0) this.#timer = setTimeout(onDeadline, timeoutMs, this);
    this.#signal = signal;
    if (signal !== undefined) {
      this.#onAbort = () => this.fail(new AbortedError(`stream ${method} aborted`, { cause: signal.reason }), true);
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Start sending `input` (no credit yet: the holding node grants it once the stream is open). */
  sendInput(input: ItemSource<unknown>, link: InputLink): void {
    if (this.#finished) return;
    this.#input = new Pump(input, new InputSink(this, link), 0);
    this.#input.start();
  }

  /** The holding node accepts `count` more input items. */
  inputCredit(count: number): void {
    const input = this.#input;
    if (input === undefined || input.stopped) return;
    try {
      input.grant(count);
    } catch (error) {
      this.fail(error as Error, true);
    }
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.#items.length > 0) {
      const value = this.#items.shift();
      this.#took();
      return Promise.resolve({ value, done: false });
    }
    if (this.#error !== undefined) {
      const error = this.#error;
      this.#error = undefined;
      return Promise.reject(error);
    }
    if (this.#finished) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** `break` or an explicit `return()`: cancel on the holding node; nothing after it. */
  return(): Promise<IteratorResult<unknown>> {
    if (!this.#finished) this.#end(true);
    this.#items.length = 0;
    this.#error = undefined;
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(): Promise<IteratorResult<unknown>> {
    return this.return();
  }

  /** An item arrived from the holding node. */
  item(value: unknown): void {
    if (this.#finished) return;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      this.#took();
      waiter.resolve({ value, done: false });
      return;
    }
    this.#items.push(value);
  }

  /** The holding node ended it (`error` undefined) or it failed; `cancel`: tell the holding node. */
  fail(error: Error | undefined, cancel = false): void {
    if (this.#finished) return;
    this.#end(cancel);
    const waiter = this.#waiter;
    if (waiter === undefined) {
      this.#error = error;
      return;
    }
    this.#waiter = undefined;
    if (error === undefined) waiter.resolve({ value: undefined, done: true });
    else waiter.reject(error);
  }

  #took(): void {
    if (this.#finished) return;
    // Half the window consumed: grant it again, so the producer rarely waits.
    if (++this.#consumed * 2 >= this.highWaterMark) {
      this.#table.link.credit(this, this.#consumed);
      this.#consumed = 0;
    }
  }

  #end(cancel: boolean): void {
    this.#finished = true;
    // Closes the caller's input (its generator's finally runs).
    this.#input?.stop();
    clearTimeout(this.#timer);
    if (this.#onAbort !== undefined) this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#table.release(this);
    if (cancel && this.sent) this.#table.link.cancel(this);
  }
}

/** Streams this node opened on other nodes' peers, by id. */
export class RemoteStreams {
  readonly link: StreamLink;
  readonly #streams = new Map<number, RemoteStream>();
  #nextId = 0;

  constructor(link: StreamLink) {
    this.link = link;
  }

  open(peerId: string, method: string, highWaterMark: number, timeoutMs: number, signal: AbortSignal | undefined): RemoteStream {
    const stream = new RemoteStream(this, ++this.#nextId, peerId, method, highWaterMark, timeoutMs, signal);
    this.#streams.set(stream.id, stream);
    return stream;
  }

  /** The stream with this id, if it is still open and went to `nodeId`. */
  get(id: number, nodeId: string): RemoteStream | undefined {
    const stream = this.#streams.get(id);
    return stream !== undefined && stream.nodeId === nodeId ? stream : undefined;
  }

  release(stream: RemoteStream): void {
    if (this.#streams.get(stream.id) === stream) this.#streams.delete(stream.id);
  }

  /** Fail every stream to `nodeId` (undefined: every stream). */
  failNode(nodeId: string | undefined, error: () => Error): void {
    for (const stream of [...this.#streams.values()]) if (nodeId === undefined || stream.nodeId === nodeId) stream.fail(error());
  }
}
