import { type FramedSocket, ProtocolError } from '@proto/framing';

/** Sanity bound on user events held while this side finishes opening (reading is paused meanwhile). */
const HOLD_MAX_BYTES = 32 * 1024 * 1024;

/**
 * User events that arrived while this side of a link finishes opening (the peer is open already),
 * or while earlier held events wait for delivery: kept in order, with reading paused from the first
 * one so the hold stays small, and delivered once the link is open and its listeners exist.
 */
export class HeldEvents {
  readonly frames: Buffer[] = [];
  #bytes = 0;

  /**
   * Keeps `frame`; the first one pauses reading on `framed`.
   * @throws ProtocolError past the sanity bound.
   */
  add(frame: Buffer, framed: FramedSocket): void {
    if (this.frames.length === 0) framed.pause();
    this.frames.push(frame);
    this.#bytes += frame.length;
    if (this.#bytes > HOLD_MAX_BYTES) throw new ProtocolError('peer sent too many user events before this side finished opening');
  }

}
