// One link: the life of an NsSocket over one FramedSocket. The opening (HELLO, the extension's
// onLinkOpening, READY), control messages, user events held while this side finishes opening.
// Its FramedSocket listeners are module-level functions that find their link through one property
// of the framed socket (the ws pattern: no closure per connection or message), and a link only
// ever hears of its own transport, so nothing checks for a stale link.
import { ConnectionClosedError, ConnectTimeoutError, type FramedSocket, ProtocolError } from '@proto/framing';
import { setFrameHandler, toError } from '@proto/framing/internal';
import { emitReceived } from './emitter.js';
import { type ReceivedName, receivedName, sameName } from './event-cache.js';
import { HeldEvents } from './held-events.js';
import { checkHello, EVENT_HEADER_BYTES, EXTENSION_TYPE_MAX, EXTENSION_TYPE_MIN, eventBodyOffset, HELLO_MESSAGE, NsMessageType, parseJsonBody, unexpectedMessage } from './message.js';
import type { LinkResume } from './link-resume.js';
import { runOpening } from './link-opening.js';
import type { HelloDeadline, LinkExtension, LinkSettings, LinkSocket } from './link-types.js';
import { SessionMessageType } from './session-messages.js';
import { beforeHello, firstBytes } from './foreign-peer.js';
import { listen, listeningLink, stopListening } from './link-listeners.js';

/**
 * What a link tells the socket that owns it: the socket's core, one object per socket, so a link's
 * callbacks reach their own socket directly (no lookup, no closure per link).
 */
export interface LinkHost {
  /** The socket the link serves (events are emitted there, the extension is called with it). */
  readonly socket: LinkSocket;
  /** The socket's extension hooks, if any. */
  readonly extension: LinkExtension | undefined;
  /** The link is open: both hellos exchanged (a client) and the extension opened it. `inFrame`: opened by the peer's hello, while its frames are being delivered. */
  opened(link: Link, inFrame: boolean): void;
  /** The link failed (the first error is kept in {@link Link.error}). */
  failed(link: Link, error: Error): void;
  /** The link closed; its listeners are already removed. */
  closed(link: Link): void;
  /** With resume on both sides: this side is ready to open; the session exchange decides when it does. */
  sessionReady(link: Link, inFrame: boolean): void;
  /** A session message (`0x05`–`0x08`) arrived on a link where resume is on. */
  sessionMessage(link: Link, frame: Buffer): void;
}

// Bits of Link#flags. A link (a client's or an accepted one) opens once it has both HELLO_RECEIVED
// and EXTENSION_OPENED, in either order.
const HELLO_RECEIVED = 1;
const PEER_READY = 2;
const WAS_OPEN = 4;
const DELIVERING = PEER_READY | WAS_OPEN;
/** This side's extension opened the link (at once without `onLinkOpening`). */
const EXTENSION_OPENED = 8;
/** The socket ends or destroys this link. */
const ENDING = 16;
const CLOSED = 32;

function endTimerFired(link: Link): void {
  link.framed.destroy();
}
function helloTimerFired(link: Link, hello: HelloDeadline): void {
  link.helloTimedOut(hello.option, hello.timeoutMs);
}
function deliverHeldLater(link: Link): void {
  link.deliverHeld();
}

/** The link a framed socket carries, if any (the server's clientError path). */
export function linkOf(framed: FramedSocket): Link | undefined {
  return listeningLink(framed) as Link | undefined; // only links listen there
}

/**
 * One FramedSocket's worth of an NsSocket. Created by the socket for each new transport; the socket
 * keeps the state machine, the link what this transport has seen.
 */
export class Link {
  readonly framed: FramedSocket;
  readonly socket: LinkSocket;
  /** The first error of this link. */
  error: Error | undefined;
  /** User events received on this link. */
  messagesIn = 0;
  readonly #host: LinkHost;
  readonly #extension: LinkExtension | undefined;
  /** With `resume` enabled on this side. */
  readonly resume: LinkResume | undefined;
  #flags: number;
  #held: HeldEvents | undefined;
  #opening: AbortController | undefined;
  /** The last received event name, recognised by its bytes. */
  #lastName: ReceivedName | undefined;
  /** The deadline for the peer's hello; once the socket ends the link, the deadline for its close. */
  #helloTimer: NodeJS.Timeout | undefined;

