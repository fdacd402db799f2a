import { FrameTooLargeError, type FramePayload, ProtocolError } from '@proto/framing';
import { AckScheduler } from './ack-scheduler.js';
import { MessageWindow, payloadBytes } from './message-window.js';
import type { ResolvedResumeOptions } from './resume-options.js';
import { encodeAck, encodeSessionOpen, NO_SESSION, type SessionOpening } from './session-messages.js';
import type { SessionTimers } from './timers.js';

/** What a session needs from the link it currently runs on. */
export interface SessionPort {
  /** Writes one frame (framing's `send`): false past the high-water mark; may throw. */
  send(payload: FramePayload): boolean;
  /** Resolves when the link's buffered bytes drained (rejects when it closed). */
  drained(): Promise<void>;
}

function ignore(): void {}

/**
 * One side of a resumable session (PROTOCOL.md, "Resumable sessions"): the window of sequenced
 * messages sent and not yet acknowledged, the count of those received, and the link they currently
 * flow on. The same object lives across every link of the session, on both the client and the server.
 *
 * Sending: every sequenced message enters the window first ({@link Session.send}); it is written at
 * once when a link is attached and nothing older waits, else it waits its turn. After a new link's
 * opening exchange, {@link Session.attach} resends everything the peer has not received, in order,
 * pacing itself on the link's backpressure, so a resend never overflows framing's buffer.
 */
export class Session {
  readonly options: ResolvedResumeOptions;
  readonly window: MessageWindow;
  readonly acks: AckScheduler;
  /** The session id the server issued (16 zero bytes before the first). */
  id: Buffer = NO_SESSION;
  #port: SessionPort | undefined;
  /** Sequence number of the next message to write on the current link. */
  #nextToSend = 1;
  /** Highest sequence number ever written on any link: the peer cannot have received more. */
  #highestSent = 0;
  #pumpWaiting = false;

  constructor(options: ResolvedResumeOptions, timers?: SessionTimers) {
    this.options = options;
    this.window = new MessageWindow(options, 'resume window');
    this.acks = new AckScheduler(
      (received) => {
        try {
          this.#port?.send(encodeAck(received));
        } catch {
          // The link is failing; the next link's opening carries the count.
        }
      },
      timers === undefined ? {} : { timers },
    );
  }

  /** Whether a link is attached (sequenced messages flow). */
  get attached(): boolean {
    return this.#port !== undefined;
  }

  /** Messages sent or waiting and not acknowledged by the peer. */
  get unacknowledged(): number {
    return this.window.length;
  }

  /** Whether a new sequenced send should back off for the window (above half of a bound). */
  get full(): boolean {
    return !this.window.hasRoom;
  }

  /**
   * Sends a sequenced message: kept in the window, written now if a link is attached and nothing
   * older waits.
   * @returns false when the writer should back off: the link's backpressure, or the window past half.
   * @throws BufferOverflowError when the window is full (nothing kept). FrameTooLargeError from the
   *   link (nothing kept).
   */
  send(payload: FramePayload, size: number = payloadBytes(payload)): boolean {
    const seq = this.window.push(payload, size);
    const port = this.#port;
    if (port === undefined || seq !== this.#nextToSend || this.#pumpWaiting) return this.window.hasRoom && port !== undefined;
    let ok: boolean;
    try {
      ok = port.send(payload);
    } catch (error) {
      if (error instanceof FrameTooLargeError) {
        this.window.pop();
        throw error;
      }
      // Framing refused for now (its buffer is full) or the link is failing: the message stays in
      // the window and goes out on drain or on the next link.
      this.#waitForDrain(port);
      return false;
    }
    this.#nextToSend = seq + 1;
    this.#highestSent = seq;
    return ok && this.window.hasRoom;
  }

  /** A sequenced message of `bytes` bytes was delivered to the user or the extension. */
  onDelivered(bytes: number): void {
    this.acks.onReceived(bytes);
  }

  /**
   * The peer acknowledged everything up to `received`.
   * @throws ProtocolError when it goes backwards or past what was sent.
   */
  onAck(received: number): void {
    const sent = this.#port === undefined ? this.#highestSent : this.#nextToSend - 1;
    if (received > sent) {
      throw new ProtocolError(`peer acknowledged message ${String(received)}, only ${String(sent)} were sent`);
    }
    if (received < this.window.firstSeq - 1) {
      throw new ProtocolError(`peer acknowledged ${String(received)} after ${String(this.window.firstSeq - 1)}`);
    }
    this.window.ack(received);
  }

  /** Whether a peer's `received` in an opening fits what this side sent and the peer acknowledged. */
  fits(peerReceived: number): boolean {
    return peerReceived >= this.window.firstSeq - 1 && peerReceived <= this.#highestSent;
  }

  /** This side's part of an opening message (SESSION_OPEN's body, SESSION_ACCEPT's after the result). */
  opening(): SessionOpening {
    return { sessionId: this.id, received: this.acks.received, maxMessages: this.options.maxMessages, maxBytes: this.options.maxBytes };
  }

  /** The client's SESSION_OPEN for the next link. */
  openMessage(): Buffer {
    return encodeSessionOpen(this.opening());
  }

  /**
   * A new session replaces this one (the first, or the old one was lost): the window is emptied and
   * the counts start at 0.
   * @returns how many messages were dropped (`unsent` of `sessionLost`).
   */
  renew(id: Buffer): number {
    this.detach();
    this.id = id;
    this.#nextToSend = 1;
    this.#highestSent = 0;
    this.acks.reset();
    return this.window.reset();
  }

  /**
   * The opening exchange on a new link is done: the peer received `peerReceived` messages (all
   * acknowledged by that), and everything after it is (re)sent now, in order, then new messages.
   * @throws ProtocolError when `peerReceived` does not fit (see {@link Session.fits}).
   */
  attach(port: SessionPort, opening: Pick<SessionOpening, 'received' | 'maxMessages' | 'maxBytes'>): void {
    if (!this.fits(opening.received)) {
      throw new ProtocolError(`peer says it received ${String(opening.received)} messages; this side sent ${String(this.#highestSent)}`);
    }
    this.window.ack(opening.received);
    this.#port = port;
    this.#pumpWaiting = false;
    this.#nextToSend = opening.received + 1;
    this.acks.linkOpened(opening.maxMessages, opening.maxBytes);
    this.#pump(port);
  }

  /** The link is gone; sends go on into the window. */
  detach(): void {
    this.#port = undefined;
    this.#pumpWaiting = false;
    this.acks.linkClosed();
  }

  /** Before SESSION_END: acknowledges what is unacknowledged. */
  flushAck(): void {
    this.acks.flush();
  }

  #pump(port: SessionPort): void {
    while (this.#nextToSend <= this.window.lastSeq) {
      const seq = this.#nextToSend;
      let ok: boolean;
      try {
        ok = port.send(this.window.at(seq)!);
      } catch {
        this.#waitForDrain(port);
        return;
      }
      this.#nextToSend = seq + 1;
      if (seq > this.#highestSent) this.#highestSent = seq;
      if (!ok && this.#nextToSend <= this.window.lastSeq) {
        this.#waitForDrain(port);
        return;
      }
    }
  }

  #waitForDrain(port: SessionPort): void {
    if (this.#pumpWaiting) return;
    this.#pumpWaiting = true;
    port.drained().then(() => {
      if (this.#port !== port || !this.#pumpWaiting) return;
      this.#pumpWaiting = false;
      this.#pump(port);
    }, ignore);
  }
}
