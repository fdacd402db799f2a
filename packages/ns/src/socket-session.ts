// The socket side of resumable sessions: what an NsSocket does with its session when a link opens,
// ends or is lost, and the server's adoption of a resumed link. It works on the socket's core
// (socket-core.ts), seen through SessionCore (this file imports no socket, so there is no cycle).
import { ConnectionClosedError, DEFAULT_CONNECT_TIMEOUT_MS, type FramedSocket } from '@proto/framing';
import type { AcceptingServer } from './accepting-server.js';
import { publishDisconnect } from './diagnostics.js';
import { Link, type LinkHost } from './link.js';
import { LinkResume } from './link-resume.js';
import type { Outbox } from './outbox.js';
import type { Session } from './session.js';
import type { ExchangeHost } from './session-exchange.js';
import type { NsSessionLostInfo } from './socket-events.js';
import { SESSION_END_MESSAGE } from './session-messages.js';

/** What the session code reads and changes of a socket: its core (the host of its links). */
export interface SessionCore extends LinkHost {
  readonly outbox: Outbox;
  /** The session, if any (without making the outbox). */
  readonly session: Session | undefined;
  /** The outbox if one was made. */
  readonly madeOutbox: Outbox | undefined;
  readonly server: AcceptingServer | undefined;
  /** The current link, if any. */
  readonly link: Link | undefined;
  /** Whether new links wire pause/resume/idle at once. */
  readonly flowEvents: boolean;
  /** A client's `connectTimeoutMs` (undefined on the server). */
  readonly connectTimeoutMs: number | undefined;
  /** Makes `link` the socket's (opening) link. */
  adoptLink(link: Link): void;
  /** A socket whose link went to another socket's session: it closes, never having opened. */
  retire(): void;
}

/** The per-link session state of a new link, when the socket has `resume` enabled. */
export function linkResumeFor(core: SessionCore, accepted: boolean): LinkResume | undefined {
  return core.session === undefined ? undefined : new LinkResume(accepted, core.extension?.linkMessageTypes);
}

/**
 * A link opened: with the session exchange done on it, the session runs there and the resend
 * starts; without (the peer does not resume), a session this socket had is lost.
 * @returns how many messages are resent (-1 without a session on this link).
 */
export function sessionOnOpen(core: SessionCore, link: Link): number {
  const resume = link.resume;
  const session = core.session;
  if (session === undefined) return -1;
  if (resume?.counts === undefined) {
    if (session.established) sessionLost(core, { reason: 'unknown', unsent: session.forget() });
    return -1;
  }
  const resent = Math.max(0, session.window.lastSeq - resume.counts.received);
  session.attach(link.framed, resume.counts);
  resume.live = session;
  if (resume.resumed) core.extension?.onLinkResumed?.(core.socket);
  return resent;
}

/** Client: the session was lost or ended (`sessionLost`). */
function sessionLost(core: SessionCore, info: NsSessionLostInfo): void {
  core.extension?.onSessionLost?.(core.socket);
  core.socket.emit('sessionLost', info);
}

/** end()/destroy() on a link carrying the session: acknowledge, then SESSION_END, so the peer forgets it now. @returns whether SESSION_END was sent. */
export function endSession(link: Link | undefined): boolean {
  const session = link?.resume?.live;
  if (session === undefined) return false;
  session.flushAck();
  if (!link!.writable) return false;
  link!.framed.send(SESSION_END_MESSAGE);
  return true;
}

/** A server socket's link dropped while its session lives: it waits `ttlMs` for the client (no `close`). */
export function sessionDetached(core: SessionCore, session: Session, error: Error | undefined): void {
  core.server!.sessions!.detach(session.id);
  publishDisconnect(core.socket, true, error, true);
  core.socket.emit('disconnect', error);
}

/**
 * The socket closed for good: its session is over (the server forgets it, the extension hears of it)
 * and the window is dropped.
 */
export function sessionClosed(core: SessionCore, error: Error | undefined): void {
  const { server } = core;
  const session = core.session;
  if (session?.established === true) {
    if (server !== undefined) server.sessions?.forget(session.id);
    core.extension?.onSessionLost?.(core.socket);
  }
  server?.socketClosed(core.socket);
  // A socket that never sent nor queued anything has no outbox to clear.
  core.madeOutbox?.clear(error ?? new ConnectionClosedError('the socket closed'));
}

/** Builds the exchange host of every socket; `coreOf` finds a socket's core (the sockets passed are NsSockets). */
export function createExchangeHost(coreOf: (socket: object) => SessionCore): ExchangeHost {
  return {
    session: (socket) => coreOf(socket).outbox.session!,
    owner: (socket) => {
      const core = coreOf(socket);
      return core.extension?.sessionOwner?.(core.socket);
    },
    store: (socket) => coreOf(socket).server!.sessions!,
    acceptTimeoutMs: (socket) => coreOf(socket).connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    adopt: (target, from, counts) => {
      const core = coreOf(target);
      // A link of ours the server has not seen die yet is replaced.
      core.link?.drop(new ConnectionClosedError('the session resumed on a new link'));
      const framed: FramedSocket = from.release();
      coreOf(from.socket).retire();
      const session = core.outbox.session!;
      core.server!.sessions!.attach(session.id);
      const resume = new LinkResume(true, core.extension?.linkMessageTypes);
      resume.peerResumes = true;
      resume.nonce = from.resume!.nonce;
      resume.resumed = true;
      resume.counts = counts;
      const link = new Link(framed, core, { accepted: true, flowEvents: core.flowEvents, hello: undefined, resume, adopted: true });
      core.adoptLink(link);
      link.openNow(true);
    },
    lost: (socket, info) => sessionLost(coreOf(socket), info),
    end: (socket, error) => coreOf(socket).socket.destroy(error),
  };
}
