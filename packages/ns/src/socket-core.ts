// The state of one NsSocket and everything that changes it: the state machine (idle → connecting →
// opening → open → reconnecting/closing → closed), the current link, the dialer, the outbox. One
// core per socket: it is the host of the socket's links and of its dialer, so their callbacks reach
// their own socket directly (no shared host object, no lookups, no stale-link checks). NsSocket is
// the public API over it; the server and the session code find a socket's core with coreOf().
import { ConnectionClosedError, type FramedSocket } from '@proto/framing';
import { type Deferred, deferred, toError } from '@proto/framing/internal';
import type { Acceptance, AcceptingServer } from './accepting-server.js';
import { Dialer, type DialerHost } from './dialer.js';
import { publishConnect, publishDisconnect, publishReconnect } from './diagnostics.js';
import { isFatal } from './extension.js';
import { Link, type LinkHost } from './link.js';
import { listenForFlowEvents } from './link-listeners.js';
import type { HelloDeadline, LinkExtension, LinkSocket } from './link-types.js';
import { READY_MESSAGE } from './message.js';
import type { NsClientOptions } from './options.js';
import { Outbox, type OutgoingMessage } from './outbox.js';
import { resolveResumeOptions } from './resume-options.js';
import { sessionMessage, sessionReady } from './session-exchange.js';
import type { Session } from './session.js';
import { createExchangeHost, endSession, linkResumeFor, type SessionCore, sessionClosed, sessionDetached, sessionOnOpen } from './socket-session.js';
import type { NsReconnectingInfo, NsSocketState } from './socket-events.js';
import { LiveStats, SocketTotals } from './socket-stats.js';

export const State = { IDLE: 0, CONNECTING: 1, OPENING: 2, OPEN: 3, BACKOFF: 4, CLOSING: 5, CLOSED: 6 } as const;
export type State = (typeof State)[keyof typeof State];
const STATE_NAMES: readonly NsSocketState[] = ['idle', 'connecting', 'opening', 'open', 'reconnecting', 'closing', 'closed'];

const kCore = Symbol('nsSocketCore');
interface Cored {
  [kCore]?: SocketCore<LinkSocket>;
}

/** The core of an NsSocket (every socket has one from its constructor on). */
export function coreOf(socket: object): SocketCore<LinkSocket> {
  return (socket as Cored)[kCore]!;
}

const exchangeHost = createExchangeHost(coreOf);

/** The state of one NsSocket `S` and its transitions. */
export class SocketCore<S extends LinkSocket> implements LinkHost, DialerHost, SessionCore {
  readonly socket: S;
  state: State = State.IDLE;
  link: Link | undefined;
  extension: LinkExtension | undefined;
  server: AcceptingServer | undefined;
  /** Client sockets only. */
  dialer: Dialer<S> | undefined;
  /** Made by the first send (or offline-queue/resume settings): an idle accepted socket has none. */
  #outbox: Outbox | undefined = undefined;
  /** Allocated on first use, so an idle accepted socket stays small. */
  totals: SocketTotals | undefined;
  #stats: LiveStats | undefined;
  /** Server sockets: the outbound bytes the server last counted for this socket (its running total for maxTotalBufferedBytes). */
  countedBytes = 0;
  /** Whether new links wire pause/resume/idle at once (someone listens for them). */
  flowEvents = false;
  /** The error given to destroy(). */
  #finalError: Error | undefined;
  #closeWaiter: Deferred<void> | undefined;

  constructor(socket: S) {
    this.socket = socket;
    Object.defineProperty(socket, kCore, { value: this });
  }

  /** The public state name. An open link that is ending (e.g. the peer ended it) is `closing`. */
  get stateName(): NsSocketState {
    const state = this.state;
    if (state === State.OPEN && !this.link!.writable) return 'closing';
    return STATE_NAMES[state]!;
  }

  /** Whether a link is open and takes user events. */
  get connected(): boolean {
    return this.state === State.OPEN && this.link!.writable;
  }

