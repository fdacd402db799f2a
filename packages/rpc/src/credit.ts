import { ProtocolError } from './errors.js';
import { MAX_CREDIT } from './stream-messages.js';

/** Items a consumer lets a producer send ahead, unless `highWaterMark` says otherwise. */
export const DEFAULT_STREAM_HIGH_WATER_MARK = 16;

/**
 * The consumer's side of credit-based flow control. It granted `highWaterMark` items up front; an
 * item it receives uses one credit, an item its reader takes frees one. Freed credit is given back
 * in batches (half the window, at least 1) rather than one message per item, so
 *
 *   buffered + outstanding + unreported === highWaterMark
 *
 * at all times: memory is bounded by the window whatever the producer does (an item past its credit
 * is refused as a protocol error).
 */
export class CreditWindow {
  readonly highWaterMark: number;
  /** Granted, not yet received. */
  #outstanding: number;
  /** Taken by the reader, not yet granted again. */
  #unreported = 0;
  readonly #batch: number;

  constructor(highWaterMark: number) {
    this.highWaterMark = highWaterMark;
    this.#outstanding = highWaterMark;
    this.#batch = Math.max(1, Math.floor(highWaterMark / 2));
  }

  /** Credit the producer still holds. */
  get outstanding(): number {
    return this.#outstanding;
  }

  /** An item arrived. Throws ProtocolError when the producer had no credit for it. */
  received(): void {
    if (this.#outstanding === 0) throw new ProtocolError('stream item beyond the credit granted');
    this.#outstanding--;
  }

  /** The reader took an item. Returns the grant to send now (0: none yet). */
  consumed(): number {
    const unreported = ++this.#unreported;
    if (unreported < this.#batch) return 0;
    this.#unreported = 0;
    this.#outstanding += unreported;
    return unreported;
  }
}

/**
 * The producer's side: the credit it holds. It never sends an item without one; grants from the
 * consumer add to it, up to {@link MAX_CREDIT} (past it the consumer is broken: ProtocolError).
 */
export class CreditBalance {
  #credit: number;

  constructor(initial: number) {
    this.#credit = initial;
  }

  /** Items that may be sent now. */
  get available(): number {
    return this.#credit;
  }

  /** A grant arrived (already checked to be 1..MAX_CREDIT). */
  add(grant: number): void {
    const credit = this.#credit + grant;
    if (credit > MAX_CREDIT) throw new ProtocolError(`stream credit overflow (${credit} items)`);
    this.#credit = credit;
  }

  /** Spend one credit; false when there is none. */
  take(): boolean {
    if (this.#credit === 0) return false;
    this.#credit--;
    return true;
  }
}
