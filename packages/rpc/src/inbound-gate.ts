// Backpressure end to end for one link (RELIABILITY.md, "A peer that stops reading its answers").
// When an answer we send leaves the outbound buffer past the high-water mark, the link stops
// reading (ns pauseReading) until the buffer drained to the low-water mark. Messages already in
// the chunk being decoded still arrive: they wait here in order and run after the drain (answers
// too, so that none overtakes a stream item it follows); only keepalive goes on at once. So
// buffered answers stay bounded by the high-water mark plus what the calls in progress at the
// pause produce, instead of growing until `maxBufferedBytes` refuses one.
import type { NsSocket } from '@proto/ns';
import { toError } from '@proto/ns/internal';
import { RpcMessageType } from './message-types.js';

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

/** Whether `type` may be handled while the link waits for its answers to drain (keepalive only: it keeps no order). */
function passes(type: number): boolean {
  return type === RpcMessageType.PING || type === RpcMessageType.PONG;
}

/** The inbound side of one link's backpressure: paused or not, and the messages held meanwhile. */
export class InboundGate {
  readonly #host: GateHost;
  #paused = false;
  #parked: (Parked | undefined)[] | undefined;
  #next = 0;

  constructor(host: GateHost) {
    this.#host = host;
  }

  /** Whether reading is paused until the outbound buffer drains. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Messages held until the drain. */
  get parked(): number {
    return this.#parked === undefined ? 0 : this.#parked.length - this.#next;
  }

  /**
   * A message arrived: whether to handle it now. Otherwise it is kept (in order) for after the drain.
   */
  admit(type: number, body: Buffer): boolean {
    if ((!this.#paused && this.#parked === undefined) || passes(type)) return true;
    (this.#parked ??= []).push({ type, body });
    return false;
  }

  /** An answer left the outbound buffer past the high-water mark: stop reading until it drained. */
  backpressured(): void {
    if (this.#paused) return;
    this.#paused = true;
    const socket = this.#host.socket;
    socket.pauseReading();
    // One promise per pause, not per message. A link closing meanwhile settles it too.
    socket.drained().then(
      () => this.#drained(),
      () => this.#drained(),
    );
  }

  /** The link closed: nothing held runs any more. */
  closed(): void {
    this.#parked = undefined;
    this.#next = 0;
    this.#paused = false;
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
      }
    }
    if (!this.#paused && host.open) host.socket.resumeReading();
  }
}