  /** The live stats object (made on first read). */
  get stats(): LiveStats {
    return (this.#stats ??= new LiveStats(this));
  }

  get messagesOut(): number {
    return this.#outbox?.written ?? 0;
  }

  /** The user events this socket sends (see {@link Outbox}). */
  get outbox(): Outbox {
    return (this.#outbox ??= new Outbox());
  }

  /** The outbox if one was made. */
  get madeOutbox(): Outbox | undefined {
    return this.#outbox;
  }

  /** The session state with `resume` enabled (read without making the outbox). */
  get session(): Session | undefined {
    return this.#outbox?.session;
  }

  get connectTimeoutMs(): number | undefined {
    return this.dialer?.options.connectTimeoutMs;
  }

  /** With `resume`: whether a session is established. */
  get inSession(): boolean {
    return this.#outbox?.session?.established === true && this.state < State.CLOSING;
  }

  /** Merges options into the client settings (validating them) and returns the dialer. */
  configure(options: NsClientOptions<LinkExtension>): Dialer<S> {
    const dialer = this.dialer ?? new Dialer<S>(this.socket, this);
    dialer.configure(options, (merged) => {
      Outbox.check(merged.offlineQueue);
      resolveResumeOptions(merged.resume);
    });
    this.dialer = dialer;
    this.outbox.configure(dialer.options.offlineQueue, resolveResumeOptions(dialer.options.resume));
    this.extension = dialer.options.extension;
    return dialer;
  }

  /** connect(): from idle or closed, starts dialing (else the attempt in progress goes on). */
  start(dialer: Dialer<S>): void {
    if (this.state !== State.IDLE && this.state !== State.CLOSED) return;
    this.#finalError = undefined;
    dialer.resetAttempts();
    this.state = State.CONNECTING;
    dialer.dial();
  }

  /** A connection accepted by a server: its first link. */
  accept(framed: FramedSocket, { server, extension, failure, resume, hello }: Acceptance): void {
    this.server = server;
    this.extension = extension;
    // Without resume a new socket's outbox would be configured to nothing: leave it unmade until a send.
    if (resume !== undefined || this.#outbox !== undefined) this.outbox.configure(undefined, resume);
    this.#attach(framed, failure, hello);
  }

  /** end(): resolves once `close` was emitted. */
  end(limitMs: number): Promise<void> {
    const state = this.state;
    if (state === State.CLOSED || state === State.IDLE) {
      if (state === State.IDLE) this.#finalize(undefined);
      return Promise.resolve();
    }
    const waiter = (this.#closeWaiter ??= deferred()).promise;
    if (state === State.CLOSING) return waiter;
    endSession(this.link);
    this.#shutDown(undefined, 'ended')?.end(new ConnectionClosedError('the socket was ended while opening'), limitMs);
    return waiter;
  }

  destroy(error: Error | undefined): void {
    if (this.state === State.CLOSED) return;
    if (error !== undefined) this.#finalError = error;
    // The session ends with the socket: tell the peer while the link can carry it (else it waits
    // ttlMs). end() hands the batch holding SESSION_END to the stream before the destroy drops it.
    if (this.state === State.OPEN && endSession(this.link)) this.link!.framed.end();
    this.#shutDown(error, 'destroyed')?.destroy(error ?? new ConnectionClosedError('the socket was destroyed while opening'));
  }

  /** end()/destroy(): no more dialing; a pending connect() fails now; closed at once without a link, else the link to close. */
  #shutDown(error: Error | undefined, how: 'ended' | 'destroyed'): Link | undefined {
    this.dialer?.cancel();
    if (this.state !== State.OPEN) this.dialer?.rejectPending(error ?? new ConnectionClosedError(`the socket was ${how} before it connected`));
    const link = this.link;
    if (link === undefined) this.#finalize(error);
    else this.state = State.CLOSING;
    return link;
  }

  /** Sends an encoded user event: on the open link, else held (offline queue, session) or refused. */
  send(message: OutgoingMessage, maxFrameBytes: number): boolean {
    const link = this.link;
    const state = this.state;
    if (state === State.OPEN && link!.writable) {
      const ok = this.outbox.write(link!.framed, message);
      this.server?.sent(this.socket);
      return ok;
    }
    const ending = state === State.OPEN ? (this.dialer?.reconnects === true ? 'ending' : 'final') : 'down';
    return this.outbox.hold(message, state >= State.CLOSING ? 'closed' : ending, maxFrameBytes);
  }

  /** Sends an encoded user event on an open link (server broadcast: one encoding for all); false when not open or ending. */
  sendEncoded(message: OutgoingMessage): boolean {
    const link = this.link;
    if (this.state !== State.OPEN || !link!.writable) return false;
    this.outbox.write(link!.framed, message);
    return true;
  }

  /** dropLink(): see NsSocket.dropLink. */
  dropLink(error: Error | undefined): void {
    const state = this.state;
    const dialer = this.dialer;
    const keepsSocket = this.server === undefined ? dialer?.reconnects === true : this.inSession;
    if (!keepsSocket || state === State.CLOSING || state === State.CLOSED) {
      this.socket.destroy(error);
      return;
    }
    const err = error ?? new ConnectionClosedError('the link was dropped');
    if (state === State.CONNECTING) {
      dialer!.abortDial();
      this.#totals().lastError = err;
      this.#afterLinkFailure(err, false, false);
      return;
    }
    const link = this.link;
    if (link === undefined || (state !== State.OPEN && state !== State.OPENING)) return;
    this.#totals().lastError = err;
    // The caller sees disconnect/reconnecting before it returns.
    link.drop(err);
  }

  /** Someone may listen for pause/resume/idle now: wire them on the current link and the next ones. */
  wantFlowEvents(): void {
    this.flowEvents = true;
    const link = this.link;
    if (link !== undefined) listenForFlowEvents(link.framed);
  }

  /** Wires a new link and starts opening it (see {@link Link.start} for when it opens). */
  #attach(framed: FramedSocket, failure: Error | undefined, hello: HelloDeadline | undefined): void {
    const accepted = this.server !== undefined;
    const link = new Link(framed, this, { accepted, flowEvents: this.flowEvents, hello: failure === undefined ? hello : undefined, resume: linkResumeFor(this, accepted) });
    this.link = link;
    this.state = State.OPENING;
    link.start(failure);
  }

  // ---- LinkHost: what the socket's links report ----------------------------------------------

  /** The link is open: READY, offline queue, `connect`, the server's `connection`, connect() resolves. */
  opened(link: Link, inFrame: boolean): void {
    this.state = State.OPEN;
    const dialer = this.dialer;
    const server = this.server;
    const socket = this.socket;
    const resumed = link.resume?.resumed === true;
    let resent: number;
    try {
      link.framed.send(READY_MESSAGE);
      dialer?.resetAttempts();
      resent = sessionOnOpen(this, link);
      if (resent < 0 && dialer !== undefined) this.outbox.flush(link.framed);
      if (dialer !== undefined) this.#totals().linkOpened();
    } catch (error) {
      link.framed.destroy(toError(error));
      return;
    }
    // A resumed session on the server: the same socket goes on (no second `connection`).
    if (resumed && server !== undefined) return void socket.emit('resumed', { resent });
    publishConnect(socket, server !== undefined);
    // Events right behind the hello that opened the link wait until `connect()` resolved or the
    // `connection` listeners ran (also one awaiting `once(server, 'connection')`).
    link.scheduleHeld(inFrame && (server !== undefined || dialer?.connectPending === true));
    try {
      socket.emit('connect');
      if (this.link === link) server?.socketOpened(socket);
    } catch (error) {
      // A throwing connect or connection listener costs this link, as a throwing data listener does
      // (this may run in a promise callback, where a throw would be an unhandled rejection).
      link.framed.destroy(toError(error));
      return;
    }
    if (this.link === link) dialer?.resolvePending();
    if (resumed && this.link === link) socket.emit('resumed', { resent });
  }

  failed(_link: Link, error: Error): void {
    this.#totals().lastError = error;
    this.socket.emit('error', error);
  }

  closed(link: Link): void {
    this.#totals().add(link);
    this.link = undefined;
    const { wasOpen, error } = link;
    const server = this.server;
    this.#outbox?.session?.detach();
    // A server keeps a socket whose session lives on, waiting ttlMs for the client to come back.
    const detached = server !== undefined && this.inSession;
    const closing = this.state === State.CLOSING || (server !== undefined && !detached);
    // Not OPEN any more while the callbacks below run: sends queue or throw.
    this.state = closing ? State.CLOSING : State.BACKOFF;
    if (closing && wasOpen) publishDisconnect(this.socket, server !== undefined, error, false);
    try {
      this.extension?.onLinkClosed?.(this.socket, error);
    } catch (hookError) {
      this.socket.emit('error', toError(hookError)); // reported, it must not derail the close
    }
    if (detached) return sessionDetached(this, this.#outbox!.session!, error);
    server?.socketClosed(this.socket);
    // An accepted socket closes for good here (unless its session waits); destroy(err)'s error wins over the link's.
    if (closing) this.#finalize(this.#finalError ?? error);
    else this.#afterLinkFailure(error ?? new ConnectionClosedError('the peer closed the connection'), wasOpen, false);
  }

  sessionReady(link: Link, inFrame: boolean): void {
    sessionReady(exchangeHost, link, inFrame);
  }

  sessionMessage(link: Link, frame: Buffer): void {
    sessionMessage(exchangeHost, link, frame);
  }

  // ---- SessionCore ------------------------------------------------------------------------------

  adoptLink(link: Link): void {
    this.link = link;
    this.state = State.OPENING;
  }

  retire(): void {
    this.link = undefined;
    this.extension?.onLinkClosed?.(this.socket, undefined);
    this.#finalize(undefined);
  }

  // ---- DialerHost -------------------------------------------------------------------------------

  dialed(framed: FramedSocket): void {
    this.#attach(framed, undefined, this.dialer!.helloDeadline());
  }

  dialFailed(error: Error, fatal: boolean): void {
    this.#totals().lastError = error;
    this.#afterLinkFailure(error, false, fatal);
  }

  aborted(): void {
    this.socket.destroy();
  }

  retry(): void {
    if (this.state !== State.BACKOFF) return;
    this.state = State.CONNECTING;
    this.dialer!.dial();
  }

  /** One failure (a failed dial or a lost link) schedules at most one reconnect. */
  #afterLinkFailure(error: Error, wasOpen: boolean, fatal: boolean): void {
    if (this.state === State.CLOSED) return; // ended from a callback
    const dialer = this.dialer;
    if (dialer?.retryPending === true) return; // never two timers for one socket
    const next = dialer === undefined || fatal || isFatal(error) ? undefined : dialer.scheduleRetry();
    const socket = this.socket;
    if (next === undefined) {
      if (wasOpen) publishDisconnect(socket, this.server !== undefined, error, false);
      this.#finalize(error);
      return;
    }
    this.state = State.BACKOFF;
    if (wasOpen) {
      publishDisconnect(socket, false, error, true);
      socket.emit('disconnect', error);
      if (this.state !== State.BACKOFF) return;
    }
    publishReconnect(socket, next.attempt, next.delayMs, error);
    socket.emit('reconnecting', { attempt: next.attempt, delayMs: next.delayMs, error } satisfies NsReconnectingInfo);
  }

  /** The one place that emits `close`. */
  #finalize(error: Error | undefined): void {
    if (this.state === State.CLOSED) return;
    this.state = State.CLOSED;
    const dialer = this.dialer;
    dialer?.cancel();
    sessionClosed(this, error);
    dialer?.rejectPending(error ?? new ConnectionClosedError('the socket closed before it connected'));
    const socket = this.socket;
    if (error !== undefined && error === this.#finalError) socket.emit('error', error);
    socket.emit('close', error);
    const waiter = this.#closeWaiter;
    this.#closeWaiter = undefined;
    waiter?.resolve();
  }

  #totals(): SocketTotals {
    return (this.totals ??= new SocketTotals());
  }
}

