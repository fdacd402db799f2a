import { BufferOverflowError, type FramePart, InvalidArgError } from '@proto/framing';
import { partBytes } from '@proto/framing/internal';

/** Bounds of the queue that holds sends made while there is no open link. */
export interface OfflineQueueOptions {
  /**
   * Most messages held.
   * @default 1000
   */
  maxMessages?: number;
  /**
   * Most bytes held (encoded messages).
   * @default 1048576 (1 MiB)
   */
  maxBytes?: number;
}

/** The defaults of {@link OfflineQueueOptions}. */
export const DEFAULT_OFFLINE_QUEUE = Object.freeze({ maxMessages: 1000, maxBytes: 1024 * 1024 });

/** One queued message: the encoded prefix and its body, exactly as it will be sent. */
export type QueuedMessage = readonly [prefix: Buffer, body: FramePart];

/**
 * FIFO of encoded messages, bounded by count and bytes. Bodies are held by reference: a Buffer sent
 * while offline must not be modified before the queue is flushed.
 */
export class OfflineQueue {
  readonly maxMessages: number;
  readonly maxBytes: number;
  #items: QueuedMessage[] = [];
  #head = 0;
  #bytes = 0;

  constructor(options: OfflineQueueOptions) {
    this.maxMessages = options.maxMessages ?? DEFAULT_OFFLINE_QUEUE.maxMessages;
    this.maxBytes = options.maxBytes ?? DEFAULT_OFFLINE_QUEUE.maxBytes;
    if (!(Number.isInteger(this.maxMessages) && this.maxMessages >= 0) && this.maxMessages !== Number.POSITIVE_INFINITY) {
      throw new InvalidArgError('offlineQueue.maxMessages must be an integer >= 0 or Infinity');
    }
    if (!(this.maxBytes >= 0)) throw new InvalidArgError('offlineQueue.maxBytes must be a number >= 0');
  }

  /** Messages held. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Encoded bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Appends a message.
   * @throws BufferOverflowError when it would pass either bound (nothing is queued then).
   */
  push(prefix: Buffer, body: FramePart): void {
    const size = prefix.length + partBytes(body);
    if (this.length + 1 > this.maxMessages || this.#bytes + size > this.maxBytes) {
      throw new BufferOverflowError(
        `offline queue full (${this.length} messages, ${this.#bytes} bytes; limits ${this.maxMessages} messages, ${this.maxBytes} bytes)`,
      );
    }
    this.#items.push([prefix, body]);
    this.#bytes += size;
  }

  /** Removes and returns the oldest message. */
  shift(): QueuedMessage | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head]!;
    this.#items[this.#head] = EMPTY;
    this.#head++;
    this.#bytes -= item[0].length + partBytes(item[1]);
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    }
    return item;
  }

  /** Puts a message back at the front (after a flush was interrupted). */
  unshift(item: QueuedMessage): void {
    const size = item[0].length + partBytes(item[1]);
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
    this.#bytes += size;
  }

  /** Drops everything. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}

const EMPTY: QueuedMessage = [Buffer.alloc(0), ''];