  constructor(framed: FramedSocket, host: LinkHost, settings: LinkSettings) {
    this.framed = framed;
    this.socket = host.socket;
    this.#host = host;
    this.#extension = host.extension;
    this.#flags = settings.adopted === true ? HELLO_RECEIVED | EXTENSION_OPENED : 0;
    this.resume = settings.resume;
    // Frames come straight from framing's decoder to this link (no `frame` event).
    setFrameHandler(framed, Link.prototype.received, this);
    listen(framed, this, !settings.accepted, settings.flowEvents);
    const hello = settings.hello;
    if (hello !== undefined) this.#helloTimer = setTimeout(helloTimerFired, hello.leftMs, this, hello);
  }

  /** Whether the socket ended or destroyed this link. */
  get ending(): boolean {
    return (this.#flags & ENDING) !== 0;
  }

  /** Whether the link was open (it may be ending now). */
  get wasOpen(): boolean {
    return (this.#flags & WAS_OPEN) !== 0;
  }

  /**
   * Whether framing still takes sends on this link. It refuses them as soon as the link starts ending
   * (our `end()`, the peer's end, `destroy()`, the framing server closing), which can be long before
   * `close` (a flush to a slow reader).
   */
  get writable(): boolean {
    return this.framed.writable;
  }

  /**
   * Sends the hello and starts opening. A link opens once the peer's hello has arrived and the
   * extension (if any) has opened it: a server that accepts and closes, or never speaks ns, is no
   * connection for a client (no `connect`, no backoff reset, no flush), nor is a client that never
   * says hello for a server (no `connection`; the hello deadline closes it). With `failure` (the
   * server's extension factory threw) the link is destroyed instead.
   */
  start(failure: Error | undefined): void {
    const framed = this.framed;
    if (failure !== undefined) {
      framed.destroy(failure);
      return;
    }
    try {
      framed.send(this.resume?.hello() ?? HELLO_MESSAGE);
    } catch (error) {
      framed.destroy(toError(error));
      return;
    }
    const extension = this.#extension;
    const onLinkOpening = extension?.onLinkOpening;
    if (onLinkOpening === undefined) {
      this.#flags |= EXTENSION_OPENED;
      return;
    }
    const controller = new AbortController();
    this.#opening = controller;
    runOpening(this, extension!, this.socket, controller);
  }

  /** @internal onLinkOpening failed: the link is destroyed with its error (unless that opening was abandoned). */
  openingFailed(controller: AbortController, error: unknown): void {
    if (this.#opening !== controller) return;
    this.#opening = undefined;
    this.framed.destroy(toError(error));
  }

  /** onLinkOpening resolved: the link opens now if the peer's hello is in, else when it arrives. */
  extensionOpened(controller: AbortController): void {
    if (this.#opening !== controller || (this.#flags & ENDING) !== 0) return;
    this.#opening = undefined;
    this.#flags |= EXTENSION_OPENED;
    if ((this.#flags & HELLO_RECEIVED) !== 0) this.#ready(false);
  }

  /** Both hellos are in and the extension opened the link: it opens (with resume on both sides, after the session exchange). */
  #ready(inFrame: boolean): void {
    // The transport is ending under us (say the server closing while this link opened): it never
    // opens, and its close is handled when the stream closes.
    if (!this.framed.writable) return;
    if (this.resume?.peerResumes === true) this.#host.sessionReady(this, inFrame);
    else this.#open(inFrame);
  }

  /** The session exchange is done: the link opens (no-op once open or ending). */
  openNow(inFrame: boolean): void {
    if ((this.#flags & (WAS_OPEN | ENDING | CLOSED)) === 0) this.#open(inFrame);
  }

  /**
   * Gives up the transport without closing it (a resumed session takes it over): no listener of this
   * link stays on it, and the link counts as closed without telling its socket.
   */
  release(): FramedSocket {
    this.#flags |= CLOSED;
    this.#detachListeners();
    stopListening(this.framed, true);
    this.#clearHelloTimer();
    this.resume?.stop();
    return this.framed;
  }

  #open(inFrame: boolean): void {
    this.#flags |= WAS_OPEN;
    this.#host.opened(this, inFrame);
  }

  /**
   * Held events go out after connect() resolved and the connection listener ran, so their listeners
   * exist: a macrotask later, after every promise continuation. Opened by the hello itself
   * (`holdFollowing`), events right behind it in the same chunk must wait for that too.
   */
  scheduleHeld(holdFollowing: boolean): void {
    if (holdFollowing) this.#held ??= new HeldEvents();
    if (this.#held !== undefined) setImmediate(deliverHeldLater, this);
  }

  /** @internal The hello timer fired: the attempt failed. */
  helloTimedOut(option: string, timeoutMs: number): void {
    this.#helloTimer = undefined;
    if ((this.#flags & (HELLO_RECEIVED | WAS_OPEN | ENDING | CLOSED)) !== 0) return;
    this.framed.destroy(new ConnectTimeoutError(`the peer did not send its ns hello within ${option} (${String(timeoutMs)} ms)`));
  }

  #clearHelloTimer(): void {
    if (this.#helloTimer !== undefined) {
      clearTimeout(this.#helloTimer);
      this.#helloTimer = undefined;
    }
  }

  // ---- ending -----------------------------------------------------------------------------------

  /** The socket ends this link gracefully; an opening in progress aborts with `reason`. */
  end(reason: Error, timeoutMs: number): void {
    this.#stopOpening(reason);
    // A peer that never closes its side (or stopped reading) does not keep the link for ever.
    if (timeoutMs !== Number.POSITIVE_INFINITY) this.#helloTimer = setTimeout(endTimerFired, timeoutMs, this).unref();
    // Events held for a link that will never open are dropped, and reading resumes so the close is seen.
    if (this.#held !== undefined && (this.#flags & WAS_OPEN) === 0) {
      this.#held = undefined;
      this.framed.resume();
    }
    void this.framed.end();
  }

  /** The socket destroys this link; an opening in progress aborts with `reason`. */
  destroy(reason: Error): void {
    this.#stopOpening(reason);
    this.framed.destroy();
  }

  /** Destroys the link and handles its close now, not when the stream's close arrives. */
  drop(error: Error): void {
    this.error ??= error;
    // No error to framing: it would come back as an `error` event.
    this.framed.destroy();
    this.closed();
  }

  #stopOpening(reason: Error): void {
    this.#flags |= ENDING;
    this.#clearHelloTimer();
    this.#opening?.abort(reason);
  }

  // ---- receiving --------------------------------------------------------------------------------

  /** @internal A frame arrived (framing's frame handler, called with the link as `this`). */
  received(frame: Buffer): void {
    try {
      const type = frame[0];
      // Open (or closing after it was open: what the peer sent before our end() still arrives).
      if ((type === NsMessageType.EVENT_JSON || type === NsMessageType.EVENT_BINARY) && (this.#flags & DELIVERING) === DELIVERING && this.#held === undefined) {
        this.#deliver(frame, type);
      } else this.#control(frame);
    } catch (error) {
      // Bad input from the peer, or an exception of a listener: this link fails, nothing escapes.
      this.framed.destroy(toError(error));
    }
  }

  #deliver(frame: Buffer, type: number): void {
    const offset = eventBodyOffset(frame);
    let name = this.#lastName;
    if (name === undefined || !sameName(frame, EVENT_HEADER_BYTES, offset, name)) {
      this.#lastName = name = receivedName(frame, EVENT_HEADER_BYTES, offset);
    }
    const data = type === NsMessageType.EVENT_JSON ? parseJsonBody(frame, offset) : frame.subarray(offset);
    this.messagesIn++;
    this.resume?.live?.onDelivered(frame.length);
    emitReceived(this.socket, name, data);
  }

  /** Everything but a user event on an open link. */
  #control(frame: Buffer): void {
    const type = frame[0];
    const flags = this.#flags;
    if ((flags & HELLO_RECEIVED) === 0) {
      if (type !== NsMessageType.HELLO) {
        throw new ProtocolError(`peer does not speak this protocol: its first message is not an ns hello (it starts ${firstBytes(frame)})`);
      }
      checkHello(frame);
      this.resume?.onHello(frame);
      this.#flags |= HELLO_RECEIVED;
      this.#clearHelloTimer();
      if ((flags & (EXTENSION_OPENED | WAS_OPEN | ENDING)) === EXTENSION_OPENED) this.#ready(true);
      return;
    }
    if (type === NsMessageType.EVENT_JSON || type === NsMessageType.EVENT_BINARY) {
      this.#hold(frame);
      return;
    }
    if (type !== undefined && type >= EXTENSION_TYPE_MIN && type <= EXTENSION_TYPE_MAX) {
      const extension = this.#extension;
      if (extension === undefined) throw new ProtocolError(`peer sent extension message 0x${type.toString(16)} but no extension is installed`);
      const live = this.resume?.live;
      if (live !== undefined && this.resume!.sequenced(type)) live.onDelivered(frame.length);
      extension.onMessage(this.socket, type, frame.subarray(1));
      return;
    }
    if (type !== undefined && type >= SessionMessageType.SESSION_OPEN && type <= SessionMessageType.SESSION_END && this.resume?.peerResumes === true) {
      this.#host.sessionMessage(this, frame);
      return;
    }
    if (type === NsMessageType.READY) {
      if ((flags & PEER_READY) !== 0) throw new ProtocolError('peer sent READY twice');
      this.#flags |= PEER_READY;
      return;
    }
    throw unexpectedMessage(type);
  }

  /** A user event that arrived before this side is open (or while held events wait for delivery). */
  #hold(frame: Buffer): void {
    const flags = this.#flags;
    if ((flags & PEER_READY) === 0) throw new ProtocolError('peer sent a user event before it finished opening');
    if ((flags & WAS_OPEN) !== 0 && this.#held === undefined) {
      this.#deliver(frame, frame[0]!);
      return;
    }
    // Ending before this side ever opened: nobody will listen, and reading must go on to see the close.
    if ((flags & (WAS_OPEN | ENDING)) === ENDING) return;
    // The peer is open and this side settles in a moment (its extension already has what it needs),
    // or held events are waiting for delivery: keep the order, and stop reading so the hold stays small.
    (this.#held ??= new HeldEvents()).add(frame, this.framed);
  }

  /** @internal Delivers user events held while opening, in order, then resumes reading. */
  deliverHeld(): void {
    const held = this.#held;
    if (held === undefined || (this.#flags & (WAS_OPEN | CLOSED)) !== WAS_OPEN) return;
    this.#held = undefined;
    for (const frame of held.frames) {
      if ((this.#flags & CLOSED) !== 0) return;
      try {
        this.#deliver(frame, frame[0]!);
      } catch (error) {
        this.framed.destroy(toError(error));
        return;
      }
    }
    if (held.frames.length > 0) this.framed.resume(); // reading was paused for them
  }

  /**
   * @internal The transport failed (also forwarded by the server for accepted links).
   * @returns the error as reported: before the peer's hello, an oversize frame header becomes an
   *   ERR_FRAME_TOO_LARGE whose message says what it probably is (a peer speaking another protocol).
   */
  failed(error: Error): Error {
    if ((this.#flags & CLOSED) !== 0) return error;
    const reported = (this.#flags & HELLO_RECEIVED) === 0 ? beforeHello(error) : error;
    this.error ??= reported;
    this.#host.failed(this, reported);
    return reported;
  }

  /** @internal The transport closed. */
  closed(): void {
    if ((this.#flags & CLOSED) !== 0) return;
    this.#flags |= CLOSED;
    // The error listener stays: a stray late error must not throw.
    this.#detachListeners();
    this.#held = undefined;
    this.#clearHelloTimer();
    this.resume?.stop();
    const opening = this.#opening;
    this.#opening = undefined;
    opening?.abort(this.error ?? new ConnectionClosedError('the link closed while opening'));
    this.#host.closed(this);
  }

  #detachListeners(): void {
    setFrameHandler(this.framed, undefined, undefined);
    stopListening(this.framed, false);
  }
}
