import { SYSTEM_TIMERS, type SessionTimers } from './timers.js';

/** How long a receiver waits before acknowledging what it has received, at most (PROTOCOL.md, ACK). */
export const DEFAULT_ACK_DELAY_MS = 10;

/** Options of an {@link AckScheduler}. */
export interface AckSchedulerOptions {
  /** Longest wait between the first unacknowledged message and its ACK, in milliseconds. */
  delayMs?: number;
  /** Timer functions (injectable for tests). */
  timers?: SessionTimers;
}

/**
 * The receive side of a session: counts the sequenced messages delivered and decides when to
 * acknowledge them, batched (PROTOCOL.md, "Acknowledgements"): once the unacknowledged ones reach an
 * eighth of the peer's window (messages or bytes), or `delayMs` after the first of them, whichever
 * comes first. Never one ACK per message unless the peer's window is that small.
 *
 * `sendAck(received)` is called with the cumulative count; it must not throw (a link that cannot
 * take the ACK is dying, and the next link's opening carries the count anyway).
 */
export class AckScheduler {
  readonly #sendAck: (received: number) => void;
  readonly #timers: SessionTimers;
  readonly #delayMs: number;
  readonly #fire: () => void;
  #received = 0;
  #acked = 0;
  #unackedBytes = 0;
  #messageThreshold = 1;
  #byteThreshold = 1;
  #timer: unknown;
  #live = false;

  constructor(sendAck: (received: number) => void, options: AckSchedulerOptions = {}) {
    this.#sendAck = sendAck;
    this.#timers = options.timers ?? SYSTEM_TIMERS;
    this.#delayMs = options.delayMs ?? DEFAULT_ACK_DELAY_MS;
    this.#fire = () => {
      this.#timer = undefined;
      this.flush();
    };
  }

  /** Sequenced messages received in this session. */
  get received(): number {
    return this.#received;
  }

  /** The count last acknowledged to the peer (in an ACK or an opening message). */
  get acknowledged(): number {
    return this.#acked;
  }

  /** Whether a timer is pending (for leak tests). */
  get pending(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * A link of the session opened: ACKs may be sent, the peer's window is known, and the opening
   * message this side sent already acknowledged everything received so far.
   */
  linkOpened(peerMaxMessages: number, peerMaxBytes: number): void {
    this.#messageThreshold = Math.max(1, Math.ceil(peerMaxMessages / 8));
    this.#byteThreshold = Math.max(1, Math.ceil(peerMaxBytes / 8));
    this.#acked = this.#received;
    this.#unackedBytes = 0;
    this.#live = true;
    this.#cancelTimer();
  }

  /** The link is gone: no ACK can be sent until the next one opens. Keeps the count. */
  linkClosed(): void {
    this.#live = false;
    this.#cancelTimer();
  }

  /** A new session: the count starts at 0. */
  reset(): void {
    this.linkClosed();
    this.#received = 0;
    this.#acked = 0;
    this.#unackedBytes = 0;
  }

  /** One sequenced message of `bytes` bytes was delivered. */
  onReceived(bytes: number): void {
    this.#received++;
    if (!this.#live) return;
    this.#unackedBytes += bytes;
    if (this.#received - this.#acked >= this.#messageThreshold || this.#unackedBytes >= this.#byteThreshold) {
      this.flush();
      return;
    }
    if (this.#timer === undefined) this.#timer = this.#timers.setTimeout(this.#fire, this.#delayMs);
  }

  /** Acknowledges now whatever is unacknowledged (before SESSION_END, or from the timer). */
  flush(): void {
    this.#cancelTimer();
    if (!this.#live || this.#received === this.#acked) return;
    this.#acked = this.#received;
    this.#unackedBytes = 0;
    this.#sendAck(this.#received);
  }

  #cancelTimer(): void {
    if (this.#timer === undefined) return;
    this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
