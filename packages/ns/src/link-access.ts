import { TLSSocket } from 'node:tls';
import { type FramePart, type FramePayload, FrameTooLargeError, InvalidArgError, NotConnectedError } from '@proto/framing';
import { NsEmitter } from './emitter.js';
import type { DefaultEvents, EventMap } from './event-types.js';
import type { Link } from './link.js';
import { EXTENSION_TYPE_MAX, EXTENSION_TYPE_MIN } from './message.js';
import type { Session } from './session.js';
import { sendTyped } from './typed-send.js';

function ignore(): void {}

/**
 * The part of NsSocket's public API that reads or writes its current link: the peer's address,
 * buffered bytes, the frame limit, TLS keying material, extension sends. Base class of
 * {@link NsSocket}, which owns the link (this class only reads {@link LinkAccess.currentLink}).
 */
export abstract class LinkAccess<Events extends EventMap = DefaultEvents> extends NsEmitter<Events> {
  /** The current link, if any (it may be ending). */
  protected abstract get currentLink(): Link | undefined;

  /** The frame limit new links start from. */
  protected abstract get configuredMaxFrameBytes(): number;

  /** The session state with `resume` enabled. */
  protected abstract get session(): Session | undefined;

  /** Whether an extension message of `type` belongs to the session (not a link message of the extension). */
  protected abstract sequenced(type: number): boolean;

  /** The current link took a send: an accepted socket tells its server (its buffered-bytes total). */
  protected abstract sentOnLink(): void;

  /** Whether a session is established (see NsSocket.inSession). */
  abstract get inSession(): boolean;

  /** The peer's IP address; undefined without a link or over a Unix socket. */
  get remoteAddress(): string | undefined {
    return this.currentLink?.framed.remoteAddress;
  }

  /** The peer's port; undefined without a link or over a Unix socket. */
  get remotePort(): number | undefined {
    return this.currentLink?.framed.remotePort;
  }

  /** Outbound bytes accepted but not yet handed to the kernel (0 without a link). */
  get bufferedBytes(): number {
    return this.currentLink?.framed.bufferedBytes ?? 0;
  }

  /**
   * Largest frame, in bytes, in both directions, on the current link. Setting it changes the current
   * link only (the layer above tightens it while opening and relaxes it after); new links start from
   * the `maxFrameBytes` option.
   * @throws NotConnectedError (on set) without a link. InvalidArgError (on set) for an invalid value.
   */
  get maxFrameBytes(): number {
    return this.currentLink?.framed.maxFrameBytes ?? this.configuredMaxFrameBytes;
  }

  set maxFrameBytes(value: number) {
    const link = this.currentLink;
    if (link === undefined) throw new NotConnectedError('maxFrameBytes can only be set on a live link');
    link.framed.maxFrameBytes = value;
  }

  /**
   * Resolves once outbound buffered bytes are at or below the low-water mark (at once without a link).
   * In a session (`resume`), it first waits for room in the window (at or below half of its bounds),
   * and a link lost meanwhile is no failure.
   * @throws ConnectionClosedError (rejects) when the link closes first (in a session: when the socket closes).
   */
  drained(): Promise<void> {
    const session = this.session;
    if (session !== undefined && this.inSession) {
      return session.window.waitForRoom().then(() => {
        const link = this.currentLink;
        return link === undefined || !session.attached ? undefined : link.framed.drained().catch(ignore);
      });
    }
    const link = this.currentLink;
    return link === undefined ? Promise.resolve() : link.framed.drained();
  }

  /**
   * Stops reading from the current link, for the layer above (its backpressure): frames already
   * received in the current chunk are still delivered. A new link starts reading. Resume before a
   * graceful `end()`, or the peer's close is only seen when the end deadline destroys the link.
   */
  pauseReading(): void {
    const link = this.currentLink;
    if (link !== undefined && !link.ending) link.framed.pause();
  }

  /** Resumes reading after {@link LinkAccess.pauseReading} (no-op without a link). */
  resumeReading(): void {
    this.currentLink?.framed.resume();
  }

  /**
   * TLS keying material of the current link (RFC 5705), for channel binding; undefined over plain
   * TCP, Unix sockets, or without a link.
   */
  exportKeyingMaterial(length: number, label: string, context?: Buffer): Buffer | undefined {
    const stream = this.currentLink?.framed.stream;
    if (!(stream instanceof TLSSocket)) return undefined;
    // Node treats an undefined context as "no context" (RFC 5705), unlike an empty one.
    return stream.exportKeyingMaterial(length, label, context as Buffer);
  }

  /**
   * Sends a message of the extension layer: `[type][body]`. Allowed while the link is opening.
   * @param type in {@link EXTENSION_TYPE_MIN}..{@link EXTENSION_TYPE_MAX}
   * @param body bytes or strings (UTF-8); an array is concatenated on the wire (one frame).
   * @returns framing's backpressure boolean.
   * @throws InvalidArgError for a type outside the range. NotConnectedError without a live link (none,
   *   or `end()`/`destroy()` was called). FrameTooLargeError / BufferOverflowError as `send`.
   */
  sendExtension(type: number, body: FramePayload): boolean {
    if (!Number.isInteger(type) || type < EXTENSION_TYPE_MIN || type > EXTENSION_TYPE_MAX) {
      throw new InvalidArgError(`extension type must be an integer in 0x40..0x7f, got ${String(type)}`);
    }
    const session = this.session;
    if (session !== undefined && this.inSession && this.sequenced(type)) return this.#sendSequenced(session, type, body);
    const link = this.currentLink;
    if (link === undefined || link.ending) throw new NotConnectedError('cannot send an extension message without a live link');
    const ok = sendTyped(link.framed, type, body);
    this.sentOnLink();
    return ok;
  }

  /** An extension message of the session: copied whole into the window (the caller may reuse its buffers). */
  #sendSequenced(session: Session, type: number, body: FramePayload): boolean {
    const parts: readonly FramePart[] = Array.isArray(body) ? (body as readonly FramePart[]) : [body as FramePart];
    const message = Buffer.concat([Buffer.of(type), ...parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : part))]);
    const max = this.maxFrameBytes;
    if (message.length > max) throw new FrameTooLargeError(`message of ${String(message.length)} bytes exceeds maxFrameBytes (${String(max)})`);
    const ok = session.send(message, message.length);
    this.sentOnLink(); // written to the link when one is attached: counts for the server's maxTotalBufferedBytes
    return ok;
  }
}
