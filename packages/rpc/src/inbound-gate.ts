// Backpressure end to end for one link (RELIABILITY.md, "A peer that stops reading its answers").
// When an answer we send leaves the outbound buffer past the high-water mark, the link takes no new
// work from the peer until the buffer drained to the low-water mark: the peer's requests, stream
// opens, cancels, credits and input items wait here in order and run after the drain. Messages for
// the calls *we* made (answers, stream items, input credit) and keepalive go on at once, and the
// link keeps reading: if both sides are backpressured at the same time (each answering large
// requests of the other), each still reads the answers the other sends, so both drain instead of
// waiting for each other for ever. Only when the held messages pass PARKED_BYTES_LIMIT does the link
// stop reading (ns pauseReading) until the drain, so memory stays bounded against a peer that sends
// requests and never reads: the high-water mark plus what the calls in progress at the pause
// produce, plus the held requests.
import type { NsSocket } from '@proto/ns';
import { toError } from '@proto/ns/internal';
import { RpcMessageType } from './message-types.js';
import { StreamMessageType } from './stream-messages.js';

/** Held bytes (bodies plus a per-message allowance) past which the link stops reading. */
export const PARKED_BYTES_LIMIT = 1024 * 1024;
/** What one held message costs besides its body (the record and its slot), for the limit. */
const PARKED_OVERHEAD_BYTES = 64;

/** What a gate needs of its link. */
export interface GateHost {
  readonly socket: NsSocket;
  /** Authenticated and not closed. */
  readonly open: boolean;
  /** Handles one message (the link's dispatch, past the gate). Throws ProtocolError on bad input. */
  dispatch(type: number, body: Buffer): void;
}

/** A message held while reading is paused: its type and body (a view that stays valid). */
interface Parked {
  readonly type: number;
  readonly body: Buffer;
}

/**
 * Whether `type` is new work for this side (the peer's calls: they make us send), held while the
 * link waits for its answers to drain. Everything else concerns our own calls or keepalive and is
 * handled at once; the two kinds never concern the same call, so each keeps its own order.
 */
function holds(type: number): boolean {
  switch (type) {
    case RpcMessageType.REQUEST:
    case RpcMessageType.CANCEL:
    case StreamMessageType.CREDIT:
    case StreamMessageType.INPUT_ITEM:
    case StreamMessageType.INPUT_ITEMS:
    case StreamMessageType.INPUT_END:
      return true;
    default:
      return false;
  }
}

/** The inbound side of one link's backpressure: paused or not, and the messages held meanwhile. */
export class InboundGate {
  readonly #host: GateHost;
  #paused = false;
  #readingPaused = false;
  #parked: (Parked | undefined)[] | undefined;
  #next = 0;
  #parkedBytes = 0;

  constructor(host: GateHost) {
    this.#host = host;
  }

  /** Whether the peer's new calls are held until the outbound buffer drains. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Whether the link stopped reading too (the held calls passed {@link PARKED_BYTES_LIMIT}). */
  get readingPaused(): boolean {
    return this.#readingPaused;
  }

  /** Messages held until the drain. */
  get parked(): number {
    return this.#parked === undefined ? 0 : this.#parked.length - this.#next;
  }

  /**
   * A message arrived: whether to handle it now. Otherwise it is kept (in order) for after the drain.
   */
  admit(type: number, body: Buffer): boolean {
    if ((!this.#paused && this.#parked === undefined) || !holds(type)) return true;
    (this.#parked ??= []).push({ type, body });
    this.#parkedBytes += body.length + PARKED_OVERHEAD_BYTES;
    if (this.#parkedBytes > PARKED_BYTES_LIMIT && this.#paused && !this.#readingPaused) {
      this.#readingPaused = true;
      this.#host.socket.pauseReading();
    }
    return false;
  }

  /** An answer left the outbound buffer past the high-water mark: hold new calls until it drained. */
  backpressured(): void {
    if (this.#paused) return;
    this.#paused = true;
    // One promise per pause, not per message. A link closing meanwhile settles it too.
    this.#host.socket.drained().then(
      () => this.#drained(),
      () => this.#drained(),
    );
  }

  /** The link closed: nothing held runs any more. */
  closed(): void {
    this.#parked = undefined;
    this.#next = 0;
    this.#parkedBytes = 0;
    this.#paused = false;
    this.#readingPaused = false;
  }

  /** Drained to the low-water mark: run what was held (until an answer fills the buffer again), then read on. */
  #drained(): void {
    this.#paused = false;
    const host = this.#host;
    if (!host.open) {
      this.closed();
      return;
    }
    const parked = this.#parked;
    if (parked !== undefined) {
      while (this.#next < parked.length && !this.#paused && host.open) {
        const message = parked[this.#next]!;
        parked[this.#next++] = undefined; // released as it runs
        this.#parkedBytes -= message.body.length + PARKED_OVERHEAD_BYTES;
        try {
          host.dispatch(message.type, message.body);
        } catch (error) {
          // Bad input from the peer, as ns would treat it inside its frame handler: the link fails.
          this.closed();
          host.socket.dropLink(toError(error));
          return;
        }
      }
      if (this.#next >= parked.length) {
        this.#parked = undefined;
        this.#next = 0;
        this.#parkedBytes = 0;
      }
    }
    if (this.#readingPaused && this.#parkedBytes <= PARKED_BYTES_LIMIT && host.open) {
      this.#readingPaused = false;
      host.socket.resumeReading();
    }
  }
}
