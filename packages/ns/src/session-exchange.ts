// The opening exchange of a resumable session on one link (PROTOCOL.md, "Opening a link with resume
// on") and the session messages that follow it: SESSION_OPEN → SESSION_ACCEPT, ACK, SESSION_END.
// Sockets are reached through an ExchangeHost (implemented by NsSocket), so this file imports no socket.
import { ConnectionClosedError, ConnectTimeoutError, ProtocolError } from '@proto/framing';
import type { Link } from './link.js';
import type { Session } from './session.js';
import {
  decodeAck,
  decodeSessionAccept,
  decodeSessionOpen,
  encodeSessionAccept,
  lostReason,
  NO_SESSION,
  type SessionCounts,
  SessionMessageType,
  type SessionOpen,
  SessionResult,
} from './session-messages.js';
import type { SessionStore } from './session-store.js';
import type { NsSessionLostInfo } from './socket-events.js';

/** What the exchange needs of the sockets involved. One object for every socket (no closures per socket). */
export interface ExchangeHost {
  /** The session of a resume-enabled socket. */
  session(socket: object): Session;
  /** Server: the identity of the socket's link (its extension's `sessionOwner`). */
  owner(socket: object): Uint8Array | undefined;
  /** Server: the session store of the server that accepted the socket. */
  store(socket: object): SessionStore<object>;
  /** Client: the bound on the wait for SESSION_ACCEPT, in milliseconds (`connectTimeoutMs`; 0: none). */
  acceptTimeoutMs(socket: object): number;
  /** Server: moves `from`'s transport into `target` (the resumed session's socket) and opens it there. */
  adopt(target: object, from: Link, counts: SessionCounts): void;
  /** Client: the session was lost or ended (`sessionLost`). */
  lost(socket: object, info: NsSessionLostInfo): void;
  /** Server: a socket whose session cannot continue ends (for good). */
  end(socket: object, error: Error): void;
}

function acceptTimedOut(link: Link, timeoutMs: number): void {
  link.framed.destroy(new ConnectTimeoutError(`the server did not answer SESSION_OPEN within connectTimeoutMs (${String(timeoutMs)} ms)`));
}

/** Both sides resume and this side is ready to open: the client asks, the server answers (now or when asked). */
export function sessionReady(host: ExchangeHost, link: Link, inFrame: boolean): void {
  const resume = link.resume!;
  resume.ready = true;
  const socket = link.socket;
  if (!resume.accepted) {
    link.framed.send(host.session(socket).openMessage(resume.nonce!));
    const timeoutMs = host.acceptTimeoutMs(socket);
    if (timeoutMs > 0) resume.timer = setTimeout(acceptTimedOut, timeoutMs, link, timeoutMs);
    return;
  }
  const pending = resume.pendingOpen;
  if (pending === undefined) return;
  resume.pendingOpen = undefined;
  serverOpen(host, link, decodeSessionOpen(pending), inFrame);
}

/**
 * A session message arrived on a link where both sides resume.
 * @throws ProtocolError for a message out of place or malformed.
 */
export function sessionMessage(host: ExchangeHost, link: Link, frame: Buffer): void {
  const resume = link.resume!;
  switch (frame[0]) {
    case SessionMessageType.ACK: {
      const live = resume.live;
      if (live === undefined) throw new ProtocolError('peer sent ACK outside a session');
      live.onAck(decodeAck(frame));
      return;
    }
    case SessionMessageType.SESSION_OPEN: {
      if (!resume.accepted || resume.pendingOpen !== undefined || resume.counts !== undefined) throw new ProtocolError('unexpected SESSION_OPEN');
      if (resume.ready) serverOpen(host, link, decodeSessionOpen(frame), true);
      else resume.pendingOpen = Buffer.from(frame);
      return;
    }
    case SessionMessageType.SESSION_ACCEPT:
      if (resume.accepted || !resume.ready || resume.counts !== undefined) throw new ProtocolError('unexpected SESSION_ACCEPT');
      clientAccept(host, link, frame);
      return;
    default: {
      if (resume.peerEnded || resume.counts === undefined) throw new ProtocolError('unexpected SESSION_END');
      resume.peerEnded = true;
      const socket = link.socket;
      const session = host.session(socket);
      resume.live = undefined;
      if (resume.accepted) {
        host.store(socket).forget(session.id);
        session.forget();
      } else host.lost(socket, { reason: 'ended', unsent: session.forget() });
    }
  }
}

function clientAccept(host: ExchangeHost, link: Link, frame: Buffer): void {
  const resume = link.resume!;
  if (resume.timer !== undefined) clearTimeout(resume.timer);
  resume.timer = undefined;
  const accept = decodeSessionAccept(frame);
  const socket = link.socket;
  const session = host.session(socket);
  if (accept.result === SessionResult.RESUMED) {
    if (!session.established || !accept.sessionId.equals(session.id)) throw new ProtocolError('the server resumed a session this client did not ask for');
    if (!session.fits(accept.received)) throw new ProtocolError(`the server says it received ${String(accept.received)} messages; fewer were sent`);
    session.secret = accept.secret;
    resume.resumed = true;
    resume.counts = accept;
  } else {
    const had = session.established;
    const unsent = session.renew(accept.sessionId, accept.secret);
    if (had) host.lost(socket, { reason: accept.result === SessionResult.NEW ? 'unknown' : lostReason(accept.result), unsent });
    resume.counts = { received: 0, maxMessages: accept.maxMessages, maxBytes: accept.maxBytes };
  }
  link.openNow(true);
}

function serverOpen(host: ExchangeHost, link: Link, open: SessionOpen, inFrame: boolean): void {
  const resume = link.resume!;
  const socket = link.socket;
  const store = host.store(socket);
  const owner = host.owner(socket);
  if (open.sessionId.equals(NO_SESSION)) {
    newSession(host, link, SessionResult.NEW, open, owner, inFrame);
    return;
  }
  const found = store.lookup({ id: open.sessionId, proof: open.proof, nonce: resume.nonce!, owner });
  if (found.status !== 'found') {
    newSession(host, link, found.status === 'expired' ? SessionResult.EXPIRED : SessionResult.UNKNOWN, open, owner, inFrame);
    return;
  }
  const target = found.value;
  const session = host.session(target);
  if (!session.fits(open.received)) {
    host.end(target, new ConnectionClosedError('the client could not continue the session (its count did not fit)'));
    newSession(host, link, SessionResult.INVALID, open, owner, inFrame);
    return;
  }
  const keys = store.rotate(open.sessionId)!;
  link.framed.send(encodeSessionAccept({ result: SessionResult.RESUMED, sessionId: keys.id, secret: keys.secret, ...session.counts() }));
  host.adopt(target, link, open);
}

function newSession(host: ExchangeHost, link: Link, result: SessionResult, open: SessionOpen, owner: Uint8Array | undefined, inFrame: boolean): void {
  const socket = link.socket;
  const keys = host.store(socket).create(socket, owner);
  const session = host.session(socket);
  session.renew(keys.id, keys.secret);
  link.framed.send(encodeSessionAccept({ result, sessionId: keys.id, secret: keys.secret, ...session.counts() }));
  link.resume!.counts = { received: 0, maxMessages: open.maxMessages, maxBytes: open.maxBytes };
  link.openNow(inFrame);
}
