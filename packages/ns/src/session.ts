import { BufferOverflowError, FrameTooLargeError, type FramePayload, ProtocolError } from '@proto/framing';
import { AckScheduler } from './ack-scheduler.js';
import { MessageWindow, payloadBytes } from './message-window.js';
import type { ResolvedResumeOptions } from './resume-options.js';
import { encodeAck, encodeSessionOpen, NO_SESSION, resumeProof, type SessionCounts } from './session-messages.js';
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
  /** The secret of the last SESSION_ACCEPT: keys the proof of the next resume. */
  secret: Buffer = NO_SESSION;
  #port: SessionPort | undefined;
  /** Sequence number of the next message to write on the current link. */
  #nextToSend = 1;
  /** Highest sequence number ever written on any link: the peer cannot have received more. */
  #highestSent = 0;
  #pumpWaiting = false;

  /**
   * @param window the socket's one message window (its offline queue too); a new one with the
   *   resume bounds when omitted.
   */
  constructor(options: ResolvedResumeOptions, timers?: SessionTimers, window?: MessageWindow) {
    this.options = options;
    this.window = window ?? new MessageWindow(options, 'resume window');
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

  /** Whether a new sequenced send should back off for the window (past three quarters of a bound). */
  get full(): boolean {
    return this.window.nearlyFull;
  }

  /**
   * Sends a sequenced message: kept in the window, written now if a link is attached and nothing
   * older waits.
   * @returns false when the writer should back off: the link's backpressure, or the window past
   *   three quarters of a bound (`drained()` then waits until it is back at half).
   * @throws BufferOverflowError when the window is full (nothing kept). FrameTooLargeError from the
   *   link (nothing kept).
   */
  send(payload: FramePayload, size: number = payloadBytes(payload)): boolean {
    const seq = this.window.push(payload, size);
    const port = this.#port;
    if (port === undefined || seq !== this.#nextToSend || this.#pumpWaiting) return !this.window.nearlyFull;
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
      this.#refused(port, error);
      return false;
    }
    this.#nextToSend = seq + 1;
    this.#highestSent = seq;
    return ok && !this.window.nearlyFull;
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

  /** The counts and bounds this side announces in an opening message. */
  counts(): SessionCounts {
    return { received: this.acks.received, maxMessages: this.options.maxMessages, maxBytes: this.options.maxBytes };
  }

  /** The client's SESSION_OPEN for a link whose server sent `nonce` in its HELLO. */
  openMessage(nonce: Buffer): Buffer {
    const fresh = this.id === NO_SESSION;
    return encodeSessionOpen({ sessionId: this.id, proof: fresh ? NO_SESSION : resumeProof(this.secret, nonce, this.id), ...this.counts() });
  }

  /**
   * A session this side had ended or was lost, and no new one began yet: the peer resumes, so sends
   * wait in the window and become the next session's first messages.
   */
  lapsed = false;

  /** Whether the server issued a session id (this side is in a session). */
  get established(): boolean {
    return this.id !== NO_SESSION;
  }

  /**
   * A new session replaces the old one, if any (the first, or the old one was lost or ended): the
   * counts start at 0. Messages of an old session are dropped; messages queued before any session
   * existed (the offline queue) become the new session's first ones.
   * @returns how many messages were dropped (`unsent` of `sessionLost`).
   */
  renew(id: Buffer, secret: Buffer = NO_SESSION): number {
    const hadSession = this.established;
    this.lapsed = false;
    this.detach();
    this.id = id;
    this.secret = secret;
    this.#nextToSend = 1;
    this.#highestSent = 0;
    this.acks.reset();
    if (!hadSession) {
      this.window.renumber();
      return 0;
    }
    return this.window.reset();
  }

  /** The session is over (ended, or lost with no new one yet): back to no session. @returns messages dropped. */
  forget(): number {
    if (this.established) this.lapsed = true;
    const dropped = this.established ? this.window.reset() : 0;
    this.detach();
    this.id = NO_SESSION;
    this.secret = NO_SESSION;
    this.#nextToSend = 1;
    this.#highestSent = 0;
    this.acks.reset();
    return dropped;
  }

  /**
   * The opening exchange on a new link is done: the peer received `peerReceived` messages (all
   * acknowledged by that), and everything after it is (re)sent now, in order, then new messages.
   * @throws ProtocolError when `peerReceived` does not fit (see {@link Session.fits}).
   */
  attach(port: SessionPort, opening: SessionCounts): void {
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
      } catch (error) {
        this.#refused(port, error);
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

  /**
   * The link refused a write: past framing's `maxBufferedBytes` the rest waits for its drain; any other
   * refusal means the link is going away, and everything waits for the next link.
   */
  #refused(port: SessionPort, error: unknown): void {
    if (error instanceof BufferOverflowError) this.#waitForDrain(port);
    else this.#pumpWaiting = true;
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
