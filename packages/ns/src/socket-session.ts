// The socket side of resumable sessions: what an NsSocket does with its session when a link opens,
// ends or is lost, and the server's adoption of a resumed link. NsSocket hands its private state in
// through SocketInternals (this file imports no socket, so there is no cycle).
import { ConnectionClosedError, DEFAULT_CONNECT_TIMEOUT_MS, type FramedSocket } from '@proto/framing';
import type { AcceptingServer } from './accepting-server.js';
import { publishDisconnect } from './diagnostics.js';
import { Link, type LinkExtension, type LinkHost, type LinkSocket } from './link.js';
import { LinkResume } from './link-resume.js';
import type { Outbox } from './outbox.js';
import type { Session } from './session.js';
import type { ExchangeHost } from './session-exchange.js';
import { SESSION_END_MESSAGE } from './session-messages.js';

/** The private state of an NsSocket the session code reads and sets. */
export interface SocketInternals {
  outbox(socket: object): Outbox;
  extension(socket: object): LinkExtension | undefined;
  server(socket: object): AcceptingServer | undefined;
  connectTimeoutMs(socket: object): number | undefined;
  link(socket: object): Link | undefined;
  /** Makes `link` the socket's (opening) link. */
  setLink(socket: object, link: Link): void;
  /** A socket whose link went to another socket's session: it closes, never having opened. */
  retire(socket: object): void;
  flowEvents(socket: object): boolean;
  readonly linkHost: LinkHost;
}

/** The per-link session state of a new link, when the socket has `resume` enabled. */
export function linkResumeFor(outbox: Outbox, accepted: boolean, extension: LinkExtension | undefined): LinkResume | undefined {
  return outbox.session === undefined ? undefined : new LinkResume(accepted, extension?.linkMessageTypes);
}

/**
 * A link opened: with the session exchange done on it, the session runs there and the resend
 * starts; without (the peer does not resume), a session this socket had is lost.
 * @returns how many messages are resent (-1 without a session on this link).
 */
export function sessionOnOpen(host: ExchangeHost, internals: SocketInternals, socket: LinkSocket, link: Link): number {
  const resume = link.resume;
  const session = internals.outbox(socket).session;
  if (session === undefined) return -1;
  if (resume?.counts === undefined) {
    if (session.established) host.lost(socket, { reason: 'unknown', unsent: session.forget() });
    return -1;
  }
  const resent = Math.max(0, session.window.lastSeq - resume.counts.received);
  session.attach(link.framed, resume.counts);
  resume.live = session;
  if (resume.resumed) internals.extension(socket)?.onLinkResumed?.(socket);
  return resent;
}

/** end() on a link carrying the session: acknowledge, then SESSION_END, so the peer forgets it now. */
export function endSession(link: Link | undefined): void {
  const session = link?.resume?.live;
  if (session === undefined) return;
  session.flushAck();
  if (link!.writable) link!.framed.send(SESSION_END_MESSAGE);
}

/** A server socket's link dropped while its session lives: it waits `ttlMs` for the client (no `close`). */
export function sessionDetached(socket: LinkSocket, server: AcceptingServer, session: Session, error: Error | undefined): void {
  server.sessions!.detach(session.id);
  publishDisconnect(socket, true, error, true);
  socket.emit('disconnect', error);
}

/** The socket closed for good: its session is over (the server forgets it) and the window is dropped. */
export function sessionClosed(socket: object, server: AcceptingServer | undefined, outbox: Outbox, error: Error | undefined): void {
  const session = outbox.session;
  if (server !== undefined && session?.established === true) server.sessions?.forget(session.id);
  server?.socketClosed(socket);
  outbox.clear(error ?? new ConnectionClosedError('the socket closed'));
}

/** Builds the exchange host of every socket. */
export function createExchangeHost(internals: SocketInternals): ExchangeHost {
  return {
    session: (socket) => internals.outbox(socket).session!,
    owner: (socket) => internals.extension(socket)?.sessionOwner?.(socket as LinkSocket),
    store: (socket) => internals.server(socket)!.sessions!,
    acceptTimeoutMs: (socket) => internals.connectTimeoutMs(socket) ?? DEFAULT_CONNECT_TIMEOUT_MS,
    adopt: (target, from, counts) => {
      const socket = target as LinkSocket;
      // A link of ours the server has not seen die yet is replaced.
      internals.link(socket)?.drop(new ConnectionClosedError('the session resumed on a new link'));
      const framed: FramedSocket = from.release();
      internals.retire(from.socket);
      const session = internals.outbox(socket).session!;
      internals.server(socket)!.sessions!.attach(session.id);
      const extension = internals.extension(socket);
      const resume = new LinkResume(true, extension?.linkMessageTypes);
      resume.peerResumes = true;
      resume.nonce = from.resume!.nonce;
      resume.resumed = true;
      resume.counts = counts;
      const link = new Link(framed, socket, internals.linkHost, extension, {
        accepted: true,
        flowEvents: internals.flowEvents(socket),
        hello: undefined,
        resume,
        adopted: true,
      });
      internals.setLink(socket, link);
      link.openNow(true);
    },
    lost: (socket, info) => {
      internals.extension(socket)?.onSessionLost?.(socket as LinkSocket);
      (socket as LinkSocket).emit('sessionLost', info);
    },
    end: (socket, error) => (socket as LinkSocket).destroy(error),
  };
}
