import type { Buffer } from 'node:buffer';
import type { FramePayload } from '@proto/ns';
import { carryablePart } from './json-check.js';
import { Encoding, encodingOf } from './messages.js';
import { FrameTooLargeError, NotConnectedError, ResultTooLargeError } from './errors.js';
import { itemHeader } from './stream-messages.js';

/**
 * Largest body of an ITEMS / INPUT_ITEMS frame this side sends (UTF-16 units × 3 of the JSON, so a
 * bound on the bytes whatever the text). Below framing's zero-copy threshold, so a batch is copied
 * into the socket's write batch like any small frame, and small enough that one batch never holds
 * the event loop for long.
 */
export const BATCH_MAX_BYTES = 16 * 1024 - 64;

/** Bytes of an ITEMS frame besides the array's text: type byte, `[id u32]`, brackets. */
const BATCH_OVERHEAD_BYTES = 1 + 4 + 2;

/** Where an item writer sends (the stream's wire). */
export interface ItemWire {
  /** Send a stream message; framing's backpressure boolean. Throws as `sendExtension`. */
  send(type: number, body: FramePayload): boolean;
  /** Largest frame the link sends now (its `maxFrameBytes`). */
  readonly maxFrameBytes: number;
}

/** The stream an item writer writes for. */
export interface ItemWriterOwner {
  /** The stream's method, for error messages. */
  readonly method: string;
  /**
   * Sending a batch at the end of the tick failed (say the buffer overflowed): the stream fails.
   * Not called when the link is going (its close ends the stream).
   */
  flushFailed(error: Error): void;
}

function flushScheduled(writer: ItemWriter): void {
  writer.scheduledFlush();
}

/**
 * Puts the items of one direction of one stream on the wire. JSON items of a version-2 stream are
 * collected into one ITEMS (INPUT_ITEMS) frame per tick: the text of each item joins a JSON array
 * that leaves at `process.nextTick`, when the batch nears {@link BATCH_MAX_BYTES}, or before any
 * item that must go alone. Raw bytes (sent without a copy), `undefined`, items too large for a
 * batch, and every item of a version-1 stream go alone as ITEM (INPUT_ITEM), after the batch.
 *
 * Backpressure: {@link ItemWriter.congested} is set when a frame reported it (also one sent at the
 * end of the tick), so the pump waits for a drain before it pulls the next item.
 */
export class ItemWriter {
  readonly #wire: ItemWire;
  readonly #owner: ItemWriterOwner;
  readonly #id: number;
  readonly #singleType: number;
  /** ITEMS / INPUT_ITEMS, or undefined on a version-1 stream (one frame per item). */
  batchType: number | undefined;
  readonly #input: boolean;
  /** `[id u32]`, the head of every batch (framing copies small parts, so it is reused). */
  #idBytes: Buffer | undefined;
  /** The batch so far: `[` and the items' JSON joined by commas ('' when empty). */
  #text = '';
  /** The batch's limit in UTF-16 units (set when it starts). */
  #limit = 0;
  #scheduled = false;
  /** A frame reported backpressure since the pump last waited for a drain. */
  congested = false;

  constructor(wire: ItemWire, owner: ItemWriterOwner, id: number, singleType: number, batchType: number | undefined, input: boolean) {
    this.#wire = wire;
    this.#owner = owner;
    this.#id = id;
    this.#singleType = singleType;
    this.batchType = batchType;
    this.#input = input;
  }

  /** The pump waited for a drain: backpressure is over. */
  readonly drainedNow = (): void => {
    this.congested = false;
  };

  /**
   * Send `value` (now or with the tick's batch). Returns false when the transport is backed up.
   * Throws InvalidArgError when JSON cannot carry it, ResultTooLargeError when it is over the frame
   * limit, or what sending throws.
   */
  write(value: unknown): boolean {
    const encoding = encodingOf(value);
    const payload = carryablePart(value, encoding, this.#input ? 'an input item' : 'an item', this.#owner.method);
    if (encoding === Encoding.JSON && this.batchType !== undefined && typeof payload === 'string' && payload.length > 0) {
      const units = payload.length;
      if (this.#text.length === 0) this.#start();
      else if (this.#text.length + 1 + units > this.#limit) {
        this.flush();
        this.#start();
      }
      if (units <= this.#limit) {
        this.#text = this.#text.length === 1 ? this.#text + payload : this.#text + ',' + payload;
        if (!this.#scheduled) {
          this.#scheduled = true;
          process.nextTick(flushScheduled, this);
        }
        return !this.congested;
      }
      this.#text = '';
    }
    this.flush();
    const header = itemHeader(this.#id, encoding);
    try {
      if (!this.#wire.send(this.#singleType, payload === undefined ? header : [header, payload])) this.congested = true;
    } catch (error) {
      if (error instanceof FrameTooLargeError) {
        throw new ResultTooLargeError(
          `${this.#input ? 'an input item' : 'an item'} of stream ${this.#owner.method} is larger than the sending side's frame limit (maxFrameBytes)`,
          { cause: error },
        );
      }
      throw error;
    }
    return !this.congested;
  }

  /** Send the batch now (nothing when it is empty). Throws what sending throws. */
  flush(): void {
    const text = this.#text;
    if (text.length === 0) return;
    this.#text = '';
    const idBytes = (this.#idBytes ??= itemHeader(this.#id, 0).subarray(0, 4));
    if (!this.#wire.send(this.batchType!, [idBytes, text + ']'])) this.congested = true;
  }

  /** At the end of the tick: the batch leaves; a failure fails the stream. */
  scheduledFlush(): void {
    this.#scheduled = false;
    try {
      this.flush();
    } catch (error) {
      if (!(error instanceof NotConnectedError)) this.#owner.flushFailed(error as Error);
    }
  }

  /** Drop the batch (the stream is over). */
  discard(): void {
    this.#text = '';
  }

  #start(): void {
    const frameLimit = this.#wire.maxFrameBytes - BATCH_OVERHEAD_BYTES;
    // In UTF-16 units, brackets and commas included: at most 3 bytes each.
    this.#limit = Math.floor(Math.min(BATCH_MAX_BYTES, frameLimit) / 3) - 1;
    this.#text = '[';
  }
}
